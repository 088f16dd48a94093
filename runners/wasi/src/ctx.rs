//! Per-run state kept in the wasmtime `Store`: the descriptor table, args, env, stdio, the
//! file-system handle, clocks and limits (`Ctx`, the WASI runner's own store data), and
//! its public face for other runners (`WasiCtx`, built by `WasiCtxBuilder`).
//!
//! The job's file system and stdio are borrowed for the job (`Job<'a>`) but a wasmtime
//! store's data must be `'static`, so their lifetime is erased, in one place ([`with_io`]):
//! see there for why that is sound.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::rc::Rc;
use std::time::Instant;

use wasmtime::Memory;
use webc_runner_api::fs::{FileSystem, Handle};
use webc_runner_api::{Job, JobSpec};

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
pub const DEFAULT_MAX_FDS: u32 = 1024;

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

    /// Puts `desc` at the lowest free number at least `min` (POSIX `dup`, `F_DUPFD`).
    pub(crate) fn push_at_least(&mut self, desc: Desc, min: u32) -> WasiResult<u32> {
        if self.is_full() {
            return Err(Errno::MFILE);
        }
        let mut fd = min;
        while self.used.contains_key(&fd) {
            fd = fd.checked_add(1).ok_or(Errno::MFILE)?;
        }
        self.insert_free(fd, desc);
        Ok(fd)
    }

    /// Puts `desc` at `fd`, which must be free (`BADF` otherwise: the caller closed it).
    pub(crate) fn push_at(&mut self, fd: u32, desc: Desc) -> WasiResult<()> {
        if self.used.contains_key(&fd) {
            return Err(Errno::BADF);
        }
        if self.is_full() {
            return Err(Errno::MFILE);
        }
        self.insert_free(fd, desc);
        Ok(())
    }

    /// Inserts at the free number `fd`; the numbers skipped between the highest in use and
    /// `fd` become free ones, so `push` numbers as if they had been used and closed.
    fn insert_free(&mut self, fd: u32, desc: Desc) {
        let next = self
            .used
            .last_key_value()
            .map_or(0, |(&last, _)| last.saturating_add(1));
        self.free.extend(next..fd);
        self.free.remove(&fd);
        self.used.insert(fd, desc);
    }

    /// The lowest descriptor for which `pred` holds.
    pub(crate) fn find(&self, pred: impl Fn(&Desc) -> bool) -> Option<u32> {
        self.used.iter().find(|(_, d)| pred(d)).map(|(&fd, _)| fd)
    }

    /// Whether a descriptor other than any removed one still refers to `handle` (a
    /// duplicate shares its open file description).
    pub(crate) fn shares(&self, handle: Handle) -> bool {
        self.used.values().any(|d| d.handle() == Some(handle))
    }

    /// Removes every descriptor, returning the file-system handles still open (each once,
    /// however many duplicates referred to it).
    pub(crate) fn drain_handles(&mut self) -> Vec<Handle> {
        let mut handles: Vec<Handle> = self.used.values().filter_map(Desc::handle).collect();
        handles.sort_by_key(|h| h.0);
        handles.dedup();
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

/// A job's file system and standard streams, as the host lends them for one run
/// ([`JobIo::from_job`] splits them off a [`Job`]). [`WasiCtxBuilder::run`](crate::WasiCtxBuilder::run) takes them.
pub struct JobIo<'a> {
    /// The program's file system.
    pub fs: &'a dyn FileSystem,
    /// Standard input (fd 0).
    pub stdin: &'a mut (dyn Read + Send),
    /// Standard output (fd 1).
    pub stdout: &'a mut (dyn Write + Send),
    /// Standard error (fd 2).
    pub stderr: &'a mut (dyn Write + Send),
}

impl<'a> JobIo<'a> {
    /// Splits a job into its spec, its atom's bytes and its I/O.
    pub fn from_job(job: Job<'a>) -> (JobSpec, &'a [u8], JobIo<'a>) {
        let Job {
            spec,
            atom,
            fs,
            stdin,
            stdout,
            stderr,
            host: _,
        } = job;
        let io = JobIo {
            fs,
            stdin,
            stdout,
            stderr,
        };
        (spec, atom, io)
    }
}

impl std::fmt::Debug for JobIo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobIo").finish_non_exhaustive()
    }
}

/// Whether the [`with_io`] scope that erased a [`JobIo`]'s lifetime is still running. Not
/// `Send` (an `Rc`): what holds one stays on the scope's thread.
#[derive(Debug, Clone)]
pub(crate) struct Live(Rc<Cell<bool>>);

impl Live {
    pub(crate) fn get(&self) -> bool {
        self.0.get()
    }
}

/// Marks the scope ended when dropped (on return and on unwinding).
struct Revoke(Live);

impl Drop for Revoke {
    fn drop(&mut self) {
        self.0.0.set(false);
    }
}

