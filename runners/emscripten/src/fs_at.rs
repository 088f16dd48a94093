//! The `*at` syscalls, the working directory and descriptor duplication: `openat`,
//! `newfstatat`, `mkdirat`, `unlinkat`, `renameat`, `readlinkat`, `fstat64`, `lstat64`,
//! `getcwd`, `chdir`, `dup`, `dup3`, `readlink`, `symlink`, `symlinkat`, `poll`, and `pipe`
//! (`ENOSYS`).
//!
//! A path is resolved from the namespace root when it is absolute or its directory is
//! `AT_FDCWD` (joined to the working directory, which `chdir` changes); otherwise relative
//! to the directory descriptor, with the WASI rules (`..` may not climb above it: `EPERM`).

use wasmtime::{Caller, Linker};
use webc_runner_wasi::{DupAt, Errno, GuestMem, ROOT_FD, WasiResult};

use super::{absolute, mkdir, open, remove, rename, stat_record, sys};
use crate::env::c_bytes;
use crate::exec::EmCtx;
use crate::layout::{AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW};
use webc_runner_api::fs::FileType;

/// `ERANGE` (WASI numbering).
const ERANGE: Errno = Errno(68);

fn fd(n: i32) -> WasiResult<u32> {
    u32::try_from(n).map_err(|_| Errno::BADF)
}

/// The directory descriptor and path a `*at` call names.
fn at(d: &EmCtx, m: &GuestMem<'_>, dirfd: i32, ptr: i32) -> WasiResult<(u32, String)> {
    let path = String::from_utf8(c_bytes(m, ptr as u32)?).map_err(|_| Errno::ILSEQ)?;
    if dirfd == AT_FDCWD || path.starts_with('/') {
        Ok((ROOT_FD, absolute(&d.cwd, &path)?))
    } else if path.is_empty() {
        Err(Errno::NOENT)
    } else {
        Ok((fd(dirfd)?, path))
    }
}

fn fstatat(
    d: &mut EmCtx,
    m: &mut GuestMem<'_>,
    dirfd: i32,
    path: i32,
    buf: i32,
    flags: i32,
) -> WasiResult<i32> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::INVAL);
    }
    let empty = m.read_u8(path as u32)? == 0;
    let st = if empty && flags & AT_EMPTY_PATH != 0 {
        if dirfd == AT_FDCWD {
            let cwd = d.cwd.clone();
            d.wasi.path_filestat(ROOT_FD, &cwd, true)?
        } else {
            d.wasi.filestat(fd(dirfd)?)?
        }
    } else {
        let (dir, path) = at(d, m, dirfd, path)?;
        d.wasi
            .path_filestat(dir, &path, flags & AT_SYMLINK_NOFOLLOW == 0)?
    };
    m.write(buf as u32, &stat_record(&st))?;
    Ok(0)
}

/// `getcwd(buf, size)`: the glue returns the length including the NUL.
fn getcwd(d: &mut EmCtx, m: &mut GuestMem<'_>, buf: i32, size: i32) -> WasiResult<i32> {
    if size == 0 {
        return Err(Errno::INVAL);
    }
    let len = d.cwd.len() + 1;
    if (size as u32 as usize) < len {
        return Err(ERANGE);
    }
    m.write(buf as u32, d.cwd.as_bytes())?;
    m.write(buf as u32 + d.cwd.len() as u32, &[0])?;
    Ok(len as i32)
}

fn chdir(d: &mut EmCtx, m: &mut GuestMem<'_>, path: i32) -> WasiResult<i32> {
    let (_, path) = at(d, m, AT_FDCWD, path)?;
    let st = d.wasi.path_filestat(ROOT_FD, &path, true)?;
    if st.filetype != Some(FileType::Directory) {
        return Err(Errno::NOTDIR);
    }
    let trimmed = path.trim_end_matches('/');
    d.cwd = if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    };
    Ok(0)
}

