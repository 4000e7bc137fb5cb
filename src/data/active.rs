//! Active data connections (PORT, EPRT; issue #5).