/// Runs `f` with `io`'s lifetime erased, so it can live in a wasmtime `Store` (whose data
/// must be `'static`). The one place the lifetime is erased.
///
/// Sound because the erased references are only ever used while this call runs, by either
/// of the two holders `f` may move them into:
/// - the WASI runner's own [`Ctx`], in a `Store` that is a local of `exec::run_module`,
///   dropped before it returns (on unwinding too); no value that could hold the references
///   outlives that store (the engine and linker are process-wide but their host functions
///   capture only `Copy` data and reach the context through the store; the epoch callback
///   captures an `Instant`);
/// - a public [`WasiCtx`], which may escape `f` (it is `'static`), but carries the [`Live`]
///   flag returned here and checks it before every use of the references (host calls and
///   its own methods); the flag turns false when this function returns or unwinds, and
///   `Live` is not `Send`, so a `WasiCtx` never leaves this thread: no use can be in
///   progress when the scope ends (every frame using it sits above this one), and every
///   later use finds the flag false and fails instead.
///
/// `io` is moved in, so the caller cannot use the references meanwhile.
pub(crate) fn with_io<'a, R>(io: JobIo<'a>, f: impl FnOnce(JobIo<'static>, Live) -> R) -> R {
    let live = Live(Rc::new(Cell::new(true)));
    let _revoke = Revoke(live.clone());
    let JobIo {
        fs,
        stdin,
        stdout,
        stderr,
    } = io;
    // SAFETY: only the lifetimes change (same fat-pointer layout); the references are used
    // only while this call runs, as the function's documentation argues.
    let io = unsafe {
        JobIo {
            fs: std::mem::transmute::<&'a (dyn FileSystem + 'a), &'static (dyn FileSystem + 'static)>(
                fs,
            ),
            stdin: std::mem::transmute::<
                &'a mut (dyn Read + Send + 'a),
                &'static mut (dyn Read + Send + 'static),
            >(stdin),
            stdout: std::mem::transmute::<
                &'a mut (dyn Write + Send + 'a),
                &'static mut (dyn Write + Send + 'static),
            >(stdout),
            stderr: std::mem::transmute::<
                &'a mut (dyn Write + Send + 'a),
                &'static mut (dyn Write + Send + 'static),
            >(stderr),
        }
    };
    f(io, live)
}

/// The store data of one run.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) io: JobIo<'static>,
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

    /// Closes `fd`; its file-system handle is closed with the last descriptor referring
    /// to it (duplicates share one).
    pub(crate) fn close_fd(&mut self, fd: u32) -> WasiResult<()> {
        match self.fds.remove(fd)?.handle() {
            Some(h) if !self.fds.shares(h) => Ok(self.fs().close(h)?),
            _ => Ok(()),
        }
    }

    /// A new descriptor for what `fd` refers to (the same open file description: offset,
    /// append mode), at the lowest free number at least `min`, or exactly at `to` (closing
    /// what was there first). A duplicated preopen is not a preopen.
    pub(crate) fn dup(&mut self, fd: u32, at: DupAt) -> WasiResult<u32> {
        let mut desc = self.fds.get(fd)?.clone();
        if let Desc::Dir { preopen, .. } = &mut desc {
            *preopen = None;
        }
        match at {
            DupAt::LowestFrom(min) => self.fds.push_at_least(desc, min),
            DupAt::Exactly(to) if to == fd => Ok(to),
            DupAt::Exactly(to) => {
                if self.fds.contains(to) {
                    self.close_fd(to)?;
                }
                self.fds.push_at(to, desc)?;
                Ok(to)
            }
        }
    }

    /// What `fd` is.
    pub(crate) fn kind(&self, fd: u32) -> WasiResult<FdKind> {
        Ok(match self.fds.get(fd)? {
            Desc::Stdin => FdKind::Stdin,
            Desc::Stdout => FdKind::Stdout,
            Desc::Stderr => FdKind::Stderr,
            Desc::File { .. } => FdKind::File,
            Desc::Dir { .. } => FdKind::Directory,
        })
    }

    /// Closes every file-system handle the program still holds.
    pub(crate) fn close_all(&mut self) {
        let fs = self.io.fs;
        for h in self.fds.drain_handles() {
            let _ = fs.close(h);
        }
    }
}

/// Where [`WasiCtx::dup`](crate::WasiCtx::dup) puts the new descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DupAt {
    /// The lowest free number at least this (`dup` is `LowestFrom(0)`, `fcntl(F_DUPFD, n)`
    /// is `LowestFrom(n)`).
    LowestFrom(u32),
    /// Exactly this number, closing the descriptor there first (`dup2`, `dup3`); the same
    /// number as the source is the source, unchanged.
    Exactly(u32),
}

/// What a descriptor refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    /// The job's stdin (fd 0 unless renumbered): a character device to the program.
    Stdin,
    /// The job's stdout.
    Stdout,
    /// The job's stderr.
    Stderr,
    /// A non-directory opened through the file system.
    File,
    /// A directory (the preopens included).
    Directory,
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
    fn duplicates_take_the_lowest_free_number_and_share_handles() {
        let mut t = FdTable::with_max(8);
        for d in [Desc::Stdin, Desc::Stdout, Desc::Stderr] {
            t.push(d).unwrap();
        }
        let f = |h| Desc::File {
            handle: Handle(h),
            nonblock: false,
        };
        assert_eq!(t.push(f(1)).unwrap(), 3);
        assert_eq!(t.push_at_least(f(1), 0).unwrap(), 4);
        assert_eq!(t.push_at_least(f(1), 6).unwrap(), 6);
        // 5 was skipped: it is free, and `push` (highest freed first) takes it.
        assert_eq!(t.push(f(2)).unwrap(), 5);
        assert_eq!(t.push(f(3)).unwrap(), 7);
        assert_eq!(t.push_at(7, f(4)), Err(Errno::BADF));
        assert_eq!(t.push_at(9, f(4)), Err(Errno::MFILE));
        t.remove(3).unwrap();
        assert!(t.shares(Handle(1)));
        t.remove(4).unwrap();
        t.remove(6).unwrap();
        assert!(!t.shares(Handle(1)));
        assert_eq!(t.push_at(10, f(4)), Ok(()));
        assert_eq!(t.find(|d| d == &f(4)), Some(10));
        let mut handles = t.drain_handles();
        handles.sort_by_key(|h| h.0);
        assert_eq!(handles, [Handle(2), Handle(3), Handle(4)]);
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
