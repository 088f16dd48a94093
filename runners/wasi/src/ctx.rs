//! Per-run state kept in the wasmtime `Store`: the descriptor table, args, env, stdio, the
//! file-system handle, clocks and limits.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::time::Instant;

use wasmtime::Memory;
use webc_runner_api::fs::{FileSystem, Handle};

use crate::errno::{Errno, WasiResult};
use crate::limits::Limiter;

/// What a WASI file descriptor refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Desc {
    Stdin,
    Stdout,
    Stderr,
    /// A non-directory opened through the file system.
    File {
        handle: Handle,
        /// `fdflags::nonblock` as last set (recorded only: reads and writes block, as in
        /// wasmtime-wasi).
        nonblock: bool,
    },
    /// A directory; `preopen` is its name when the program started with it; `root` when it
    /// is the namespace root `/`, which has nothing above it (`..` there stays there, as in
    /// POSIX), while `..` may never climb above any other directory descriptor.
    Dir {
        handle: Handle,
        preopen: Option<String>,
        root: bool,
    },
}

impl Desc {
    /// The file-system handle, if any (not for stdio).
    pub(crate) fn handle(&self) -> Option<Handle> {
        match self {
            Desc::File { handle, .. } | Desc::Dir { handle, .. } => Some(*handle),
            _ => None,
        }
    }
}

/// Descriptors a program may hold at once unless the `max-fds` runner option says otherwise
/// (stdio and the preopens included, as `RLIMIT_NOFILE` counts them; Linux's default soft
/// limit).
pub(crate) const DEFAULT_MAX_FDS: u32 = 1024;

/// The descriptor table. Numbers are assigned as wasmtime-wasi's preview1 adapter assigns
/// them: the highest previously freed number first, else one past the highest in use. At
/// most `max` descriptors are open at once: one more is `EMFILE` for the program, so a
/// guest cannot use up the host's own descriptors (a file of a granted host directory holds
/// one) and make the host fail.
#[derive(Debug)]
pub(crate) struct FdTable {
    used: BTreeMap<u32, Desc>,
    free: BTreeSet<u32>,
    max: usize,
}

impl Default for FdTable {
    fn default() -> FdTable {
        FdTable::with_max(DEFAULT_MAX_FDS)
    }
}

impl FdTable {
    /// An empty table holding at most `max` descriptors.
    pub(crate) fn with_max(max: u32) -> FdTable {
        FdTable {
            used: BTreeMap::new(),
            free: BTreeSet::new(),
            max: usize::try_from(max).unwrap_or(usize::MAX),
        }
    }

    /// No descriptor can be added (`push` would fail with `EMFILE`).
    pub(crate) fn is_full(&self) -> bool {
        self.used.len() >= self.max
    }

    pub(crate) fn get(&self, fd: u32) -> WasiResult<&Desc> {
        self.used.get(&fd).ok_or(Errno::BADF)
    }

    pub(crate) fn get_mut(&mut self, fd: u32) -> WasiResult<&mut Desc> {
        self.used.get_mut(&fd).ok_or(Errno::BADF)
    }

    pub(crate) fn contains(&self, fd: u32) -> bool {
        self.used.contains_key(&fd)
    }

    pub(crate) fn push(&mut self, desc: Desc) -> WasiResult<u32> {
        if self.is_full() {
            return Err(Errno::MFILE);
        }
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => match self.used.last_key_value() {
                Some((&last, _)) => last.checked_add(1).ok_or(Errno::NOMEM)?,
                None => 0,
            },
        };
        self.used.insert(fd, desc);
        Ok(fd)
    }

    pub(crate) fn remove(&mut self, fd: u32) -> WasiResult<Desc> {
        let desc = self.used.remove(&fd).ok_or(Errno::BADF)?;
        self.free.insert(fd);
        Ok(desc)
    }

    /// Moves `from` to `to` (which must be free of any descriptor: the caller closed it).
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> WasiResult<()> {
        if self.used.contains_key(&to) {
            return Err(Errno::BADF);
        }
        let desc = self.used.remove(&from).ok_or(Errno::BADF)?;
        self.free.insert(from);
        self.free.remove(&to);
        self.used.insert(to, desc);
        Ok(())
    }

    /// Removes every descriptor, returning the file-system handles still open.
    pub(crate) fn drain_handles(&mut self) -> Vec<Handle> {
        let handles = self.used.values().filter_map(Desc::handle).collect();
        self.used.clear();
        self.free.clear();
        handles
    }

    /// Descriptors open.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.used.len()
    }
}

/// The job's borrowed resources with their lifetime erased (see `exec::erase`).
pub(crate) struct JobIo {
    pub(crate) fs: &'static dyn FileSystem,
    pub(crate) stdin: &'static mut (dyn Read + Send),
    pub(crate) stdout: &'static mut (dyn Write + Send),
    pub(crate) stderr: &'static mut (dyn Write + Send),
}

impl std::fmt::Debug for JobIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobIo").finish_non_exhaustive()
    }
}