/// `readlinkat`: at most `size` bytes of the target, no NUL (as the glue).
fn readlinkat(
    d: &mut EmCtx,
    m: &mut GuestMem<'_>,
    dirfd: i32,
    path: i32,
    buf: i32,
    size: i32,
) -> WasiResult<i32> {
    if size <= 0 {
        return Err(Errno::INVAL);
    }
    let (dir, path) = at(d, m, dirfd, path)?;
    let target = d.wasi.readlink(dir, &path)?;
    let n = target.len().min(size as usize);
    m.write(buf as u32, &target.as_bytes()[..n])?;
    Ok(n as i32)
}

/// `symlinkat(target, dirfd, path)`: a link at `path` whose contents are `target` (stored
/// as written, not resolved).
fn symlinkat(
    d: &mut EmCtx,
    m: &mut GuestMem<'_>,
    target: i32,
    dirfd: i32,
    path: i32,
) -> WasiResult<i32> {
    let target = String::from_utf8(c_bytes(m, target as u32)?).map_err(|_| Errno::ILSEQ)?;
    if target.is_empty() {
        return Err(Errno::NOENT);
    }
    let (dir, path) = at(d, m, dirfd, path)?;
    match d.wasi.symlink(&target, dir, &path) {
        Ok(()) => Ok(0),
        Err(e) => Err(super::write_errno(d, e, dir, &[], &[&path])),
    }
}

/// `POLLNVAL`: the descriptor is not open.
const POLLNVAL: u16 = 0x20;
/// What the glue reports for any open stream (`SYSCALLS.DEFAULT_POLLMASK`: `POLLIN |
/// POLLOUT`): files, directories and the standard streams are always ready.
const DEFAULT_POLLMASK: u16 = 0x1 | 0x4;
/// `POLLERR | POLLHUP`, reported whether asked for or not.
const ALWAYS_REPORTED: u16 = 0x8 | 0x10;

/// `poll(fds, nfds, timeout)` as the glue answers it: never blocks; each open descriptor
/// is ready for reading and writing, a closed one is `POLLNVAL` (reported only when asked
/// for, as the glue masks it with the requested events); returns how many entries have
/// events.
fn poll(
    d: &mut EmCtx,
    m: &mut GuestMem<'_>,
    fds: i32,
    nfds: i32,
    _timeout: i32,
) -> WasiResult<i32> {
    let nfds = u32::try_from(nfds).map_err(|_| Errno::INVAL)?;
    let mut ready = 0;
    for i in 0..nfds {
        let entry = (fds as u32)
            .checked_add(i.checked_mul(8).ok_or(Errno::FAULT)?)
            .ok_or(Errno::FAULT)?;
        let fd = m.read_u32(entry)? as i32;
        let events = m.read_u16(entry + 4)?;
        let open = u32::try_from(fd).is_ok_and(|fd| d.wasi.kind(fd).is_ok());
        let mask = if open { DEFAULT_POLLMASK } else { POLLNVAL } & (events | ALWAYS_REPORTED);
        if mask != 0 {
            ready += 1;
        }
        m.write(entry + 6, &mask.to_le_bytes())?;
    }
    Ok(ready)
}

