//! The pid file named by --pid-file, removed when the daemon stops.

use std::io::Write;
use std::path::{Path, PathBuf};

pub struct PidFile {
    path: PathBuf,
    owner: i32,
}

impl PidFile {
    pub fn create(path: &Path, pid: i32) -> std::io::Result<PidFile> {
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            writeln!(f, "{pid}")?;
        }
        std::fs::rename(&tmp, path)?;
        Ok(PidFile {
            path: path.to_path_buf(),
            owner: pid,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Forked sessions inherit this value but must never remove the listener's file.
        if crate::sys::process::getpid() == self.owner {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
