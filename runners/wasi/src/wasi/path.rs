//! `path_*`: calls relative to a directory descriptor, resolved by the file-system handle
//! (which checks every permission and confines `..` and symlinks to the namespace). A path
//! whose `..` would climb above the descriptor it is relative to is `EPERM` before that
//! (`Ctx::dir_at`; the namespace root `/` has nothing above it), as in wasmtime-wasi 48.
//!
//! `path_open` maps as wasmtime-wasi 48 does: the `fd_read` right asks for reading and the
//! `fd_write` right for writing, a handle not opened for writing is always readable, and
//! `creat`/`trunc` imply writing; the `fd_write` right on a directory is `EISDIR` (with
//! `oflags::directory` or without); `fdflags::append` opens in append mode, `nonblock` is
//! recorded, and the `sync` family is refused with `ENOTSUP`; `oflags::directory` with
//! `creat`, `excl` or `trunc` is `EINVAL`. Paths must be UTF-8 (`EILSEQ`). A program that
//! already holds `max-fds` descriptors gets `EMFILE`, before the host opens anything.

use webc_runner_api::fs::{FileType, Handle, OpenOptions, Stat};

use super::fd::{set_times, write_filestat};
use super::{Abi, Defs, Get, fdflags, flags, func, rights, u};
use crate::ctx::{Ctx, Desc};
use crate::errno::{Errno, WasiResult};

/// `lookupflags::symlink_follow`.
fn follow(lookup: i32) -> WasiResult<bool> {
    Ok(flags(lookup, 1)? & 1 != 0)
}

const O_CREAT: u32 = 1;
const O_DIRECTORY: u32 = 2;
const O_EXCL: u32 = 4;
const O_TRUNC: u32 = 8;

/// The validated flags of a `path_open`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenRequest {
    follow: bool,
    oflags: u32,
    base: u64,
    fdflags: u32,
}

impl OpenRequest {
    /// Checks `path_open`'s flag arguments (each `EINVAL` when it has undefined bits), in
    /// the order the import checks them.
    pub(crate) fn parse(
        lookup: u32,
        oflags: u32,
        base: u64,
        inheriting: u64,
        fdfl: u32,
    ) -> WasiResult<OpenRequest> {
        let follow = follow(lookup as i32)?;
        let oflags = flags(oflags as i32, 0xf)?;
        if (base | inheriting) & !rights::ALL != 0 {
            return Err(Errno::INVAL);
        }
        let fdflags = flags(fdfl as i32, fdflags::ALL)?;
        Ok(OpenRequest {
            follow,
            oflags,
            base,
            fdflags,
        })
    }
}

impl Ctx {
    /// The directory `path_open` opens `path` in: `fd` must be a directory (`ENOTDIR` for
    /// a file, `EBADF` for stdio) that `path` does not climb above.
    pub(crate) fn open_dir_for(&self, fd: u32, path: &str) -> WasiResult<Handle> {
        match self.fds.get(fd)? {
            Desc::Dir { .. } => self.dir_at(fd, path),
            Desc::File { .. } => Err(Errno::NOTDIR),
            _ => Err(Errno::BADF),
        }
    }

    /// The rest of `path_open`, after the directory is found: opens `path` in `dir` and
    /// returns the new descriptor.
    pub(crate) fn open_at(&mut self, dir: Handle, path: &str, req: OpenRequest) -> WasiResult<u32> {
        let OpenRequest {
            follow,
            oflags,
            base,
            fdflags: fdfl,
        } = req;
        if fdfl & (fdflags::SYNC | fdflags::DSYNC | fdflags::RSYNC) != 0 {
            return Err(Errno::NOTSUP);
        }
        let directory = oflags & O_DIRECTORY != 0;
        if directory && oflags & (O_CREAT | O_EXCL | O_TRUNC) != 0 {
            return Err(Errno::INVAL);
        }
        let create = oflags & O_CREAT != 0;
        let truncate = oflags & O_TRUNC != 0;
        let want_write = base & rights::FD_WRITE != 0;
        let opts = OpenOptions {
            read: base & rights::FD_READ != 0 || !want_write,
            write: want_write || create || truncate,
            create,
            exclusive: create && oflags & O_EXCL != 0,
            truncate,
            directory,
            append: fdfl & fdflags::APPEND != 0,
            follow,
        };
        if self.fds.is_full() {
            // Refused before the host opens anything.
            return Err(Errno::MFILE);
        }
        let fs = self.fs();
        let handle = fs.open(dir, path, opts)?;
        let desc = match fs.handle_info(handle) {
            Ok(info) if info.filetype == Some(FileType::Directory) && want_write => {
                // A directory is never written through a descriptor (wasmtime-wasi 48).
                let _ = fs.close(handle);
                return Err(Errno::ISDIR);
            }
            Ok(info) if info.filetype == Some(FileType::Directory) => Desc::Dir {
                handle,
                preopen: None,
                root: false,
            },
            Ok(_) => Desc::File {
                handle,
                nonblock: fdfl & fdflags::NONBLOCK != 0,
            },
            Err(e) => {
                let _ = fs.close(handle);
                return Err(e.into());
            }
        };
        match self.fds.push(desc) {
            Ok(n) => Ok(n),
            Err(e) => {
                let _ = fs.close(handle);
                Err(e)
            }
        }
    }