/// A syscall body with four i32 arguments.
type Sys4 = fn(&mut EmCtx, &mut GuestMem<'_>, i32, i32, i32, i32) -> WasiResult<i32>;
/// A syscall body with three i32 arguments.
type Sys3 = fn(&mut EmCtx, &mut GuestMem<'_>, i32, i32, i32) -> WasiResult<i32>;
/// A syscall body with two i32 arguments.
type Sys2 = fn(&mut EmCtx, &mut GuestMem<'_>, i32, i32) -> WasiResult<i32>;
/// A syscall body with one i32 argument.
type Sys1 = fn(&mut EmCtx, &mut GuestMem<'_>, i32) -> WasiResult<i32>;

const SYS4: [(&str, Sys4); 4] = [
    ("__syscall_openat", |d, m, dirfd, path, flags, _varargs| {
        let (dir, path) = at(d, m, dirfd, path)?;
        open(d, dir, &path, flags)
    }),
    ("__syscall_newfstatat", fstatat),
    ("__syscall_renameat", |d, m, olddir, old, newdir, new| {
        let old = at(d, m, olddir, old)?;
        let new = at(d, m, newdir, new)?;
        rename(d, (old.0, &old.1), (new.0, &new.1))
    }),
    ("__syscall_readlinkat", readlinkat),
];

const SYS3: [(&str, Sys3); 6] = [
    ("__syscall_readlink", |d, m, path, buf, size| {
        readlinkat(d, m, AT_FDCWD, path, buf, size)
    }),
    ("__syscall_symlinkat", symlinkat),
    ("__syscall_poll", poll),
    ("__syscall_dup3", |d, _, old, new, _flags| {
        if old == new {
            return Err(Errno::INVAL);
        }
        Ok(d.wasi.dup(fd(old)?, DupAt::Exactly(fd(new)?))? as i32)
    }),
    ("__syscall_mkdirat", |d, m, dirfd, path, _mode| {
        let (dir, path) = at(d, m, dirfd, path)?;
        mkdir(d, dir, path)
    }),
    ("__syscall_unlinkat", |d, m, dirfd, path, flags| {
        if flags & !AT_REMOVEDIR != 0 {
            return Err(Errno::INVAL);
        }
        let (dir, path) = at(d, m, dirfd, path)?;
        remove(d, dir, &path, flags == AT_REMOVEDIR)
    }),
];

const SYS2: [(&str, Sys2); 4] = [
    ("__syscall_symlink", |d, m, target, path| {
        symlinkat(d, m, target, AT_FDCWD, path)
    }),
    ("__syscall_lstat64", |d, m, path, buf| {
        fstatat(d, m, AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW)
    }),
    ("__syscall_fstat64", |d, m, fd_, buf| {
        let st = d.wasi.filestat(fd(fd_)?)?;
        m.write(buf as u32, &stat_record(&st))?;
        Ok(0)
    }),
    ("__syscall_getcwd", |d, m, buf, size| {
        getcwd(d, m, buf, size)
    }),
];

const SYS1: [(&str, Sys1); 3] = [
    ("__syscall_chdir", |d, m, path| chdir(d, m, path)),
    ("__syscall_dup", |d, _, old| {
        Ok(d.wasi.dup(fd(old)?, DupAt::LowestFrom(0))? as i32)
    }),
    // No pipes: a descriptor pair needs a buffer object the WASI descriptor table has no
    // kind for.
    ("__syscall_pipe", |_, _, _fds| Err(Errno::NOSYS)),
];

pub(super) fn define(linker: &mut Linker<EmCtx>) -> wasmtime::Result<()> {
    for (name, f) in SYS4 {
        linker.func_wrap(
            "env",
            name,
            move |mut c: Caller<'_, EmCtx>, a: i32, b: i32, x: i32, y: i32| {
                sys(&mut c, |d, m| f(d, m, a, b, x, y))
            },
        )?;
    }
    for (name, f) in SYS3 {
        linker.func_wrap(
            "env",
            name,
            move |mut c: Caller<'_, EmCtx>, a: i32, b: i32, x: i32| {
                sys(&mut c, |d, m| f(d, m, a, b, x))
            },
        )?;
    }
    for (name, f) in SYS2 {
        linker.func_wrap(
            "env",
            name,
            move |mut c: Caller<'_, EmCtx>, a: i32, b: i32| sys(&mut c, |d, m| f(d, m, a, b)),
        )?;
    }
    for (name, f) in SYS1 {
        linker.func_wrap("env", name, move |mut c: Caller<'_, EmCtx>, a: i32| {
            sys(&mut c, |d, m| f(d, m, a))
        })?;
    }
    Ok(())
}
