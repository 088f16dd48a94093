//! The public WASI context: what another runner (Emscripten) puts in its own store data
//! beside its own state, to link WASI's imports with [`crate::add_to_linker`] and to act on
//! the same descriptor table from its own host functions.
//!
//! Every method is a thin wrapper over the function the WASI import of the same family
//! calls (in `wasi/fd.rs`, `wasi/path.rs` and `ctx.rs`), so the two can never disagree.

use webc_runner_api::fs::{DirEntry, Stat};
use webc_runner_api::{JobSpec, RunnerError};

use crate::annotations::WasiAnnotation;
use crate::ctx::{Ctx, Desc, DupAt, FdKind, FdTable, JobIo, Live, with_io};
use crate::errno::{Errno, WasiResult};
use crate::exec::{Options, argv, descriptors, environ};
use crate::limits::Limiter;
use crate::wasi::path::OpenRequest;

/// The descriptor of the working directory (preopen `.`) when the program starts: use it
/// for a path relative to the working directory (`AT_FDCWD`).
pub const CWD_FD: u32 = 3;
/// The descriptor of the namespace root (preopen `/`) when the program starts.
pub const ROOT_FD: u32 = 4;

/// A WASI program's context: args, environ, the descriptor table over the job's file
/// system (fds 0–2 the job's stdio, [`CWD_FD`] the working directory, [`ROOT_FD`] the
/// root, as the WASI runner sets them up), clocks, random, the memory limiter and the
/// time limit. Built only by [`WasiCtxBuilder::run`], inside the job's scope; it is not
/// `Send`. Once that scope has ended, every WASI call and method on it fails (host calls
/// trap, methods return `EIO`).
///
/// Paths given to the methods are relative to a directory descriptor, as the WASI calls
/// take them (the same checks: `..` may not climb above the descriptor, `EPERM`); an
/// absolute path is resolved under the root preopen instead, whatever the descriptor (as
/// POSIX `openat` ignores its descriptor for an absolute path).
#[derive(Debug)]
pub struct WasiCtx {
    ctx: Ctx,
    live: Live,
}

/// A descriptor's WASI `fdstat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdStat {
    /// WASI `filetype` (0 unknown, as stdio reports itself; 3 directory; 4 regular file; 7
    /// symbolic link).
    pub filetype: u8,
    /// WASI `fdflags` ([`crate::fdflags`]).
    pub flags: u16,
    /// Rights of the descriptor ([`crate::rights`]).
    pub rights_base: u64,
    /// Rights passed on to descriptors opened through it.
    pub rights_inheriting: u64,
}

/// Builds a [`WasiCtx`]: args, environ, working directory, descriptor cap and memory
/// limit. [`WasiCtxBuilder::for_job`] sets them exactly as the WASI runner does.
#[derive(Debug, Clone)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<String>,
    cwd: Option<String>,
    max_fds: u32,
    memory_limit: Option<u64>,
}

impl Default for WasiCtxBuilder {
    fn default() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    /// No args, no environ, working directory `/`, [`crate::DEFAULT_MAX_FDS`]
    /// descriptors, no memory limit.
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            max_fds: crate::ctx::DEFAULT_MAX_FDS,
            memory_limit: None,
        }
    }

    /// As the WASI runner sets up `spec`'s program: argv `[wasi.exec-name or the command,
    /// wasi.main-args…, args…]`, environ `wasi.env` then the granted variables, the
    /// working directory `wasi.cwd`, `max-fds` from `options` and the job's memory limit.
    ///
    /// # Errors
    ///
    /// [`RunnerError::InvalidJob`] when the command's `wasi` annotation is malformed.
    pub fn for_job(spec: &JobSpec, options: &Options) -> Result<WasiCtxBuilder, RunnerError> {
        let wasi = WasiAnnotation::parse(&spec.annotations)?;
        Ok(WasiCtxBuilder {
            args: argv(spec, &wasi),
            env: environ(spec, &wasi),
            cwd: wasi.cwd,
            max_fds: options.max_fds,
            memory_limit: spec.limits.memory,
        })
    }

    /// argv, `args[0]` being the program name.
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// environ entries, each `KEY=VALUE`.
    pub fn env(mut self, env: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.env = env.into_iter().map(Into::into).collect();
        self
    }

    /// The directory preopened as `.` ([`CWD_FD`]); `None` is `/`.
    pub fn cwd(mut self, cwd: Option<String>) -> Self {
        self.cwd = cwd;
        self
    }

    /// Most descriptors open at once, stdio and preopens included (at least 5).
    pub fn max_fds(mut self, max_fds: u32) -> Self {
        self.max_fds = max_fds;
        self
    }

    /// Byte budget for all memories and tables of the store (see [`crate::run_instance`]).
    pub fn memory_limit(mut self, limit: Option<u64>) -> Self {
        self.memory_limit = limit;
        self
    }

    /// The working directory set.
    pub(crate) fn cwd_path(&self) -> Option<&str> {
        self.cwd.as_deref()
    }

    /// The runner's own store data, over `io` (whose lifetime the caller erased) and the
    /// descriptors opened for it.
    pub(crate) fn build(self, io: JobIo<'static>, fds: FdTable) -> Ctx {
        Ctx {
            io,
            args: self.args,
            env: self.env,
            fds,
            memory: None,
            limiter: Limiter::new(self.memory_limit),
            deadline: None,
            clock_base: std::time::Instant::now(),
            cpu_base: crate::wasi::thread_cpu_nanos(),
            timed_out: false,
        }
    }

    /// Opens the descriptors over `io` (stdio, `.`, `/`) and runs `f` with the context;
    /// `f` typically puts it in its store data and calls [`crate::run_instance`], which
    /// flushes stdio and closes every descriptor at the end. The context works only while
    /// `f` runs.
    ///
    /// # Errors
    ///
    /// [`RunnerError::InvalidJob`] when the working directory does not exist or is not a
    /// directory; [`RunnerError::Other`] when the file system has no root preopen.
    pub fn run<R>(self, io: JobIo<'_>, f: impl FnOnce(WasiCtx) -> R) -> Result<R, RunnerError> {
        let mut opened = descriptors(io.fs, self.cwd_path(), self.max_fds)?;
        let fds = std::mem::take(&mut opened.fds);
        Ok(with_io(io, |io, live| {
            f(WasiCtx {
                ctx: self.build(io, fds),
                live,
            })
        }))
    }
}