    /// `path_filestat_get` once the path is read.
    pub(crate) fn path_filestat(&self, fd: u32, path: &str, follow: bool) -> WasiResult<Stat> {
        let dir = self.dir_at(fd, path)?;
        Ok(self.fs().stat(dir, path, follow)?)
    }

    /// `path_create_directory` once the path is read.
    pub(crate) fn mkdir_at(&self, fd: u32, path: &str) -> WasiResult<()> {
        let dir = self.dir_at(fd, path)?;
        Ok(self.fs().mkdir(dir, path)?)
    }

    /// `path_remove_directory` once the path is read.
    pub(crate) fn rmdir_at(&self, fd: u32, path: &str) -> WasiResult<()> {
        let dir = self.dir_at(fd, path)?;
        Ok(self.fs().rmdir(dir, path)?)
    }

    /// `path_unlink_file` once the path is read.
    pub(crate) fn unlink_at(&self, fd: u32, path: &str) -> WasiResult<()> {
        let dir = self.dir_at(fd, path)?;
        Ok(self.fs().unlink(dir, path)?)
    }

    /// `path_rename` once the paths are read.
    pub(crate) fn rename_at(&self, fd: u32, old: &str, new_fd: u32, new: &str) -> WasiResult<()> {
        let src = self.dir_at(fd, old)?;
        let dst = self.dir_at(new_fd, new)?;
        Ok(self.fs().rename(src, old, dst, new)?)
    }

    /// `path_link` once the paths are read (arguments in the file system's order).
    pub(crate) fn link_at(
        &self,
        old_fd: u32,
        old: &str,
        new_fd: u32,
        new: &str,
        follow: bool,
    ) -> WasiResult<()> {
        let src = self.dir_at(old_fd, old)?;
        let dst = self.dir_at(new_fd, new)?;
        Ok(self.fs().link(src, old, dst, new, follow)?)
    }

    /// `path_readlink` once the path is read: the whole target.
    pub(crate) fn readlink_at(&self, fd: u32, path: &str) -> WasiResult<String> {
        let dir = self.dir_at(fd, path)?;
        Ok(self.fs().readlink(dir, path)?)
    }

    /// `path_symlink` once the paths are read.
    pub(crate) fn symlink_at(&self, target: &str, fd: u32, path: &str) -> WasiResult<()> {
        let dir = self.dir_at(fd, path)?;
        symlink(self, target, dir, path)
    }
}

/// `path_symlink`. A new path ending in `/` names a directory, which a symlink cannot be,
/// so nothing is created: what is there decides the error, as wasmtime-wasi 48 answers —
/// nothing (or a dangling symlink) `ENOENT`, a directory `EEXIST`, anything else `ENOTDIR`.
fn symlink(ctx: &Ctx, target: &str, dir: Handle, path: &str) -> WasiResult<()> {
    let name = path.trim_end_matches('/');
    if name.len() == path.len() || name.is_empty() {
        return Ok(ctx.fs().symlink(target, dir, path)?);
    }
    let st = ctx.fs().stat(dir, name, true)?;
    Err(if st.filetype == Some(FileType::Directory) {
        Errno::EXIST
    } else {
        Errno::NOTDIR
    })
}

