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
            // The owner may still be writing into a directory while it is removed (the
            // signal arrived mid-work), so a removal can meet entries created after it
            // listed the directory: try again until it is gone, for a bounded time. Once
            // its parents are gone the owner's next write fails, so this converges.
            for _ in 0..200 {
                match std::fs::symlink_metadata(p) {
                    Ok(m) if m.is_dir() => {
                        let _ = std::fs::remove_dir_all(p);
                    }
                    Ok(_) => {
                        let _ = std::fs::remove_file(p);
                    }
                    Err(_) => break,
                }
                if std::fs::symlink_metadata(p).is_err() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
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

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Removes every registered temporary (best effort: errors are ignored, the process is
/// about to end), after marking the process as [`interrupted`]. Returns how many paths were
/// registered.
pub fn remove_all() -> usize {
    INTERRUPTED.store(true, Ordering::SeqCst);
    REGISTERED.remove_all()
}

/// Whether [`remove_all`] was called: the process is ending because of a signal, so work
/// that fails now (its staging directory vanished) should not report that failure or exit
/// on its own — the signal decides how the process ends.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
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