impl WasiCtx {
    /// The context and whether its job is still running (host calls check it).
    pub(crate) fn parts(&mut self) -> (&mut Ctx, bool) {
        let live = self.live.get();
        (&mut self.ctx, live)
    }

    fn live(&mut self) -> WasiResult<&mut Ctx> {
        if self.live.get() {
            Ok(&mut self.ctx)
        } else {
            Err(Errno::IO)
        }
    }

    /// An absolute path goes under the root preopen, whatever `fd`.
    fn at<'p>(ctx: &Ctx, fd: u32, path: &'p str) -> WasiResult<(u32, &'p str)> {
        if !path.starts_with('/') {
            return Ok((fd, path));
        }
        let root = ctx
            .fds
            .find(|d| matches!(d, Desc::Dir { preopen: Some(name), .. } if name == "/"));
        let rel = path.trim_start_matches('/');
        Ok((
            root.ok_or(Errno::NOTCAPABLE)?,
            if rel.is_empty() { "." } else { rel },
        ))
    }

    /// Whether the run is out of time (the deadline passed, or a stdio stream reported
    /// it): a blocking import of another runner then fails with [`crate::TimedOut`].
    pub fn out_of_time(&self) -> bool {
        self.ctx.out_of_time()
    }

    /// argv.
    pub fn args(&self) -> &[String] {
        &self.ctx.args
    }

    /// environ (`KEY=VALUE` entries).
    pub fn env(&self) -> &[String] {
        &self.ctx.env
    }

    /// `path_open`: opens `path` relative to the directory `dirfd` with WASI
    /// `lookupflags`, `oflags`, rights and `fdflags`, exactly as the import does, and
    /// returns the new descriptor (which the guest may then use with every `fd_*` call).
    ///
    /// # Errors
    ///
    /// The errno `path_open` returns.
    #[allow(clippy::too_many_arguments, reason = "the WASI signature")]
    pub fn open(
        &mut self,
        dirfd: u32,
        path: &str,
        lookupflags: u32,
        oflags: u32,
        rights_base: u64,
        rights_inheriting: u64,
        fdflags: u32,
    ) -> WasiResult<u32> {
        let ctx = self.live()?;
        let req = OpenRequest::parse(lookupflags, oflags, rights_base, rights_inheriting, fdflags)?;
        let (dirfd, path) = Self::at(ctx, dirfd, path)?;
        let dir = ctx.open_dir_for(dirfd, path)?;
        ctx.open_at(dir, path, req)
    }

    /// `fd_close`.
    ///
    /// # Errors
    ///
    /// `EBADF` for a descriptor that is not open; the file system's error on closing.
    pub fn close(&mut self, fd: u32) -> WasiResult<()> {
        self.live()?.close_fd(fd)
    }

    /// A new descriptor for what `fd` refers to, sharing its open file description
    /// (`dup`, `dup3`, `fcntl(F_DUPFD)`); the file-system handle is closed with the last
    /// descriptor referring to it.
    ///
    /// # Errors
    ///
    /// `EBADF` for a descriptor that is not open; `EMFILE` when the table is full.
    pub fn dup(&mut self, fd: u32, at: DupAt) -> WasiResult<u32> {
        self.live()?.dup(fd, at)
    }

    /// What `fd` is.
    ///
    /// # Errors
    ///
    /// `EBADF` for a descriptor that is not open.
    pub fn kind(&mut self, fd: u32) -> WasiResult<FdKind> {
        self.live()?.kind(fd)
    }

    /// `fd_fdstat_get`.
    ///
    /// # Errors
    ///
    /// As `fd_fdstat_get`.
    pub fn fdstat(&mut self, fd: u32) -> WasiResult<FdStat> {
        self.live()?.fdstat(fd)
    }

    /// `fd_fdstat_set_flags` (`append` and `nonblock`; the `sync` family is `EINVAL`).
    ///
    /// # Errors
    ///
    /// As `fd_fdstat_set_flags`.
    pub fn set_fdflags(&mut self, fd: u32, flags: u16) -> WasiResult<()> {
        self.live()?.set_fdflags(fd, u32::from(flags))
    }

    /// `fd_filestat_get` (`fstat`).
    ///
    /// # Errors
    ///
    /// As `fd_filestat_get`.
    pub fn filestat(&mut self, fd: u32) -> WasiResult<Stat> {
        self.live()?.filestat(fd)
    }

    /// `path_filestat_get`: `stat` (`follow`) or `lstat`.
    ///
    /// # Errors
    ///
    /// As `path_filestat_get`.
    pub fn path_filestat(&mut self, dirfd: u32, path: &str, follow: bool) -> WasiResult<Stat> {
        let ctx = self.live()?;
        let (dirfd, path) = Self::at(ctx, dirfd, path)?;
        ctx.path_filestat(dirfd, path, follow)
    }

    /// Up to `max` entries of the directory `fd` from `cookie` (0 = the start; each entry's
    /// `next` continues after it), as `fd_readdir` lists them.
    ///
    /// # Errors
    ///
    /// As `fd_readdir`.
    pub fn readdir(&mut self, fd: u32, cookie: u64, max: usize) -> WasiResult<Vec<DirEntry>> {
        self.live()?.readdir(fd, cookie, max)
    }

    /// `path_create_directory`.
    ///
    /// # Errors
    ///
    /// As `path_create_directory`.
    pub fn create_directory(&mut self, dirfd: u32, path: &str) -> WasiResult<()> {
        let ctx = self.live()?;
        let (dirfd, path) = Self::at(ctx, dirfd, path)?;
        ctx.mkdir_at(dirfd, path)
    }

    /// `path_remove_directory`.
    ///
    /// # Errors
    ///
    /// As `path_remove_directory`.
    pub fn remove_directory(&mut self, dirfd: u32, path: &str) -> WasiResult<()> {
        let ctx = self.live()?;
        let (dirfd, path) = Self::at(ctx, dirfd, path)?;
        ctx.rmdir_at(dirfd, path)
    }

    /// `path_unlink_file`.
    ///
    /// # Errors
    ///
    /// As `path_unlink_file`.
    pub fn unlink_file(&mut self, dirfd: u32, path: &str) -> WasiResult<()> {
        let ctx = self.live()?;
        let (dirfd, path) = Self::at(ctx, dirfd, path)?;
        ctx.unlink_at(dirfd, path)
    }

    /// `path_rename`.
    ///
    /// # Errors
    ///
    /// As `path_rename`.
    pub fn rename(&mut self, fd: u32, old: &str, new_fd: u32, new: &str) -> WasiResult<()> {
        let ctx = self.live()?;
        let (fd, old) = Self::at(ctx, fd, old)?;
        let (new_fd, new) = Self::at(ctx, new_fd, new)?;
        ctx.rename_at(fd, old, new_fd, new)
    }

    /// `path_readlink`: the whole target.
    ///
    /// # Errors
    ///
    /// As `path_readlink`.
    pub fn readlink(&mut self, dirfd: u32, path: &str) -> WasiResult<String> {
        let ctx = self.live()?;
        let (dirfd, path) = Self::at(ctx, dirfd, path)?;
        ctx.readlink_at(dirfd, path)
    }

    /// `path_symlink`: a link at `path` to `target`.
    ///
    /// # Errors
    ///
    /// As `path_symlink`.
    pub fn symlink(&mut self, target: &str, dirfd: u32, path: &str) -> WasiResult<()> {
        let ctx = self.live()?;
        let (dirfd, path) = Self::at(ctx, dirfd, path)?;
        ctx.symlink_at(target, dirfd, path)
    }

    /// `path_link`: a hard link at `new` to `old`.
    ///
    /// # Errors
    ///
    /// As `path_link`.
    pub fn link(
        &mut self,
        old_fd: u32,
        old: &str,
        follow: bool,
        new_fd: u32,
        new: &str,
    ) -> WasiResult<()> {
        let ctx = self.live()?;
        let (old_fd, old) = Self::at(ctx, old_fd, old)?;
        let (new_fd, new) = Self::at(ctx, new_fd, new)?;
        ctx.link_at(old_fd, old, new_fd, new, follow)
    }
}