pub(super) fn add<T: 'static, G: Get<T>>(
    linker: &mut Defs<'_, T, G>,
    abi: Abi,
) -> wasmtime::Result<()> {
    func!(
        linker,
        abi,
        "path_create_directory",
        |ctx, mem, fd: i32, p: i32, pl: i32| {
            let path = mem.str(u(p), u(pl))?;
            ctx.mkdir_at(u(fd), path)
        }
    );
    func!(
        linker,
        abi,
        "path_filestat_get",
        |ctx, mem, fd: i32, lookup: i32, p: i32, pl: i32, ret: i32| {
            let follow = follow(lookup)?;
            let path = mem.str(u(p), u(pl))?;
            let st = ctx.path_filestat(u(fd), path, follow)?;
            write_filestat(abi, mem, u(ret), &st)
        }
    );
    func!(
        linker,
        abi,
        "path_filestat_set_times",
        |ctx, mem, fd: i32, lookup: i32, p: i32, pl: i32, atim: i64, mtim: i64, fst: i32| {
            let follow = follow(lookup)?;
            let (a, m) = set_times(atim, mtim, fst)?;
            let path = mem.str(u(p), u(pl))?;
            let dir = ctx.dir_at(u(fd), path)?;
            Ok(ctx.fs().set_times_at(dir, path, follow, a, m)?)
        }
    );
    func!(
        linker,
        abi,
        "path_link",
        |ctx, mem, old_fd: i32, lookup: i32, op: i32, opl: i32, new_fd: i32, np: i32, npl: i32| {
            let follow = follow(lookup)?;
            let old = mem.str(u(op), u(opl))?;
            let new = mem.str(u(np), u(npl))?;
            ctx.link_at(u(old_fd), old, u(new_fd), new, follow)
        }
    );
    func!(
        linker,
        abi,
        "path_open",
        |ctx,
         mem,
         fd: i32,
         dirflags: i32,
         p: i32,
         pl: i32,
         oflags: i32,
         base: i64,
         inheriting: i64,
         fdfl: i32,
         ret: i32| {
            let req = OpenRequest::parse(
                u(dirflags),
                u(oflags),
                base as u64,
                inheriting as u64,
                u(fdfl),
            )?;
            let path = mem.str(u(p), u(pl))?;
            let dir = ctx.open_dir_for(u(fd), path)?;
            mem.range(u(ret), 4)?;
            let new_fd = ctx.open_at(dir, path, req)?;
            mem.write_u32(u(ret), new_fd)
        }
    );
    func!(
        linker,
        abi,
        "path_readlink",
        |ctx, mem, fd: i32, p: i32, pl: i32, buf: i32, len: i32, ret: i32| {
            let path = mem.str(u(p), u(pl))?;
            let target = ctx.readlink_at(u(fd), path)?;
            let bytes = target.as_bytes();
            let n = bytes.len().min(u(len) as usize);
            mem.range(u(ret), 4)?;
            mem.write(u(buf), &bytes[..n])?;
            mem.write_u32(u(ret), u32::try_from(n)?)
        }
    );
    func!(
        linker,
        abi,
        "path_remove_directory",
        |ctx, mem, fd: i32, p: i32, pl: i32| {
            let path = mem.str(u(p), u(pl))?;
            ctx.rmdir_at(u(fd), path)
        }
    );
    func!(
        linker,
        abi,
        "path_rename",
        |ctx, mem, fd: i32, op: i32, opl: i32, new_fd: i32, np: i32, npl: i32| {
            let old = mem.str(u(op), u(opl))?;
            let new = mem.str(u(np), u(npl))?;
            ctx.rename_at(u(fd), old, u(new_fd), new)
        }
    );
    func!(
        linker,
        abi,
        "path_symlink",
        |ctx, mem, op: i32, opl: i32, fd: i32, np: i32, npl: i32| {
            let target = mem.str(u(op), u(opl))?;
            let path = mem.str(u(np), u(npl))?;
            ctx.symlink_at(target, u(fd), path)
        }
    );
    func!(
        linker,
        abi,
        "path_unlink_file",
        |ctx, mem, fd: i32, p: i32, pl: i32| {
            let path = mem.str(u(p), u(pl))?;
            ctx.unlink_at(u(fd), path)
        }
    );
    Ok(())
}
