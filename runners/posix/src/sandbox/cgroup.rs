//! A fresh `pids` cgroup per sandbox: the process limit that also holds when the host runs as
//! root (the kernel does not apply `RLIMIT_NPROC` to uid 0, and the guest maps to the host's uid).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A pids cgroup made for one run; removed on drop (after its processes have drained).
#[derive(Debug)]
pub(crate) struct PidsCgroup {
    dir: PathBuf,
}

impl PidsCgroup {
    /// The `cgroup.procs` file a process writes `0` to, to join.
    pub(crate) fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// Makes `<own pids cgroup>/webc-host-<pid>-<n>` with `pids.max = max`, on cgroup v1 (a
    /// `pids` hierarchy) or v2 (the `pids` controller enabled for our cgroup's children).
    pub(crate) fn create(max: u64) -> Result<Self, String> {
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("reading /proc/self/cgroup: {e}"))?;
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("reading /proc/self/mountinfo: {e}"))?;
        let name = format!(
            "webc-host-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut tried = Vec::new();
        // cgroup v1: a hierarchy with the pids controller.
        let v1_path = own.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, ctrl, path) = (parts.next()?, parts.next()?, parts.next()?);
            ctrl.split(',').any(|c| c == "pids").then_some(path)
        });
        let v1_mount = mount_point(&mountinfo, |fstype, opts| {
            fstype == "cgroup" && opts.split(',').any(|o| o == "pids")
        });
        if let (Some(path), Some(mnt)) = (v1_path, v1_mount) {
            let parent = mnt.join(path.trim_start_matches('/'));
            match Self::make(&parent, &name, max) {
                Ok(cg) => return Ok(cg),
                Err(e) => tried.push(e),
            }
        }
        // cgroup v2.
        let v2_path = own.lines().find_map(|l| l.strip_prefix("0::"));
        let v2_mount = mount_point(&mountinfo, |fstype, _| fstype == "cgroup2");
        if let (Some(path), Some(mnt)) = (v2_path, v2_mount) {
            let parent = mnt.join(path.trim_start_matches('/'));
            let enabled =
                std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
            if enabled.split_whitespace().any(|c| c == "pids") {
                match Self::make(&parent, &name, max) {
                    Ok(cg) => return Ok(cg),
                    Err(e) => tried.push(e),
                }
            } else {
                tried.push(format!(
                    "the pids controller is not enabled in {}",
                    parent.join("cgroup.subtree_control").display()
                ));
            }
        }
        if tried.is_empty() {
            tried.push("no pids cgroup hierarchy is mounted".to_owned());
        }
        Err(tried.join("; "))
    }

    fn make(parent: &Path, name: &str, max: u64) -> Result<Self, String> {
        remove_orphans(parent);
        let dir = parent.join(name);
        std::fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let cg = PidsCgroup { dir };
        let max_file = cg.dir.join("pids.max");
        std::fs::write(&max_file, format!("{max}\n"))
            .map_err(|e| format!("writing {}: {e}", max_file.display()))?;
        Ok(cg)
    }
}

/// Removes the empty cgroups of earlier hosts that died without removing theirs
/// (`webc-host-<pid>-<n>` whose `<pid>` no longer runs; `kill -9` skips every destructor).
/// A cgroup that still holds processes cannot be removed and is left alone.
fn remove_orphans(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("webc-host-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

/// The mount point of the first mount whose file system type and super options match.
fn mount_point(mountinfo: &str, want: impl Fn(&str, &str) -> bool) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut right = right.split_whitespace();
        let fstype = right.next()?;
        let _source = right.next()?;
        let opts = right.next().unwrap_or("");
        if !want(fstype, opts) {
            return None;
        }
        let mnt = left.split_whitespace().nth(4)?;
        Some(PathBuf::from(mnt.replace("\\040", " ")))
    })
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        // The namespace's processes are being killed; their exit may take a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => return,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(e) if Instant::now() >= deadline => {
                    tracing::warn!(dir = %self.dir.display(), error = %e, "could not remove the sandbox's pids cgroup");
                    return;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}
