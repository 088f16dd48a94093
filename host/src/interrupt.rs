//! Temporaries that must not outlive an interrupted process.
//!
//! Work that stages output on disk (extraction's `DEST/.webc-extract-*` directory, a
//! package being written) registers the path with [`Temporary::register`] for as long as it
//! exists. A program that handles `SIGINT`/`SIGTERM`/`SIGHUP` (the `webc-host` binary does)
//! calls [`remove_all`] before it lets the signal end the process, so Ctrl-C leaves nothing
//! half-made behind. (`kill -9` cannot be handled: staging directories are named so they are
//! recognisable, and nothing else the host writes is left in a state a reader would trust.)

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A list of registered paths.
struct List {
    paths: Mutex<Vec<(u64, PathBuf)>>,
    next: AtomicU64,
}

impl List {
    const fn new() -> List {
        List {
            paths: Mutex::new(Vec::new()),
            next: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, PathBuf)>> {
        // A panic while holding this lock leaves the list intact: keep using it.
        self.paths.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&'static self, path: PathBuf) -> Temporary {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, path));
        Temporary { id, list: self }
    }

    fn remove_all(&self) -> usize {
        let paths: Vec<PathBuf> = self.lock().drain(..).map(|(_, p)| p).collect();
        for p in &paths {
            match std::fs::symlink_metadata(p) {
                Ok(m) if m.is_dir() => {
                    let _ = std::fs::remove_dir_all(p);
                }
                Ok(_) => {
                    let _ = std::fs::remove_file(p);
                }
                Err(_) => {}
            }
        }
        paths.len()
    }
}

static REGISTERED: List = List::new();

/// A registered temporary path; unregistered when dropped (the owner removes the path
/// itself on success or failure, as before).
pub struct Temporary {
    id: u64,
    list: &'static List,
}

impl std::fmt::Debug for Temporary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Temporary").field("id", &self.id).finish()
    }
}

impl Temporary {
    /// Registers `path` (a file or a directory) for removal if the process is interrupted.
    pub fn register(path: impl Into<PathBuf>) -> Temporary {
        REGISTERED.register(path.into())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        self.list.lock().retain(|(id, _)| *id != self.id);
    }
}

/// Removes every registered temporary (best effort: errors are ignored, the process is
/// about to end). Returns how many paths were registered.
pub fn remove_all() -> usize {
    REGISTERED.remove_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_paths_are_removed_and_dropped_ones_are_not() {
        static LIST: List = List::new();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("staging");
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/f"), b"x").unwrap();
        let file = tmp.path().join("out.tmp");
        std::fs::write(&file, b"x").unwrap();
        let kept = tmp.path().join("kept");
        std::fs::write(&kept, b"x").unwrap();
        let _d = LIST.register(dir.clone());
        let _f = LIST.register(file.clone());
        drop(LIST.register(kept.clone()));
        assert_eq!(LIST.remove_all(), 2);
        assert!(!dir.exists());
        assert!(!file.exists());
        assert!(kept.exists());
        assert_eq!(LIST.remove_all(), 0);
    }
}
