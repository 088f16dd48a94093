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

use wasmtime::Linker;
use webc_runner_api::fs::{FileType, Handle, OpenOptions};

use super::fd::{set_times, write_filestat};
use super::{Abi, fdflags, flags, func, rights, u};
use crate::ctx::{Ctx, Desc};
use crate::errno::{Errno, WasiResult};
use crate::mem::GuestMem;

/// `lookupflags::symlink_follow`.
fn follow(lookup: i32) -> WasiResult<bool> {
    Ok(flags(lookup, 1)? & 1 != 0)
}

const O_CREAT: u32 = 1;
const O_DIRECTORY: u32 = 2;
const O_EXCL: u32 = 4;
const O_TRUNC: u32 = 8;

#[allow(clippy::too_many_arguments, reason = "the WASI signature")]
fn path_open(
    ctx: &mut Ctx,
    mem: &mut GuestMem<'_>,
    fd: u32,
    dirflags: i32,
    path: (u32, u32),
    oflags: i32,
    base: u64,
    inheriting: u64,
    fdfl: i32,
    ret: u32,
) -> WasiResult<()> {
    let follow = follow(dirflags)?;
    let oflags = flags(oflags, 0xf)?;
    if (base | inheriting) & !rights::ALL != 0 {
        return Err(Errno::INVAL);
    }
    let fdfl = flags(fdfl, fdflags::ALL)?;
    let path = mem.str(path.0, path.1)?;
    let dir = match ctx.fds.get(fd)? {
        Desc::Dir { .. } => ctx.dir_at(fd, path)?,
        Desc::File { .. } => return Err(Errno::NOTDIR),
        _ => return Err(Errno::BADF),
    };
    mem.range(ret, 4)?;
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
    if ctx.fds.is_full() {
        // Refused before the host opens anything.
        return Err(Errno::MFILE);
    }
    let fs = ctx.fs();
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
    let new_fd = match ctx.fds.push(desc) {
        Ok(n) => n,
        Err(e) => {
            let _ = fs.close(handle);
            return Err(e);
        }
    };
    mem.write_u32(ret, new_fd)
}

/// `path_symlink`. A new path ending in `/` names a directory, which a symlink cannot be,
/// so nothing is created: what is there decides the error, as wasmtime-wasi 48 answers —
/// nothing (or a dangling symlink) `ENOENT`, a directory `EEXIST`, anything else `ENOTDIR`.
fn symlink(ctx: &mut Ctx, target: &str, dir: Handle, path: &str) -> WasiResult<()> {
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

pub(super) fn add(linker: &mut Linker<Ctx>, abi: Abi) -> wasmtime::Result<()> {
    func!(
        linker,
        abi,
        "path_create_directory",
        |ctx, mem, fd: i32, p: i32, pl: i32| {
            let path = mem.str(u(p), u(pl))?;
            let dir = ctx.dir_at(u(fd), path)?;
            Ok(ctx.fs().mkdir(dir, path)?)
        }
    );
    func!(
        linker,
        abi,
        "path_filestat_get",
        |ctx, mem, fd: i32, lookup: i32, p: i32, pl: i32, ret: i32| {
            let follow = follow(lookup)?;
            let path = mem.str(u(p), u(pl))?;
            let dir = ctx.dir_at(u(fd), path)?;
            let st = ctx.fs().stat(dir, path, follow)?;
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
            let src = ctx.dir_at(u(old_fd), old)?;
            let dst = ctx.dir_at(u(new_fd), new)?;
            Ok(ctx.fs().link(src, old, dst, new, follow)?)
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
            path_open(
                ctx,
                mem,
                u(fd),
                dirflags,
                (u(p), u(pl)),
                oflags,
                base as u64,
                inheriting as u64,
                fdfl,
                u(ret),
            )
        }
    );
    func!(
        linker,
        abi,
        "path_readlink",
        |ctx, mem, fd: i32, p: i32, pl: i32, buf: i32, len: i32, ret: i32| {
            let path = mem.str(u(p), u(pl))?;
            let dir = ctx.dir_at(u(fd), path)?;
            let target = ctx.fs().readlink(dir, path)?;
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
            let dir = ctx.dir_at(u(fd), path)?;
            Ok(ctx.fs().rmdir(dir, path)?)
        }
    );
    func!(
        linker,
        abi,
        "path_rename",
        |ctx, mem, fd: i32, op: i32, opl: i32, new_fd: i32, np: i32, npl: i32| {
            let old = mem.str(u(op), u(opl))?;
            let new = mem.str(u(np), u(npl))?;
            let src = ctx.dir_at(u(fd), old)?;
            let dst = ctx.dir_at(u(new_fd), new)?;
            Ok(ctx.fs().rename(src, old, dst, new)?)
        }
    );
    func!(
        linker,
        abi,
        "path_symlink",
        |ctx, mem, op: i32, opl: i32, fd: i32, np: i32, npl: i32| {
            let target = mem.str(u(op), u(opl))?;
            let path = mem.str(u(np), u(npl))?;
            let dir = ctx.dir_at(u(fd), path)?;
            symlink(ctx, target, dir, path)
        }
    );
    func!(
        linker,
        abi,
        "path_unlink_file",
        |ctx, mem, fd: i32, p: i32, pl: i32| {
            let path = mem.str(u(p), u(pl))?;
            let dir = ctx.dir_at(u(fd), path)?;
            Ok(ctx.fs().unlink(dir, path)?)
        }
    );
    Ok(())
}
