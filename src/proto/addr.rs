//! PORT, EPRT and EPSV arguments (issue #5).