/// The store data of one run.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) io: JobIo,
    /// argv, each without its NUL.
    pub(crate) args: Vec<String>,
    /// environ entries `KEY=VALUE`, each without its NUL.
    pub(crate) env: Vec<String>,
    pub(crate) fds: FdTable,
    /// The exported memory, once instantiated.
    pub(crate) memory: Option<Memory>,
    pub(crate) limiter: Limiter,
    /// Wall-clock deadline of the run (time limit), if any.
    pub(crate) deadline: Option<Instant>,
    /// Origin of the monotonic clock the guest sees.
    pub(crate) clock_base: Instant,
    /// The run thread's CPU time when the run started (for the CPU-time clocks).
    pub(crate) cpu_base: u64,
    /// A stdio stream reported the run's time limit (`ErrorKind::TimedOut`): the call in
    /// progress ends the run as a timeout instead of returning an errno.
    pub(crate) timed_out: bool,
}

impl Ctx {
    pub(crate) fn fs(&self) -> &'static dyn FileSystem {
        self.io.fs
    }

    /// Whether the run is out of time: a stdio stream reported the limit, or the deadline
    /// has passed.
    pub(crate) fn out_of_time(&self) -> bool {
        self.timed_out || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The file-system handle behind `fd` if it is a regular (non-directory) file; `BADF`
    /// otherwise, as wasmtime-wasi answers for stdio and directories.
    pub(crate) fn file(&self, fd: u32) -> WasiResult<Handle> {
        match self.fds.get(fd)? {
            Desc::File { handle, .. } => Ok(*handle),
            _ => Err(Errno::BADF),
        }
    }

    /// The handle behind a directory descriptor (`BADF` for anything else).
    pub(crate) fn dir(&self, fd: u32) -> WasiResult<Handle> {
        match self.fds.get(fd)? {
            Desc::Dir { handle, .. } => Ok(*handle),
            _ => Err(Errno::BADF),
        }
    }

    /// The directory behind `fd`, to resolve the relative `path` against: `EPERM` when
    /// the path's `..` would climb above it (see [`confined`]).
    pub(crate) fn dir_at(&self, fd: u32, path: &str) -> WasiResult<Handle> {
        match self.fds.get(fd)? {
            Desc::Dir { handle, root, .. } => {
                confined(path, *root)?;
                Ok(*handle)
            }
            _ => Err(Errno::BADF),
        }
    }

    /// The handle behind a file or directory descriptor (`BADF` for stdio).
    pub(crate) fn handle(&self, fd: u32) -> WasiResult<Handle> {
        self.fds.get(fd)?.handle().ok_or(Errno::BADF)
    }

    /// Closes every file-system handle the program still holds.
    pub(crate) fn close_all(&mut self) {
        let fs = self.io.fs;
        for h in self.fds.drain_handles() {
            let _ = fs.close(h);
        }
    }
}

/// A path resolved relative to a directory descriptor never climbs above that descriptor:
/// as in wasmtime-wasi 48 (cap-std), a relative path one of whose `..` would leave it —
/// even to come back in (`../dir/x`), even to a file that exists — is refused with `EPERM`
/// before anything is looked up, whatever the call. The namespace root (`root`) has nothing
/// above it: its `..` is itself, as in POSIX. Absolute paths are the file system's to refuse
/// (`ENOTCAPABLE`). The check is lexical: a symlink's target is confined by the file system.
pub(crate) fn confined(path: &str, root: bool) -> WasiResult<()> {
    if root || path.starts_with('/') {
        return Ok(());
    }
    let mut depth = 0usize;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => depth = depth.checked_sub(1).ok_or(Errno::PERM)?,
            _ => depth += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_matches_wasmtime_wasi() {
        let mut t = FdTable::default();
        for d in [Desc::Stdin, Desc::Stdout, Desc::Stderr] {
            t.push(d).unwrap();
        }
        let f = |h| Desc::File {
            handle: Handle(h),
            nonblock: false,
        };
        assert_eq!(t.push(f(1)).unwrap(), 3);
        assert_eq!(t.push(f(2)).unwrap(), 4);
        assert_eq!(t.push(f(3)).unwrap(), 5);
        t.remove(3).unwrap();
        t.remove(4).unwrap();
        // The highest freed number is reused first.
        assert_eq!(t.push(f(4)).unwrap(), 4);
        assert_eq!(t.push(f(5)).unwrap(), 3);
        assert_eq!(t.push(f(6)).unwrap(), 6);
        t.renumber(6, 1).unwrap_err();
        t.remove(1).unwrap();
        t.renumber(6, 1).unwrap();
        assert_eq!(t.get(1).unwrap(), &f(6));
        assert_eq!(t.get(6), Err(Errno::BADF));
        assert_eq!(t.push(f(7)).unwrap(), 6);
        assert_eq!(t.remove(42), Err(Errno::BADF));
    }

    #[test]
    fn the_table_holds_at_most_max_descriptors() {
        let mut t = FdTable::with_max(4);
        for d in [Desc::Stdin, Desc::Stdout, Desc::Stderr] {
            t.push(d).unwrap();
        }
        let f = |h| Desc::File {
            handle: Handle(h),
            nonblock: false,
        };
        assert!(!t.is_full());
        assert_eq!(t.push(f(1)).unwrap(), 3);
        assert!(t.is_full());
        assert_eq!(t.push(f(2)), Err(Errno::MFILE));
        assert_eq!(t.len(), 4);
        t.remove(3).unwrap();
        assert_eq!(t.push(f(3)).unwrap(), 3);
        assert_eq!(FdTable::default().max, DEFAULT_MAX_FDS as usize);
    }
}
