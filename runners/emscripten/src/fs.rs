//! The `__syscall_*` imports the test programs use, over the WASI context's descriptor table
//! (so over the host's file-system handle, with its volumes, mounts and permissions).
//!
//! Paths: the guest's working directory is `/` (`EmCtx::cwd`); a relative path (or one
//! relative to `AT_FDCWD`) is joined to it and normalised lexically (`.` and `..`; `..` of
//! `/` is `/`), and every path is resolved from the namespace root. Errors are returned as
//! `-errno` in WASI's numbering, which is Emscripten's. One translation: the file system
//! answers a write into a read-only place (a volume, a read-only grant) with `EPERM`, as
//! wasmtime does for WASI; Linux — and so node, whose goldens these are — answers `EROFS`,
//! after the path lookup (`ENOENT` for a missing parent or target). A write-ish syscall that
//! gets `EPERM` therefore looks the path up and returns that lookup's error, or `EROFS`.

use wasmtime::{Caller, Linker, Val};
use webc_runner_api::fs::{FileType, Stat as FsStat};
use webc_runner_wasi::{DupAt, Errno, FdKind, GuestMem, ROOT_FD, WasiResult, fdflags, rights};

use crate::env::{c_bytes, exports};

#[path = "fs_at.rs"]
mod at;
use crate::exec::EmCtx;
use crate::layout::{
    self, AT_FDCWD, BLKSIZE, DIRENT_SIZE, DirentType, O_APPEND, O_NONBLOCK, O_RDONLY, O_RDWR,
    O_WRONLY, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, STAT_SIZE, TCGETS, TIOCGWINSZ,
};

/// The syscalls defined here.
pub(crate) const NAMES: &[&str] = &[
    "__syscall_open",
    "__syscall_fcntl64",
    "__syscall_ioctl",
    "__syscall_faccessat",
    "__syscall_getdents64",
    "__syscall_stat64",
    "__syscall_mkdir",
    "__syscall_rmdir",
    "__syscall_unlink",
    "__syscall_rename",
    "__syscall_ftruncate64",
    "__syscall_openat",
    "__syscall_fstat64",
    "__syscall_lstat64",
    "__syscall_newfstatat",
    "__syscall_getcwd",
    "__syscall_chdir",
    "__syscall_dup",
    "__syscall_dup3",
    "__syscall_mkdirat",
    "__syscall_unlinkat",
    "__syscall_renameat",
    "__syscall_readlinkat",
    "__syscall_readlink",
    "__syscall_symlink",
    "__syscall_symlinkat",
    "__syscall_poll",
    "__syscall_pipe",
    "__sys_access",
];

/// `-errno` as a syscall returns it.
pub(super) fn neg(e: Errno) -> i32 {
    -e.code()
}

fn result(r: WasiResult<i32>) -> i32 {
    r.unwrap_or_else(neg)
}

/// `path` made absolute against `cwd` and normalised lexically; a trailing `/` is kept (it
/// asks for a directory).
pub(super) fn absolute(cwd: &str, path: &str) -> WasiResult<String> {
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if path.ends_with('/') && out != "/" {
        out.push('/');
    }
    Ok(out)
}

/// The guest path at `ptr`, absolute.
fn guest_path(d: &EmCtx, m: &GuestMem<'_>, ptr: i32) -> WasiResult<String> {
    let bytes = c_bytes(m, ptr as u32)?;
    let path = String::from_utf8(bytes).map_err(|_| Errno::ILSEQ)?;
    absolute(&d.cwd, &path)
}

fn parent(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => "/",
        None => ".",
        Some(i) => &trimmed[..i],
    }
}

/// The `EPERM` → lookup error or `EROFS` translation of a write-ish call (see the module
/// docs): `exist` must exist (lstat), the parents of `create` must be directories.
fn write_errno(d: &mut EmCtx, e: Errno, dir: u32, exist: &[&str], create: &[&str]) -> Errno {
    if e != Errno::PERM {
        return e;
    }
    for p in exist {
        if let Err(e) = d.wasi.path_filestat(dir, p, false) {
            return e;
        }
    }
    for p in create {
        match d.wasi.path_filestat(dir, parent(p), true) {
            Err(e) => return e,
            Ok(st) if st.filetype != Some(FileType::Directory) => return Errno::NOTDIR,
            Ok(_) => {}
        }
    }
    Errno::ROFS
}

/// WASI `oflags`.
const OFLAG_CREAT: u32 = 1;
const OFLAG_DIRECTORY: u32 = 2;
const OFLAG_EXCL: u32 = 4;
const OFLAG_TRUNC: u32 = 8;
/// WASI `lookupflags::symlink_follow`.
const FOLLOW: u32 = 1;

/// Rights that write.
const WRITE_RIGHTS: u64 = rights::FD_WRITE
    | rights::FD_DATASYNC
    | rights::FD_SYNC
    | rights::FD_ALLOCATE
    | rights::FD_FILESTAT_SET_SIZE;

pub(super) fn open(d: &mut EmCtx, dir: u32, path: &str, flags: i32) -> WasiResult<i32> {
    let req = layout::open_flags(flags).map_err(|e| Errno(e as u16))?;
    let mut oflags = 0;
    if req.create {
        oflags |= OFLAG_CREAT;
    }
    if req.excl {
        oflags |= OFLAG_EXCL;
    }
    if req.trunc {
        oflags |= OFLAG_TRUNC;
    }
    if req.directory {
        oflags |= OFLAG_DIRECTORY;
    }
    let mut base = rights::ALL;
    if !req.write || req.directory {
        base &= !WRITE_RIGHTS;
    }
    if !req.read {
        base &= !(rights::FD_READ | rights::FD_READDIR);
    }
    let fdfl = if req.append { fdflags::APPEND } else { 0 };
    let lookup = if req.nofollow { 0 } else { FOLLOW };
    match d
        .wasi
        .open(dir, path, lookup, oflags, base, rights::ALL, fdfl)
    {
        Ok(fd) => Ok(fd as i32),
        Err(e) if req.write || req.create || req.trunc => {
            let (exist, create): (&[&str], &[&str]) = if req.create {
                (&[], &[path])
            } else {
                (&[path], &[])
            };
            Err(write_errno(d, e, dir, exist, create))
        }
        Err(e) => Err(e),
    }
}

fn mode_of(filetype: Option<FileType>) -> u32 {
    match filetype {
        Some(FileType::Directory) => S_IFDIR | 0o755,
        Some(FileType::SymbolicLink) => S_IFLNK | 0o777,
        Some(FileType::CharacterDevice) => S_IFCHR | 0o620,
        _ => S_IFREG | 0o644,
    }
}

fn timespec(ns: u64) -> layout::Timespec {
    layout::Timespec {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as u32,
    }
}

/// The `struct stat` record of a file-system stat.
pub(super) fn stat_record(st: &FsStat) -> [u8; STAT_SIZE] {
    layout::Stat {
        dev: st.dev as u32,
        ino: st.ino,
        mode: mode_of(st.filetype),
        nlink: st.nlink as u32,
        uid: 0,
        gid: 0,
        rdev: 0,
        size: st.size,
        blksize: BLKSIZE,
        blocks: st.size.div_ceil(512) as u32,
        atime: timespec(st.atim),
        mtime: timespec(st.mtim),
        ctime: timespec(st.ctim),
    }
    .encode()
}

fn dirent_type(t: FileType) -> DirentType {
    match t {
        FileType::Directory => DirentType::Directory,
        FileType::SymbolicLink => DirentType::Symlink,
        FileType::CharacterDevice => DirentType::CharDevice,
        _ => DirentType::Regular,
    }
}

fn is_tty(d: &mut EmCtx, fd: i32) -> WasiResult<bool> {
    let kind = d.wasi.kind(u32::try_from(fd).map_err(|_| Errno::BADF)?)?;
    Ok(matches!(
        kind,
        FdKind::Stdin | FdKind::Stdout | FdKind::Stderr
    ))
}

/// `fcntl(F_GETFL)` of a descriptor, from its rights and flags.
fn getfl(d: &mut EmCtx, fd: u32) -> WasiResult<i32> {
    let st = d.wasi.fdstat(fd)?;
    let read = st.rights_base & rights::FD_READ != 0;
    let write = st.rights_base & rights::FD_WRITE != 0;
    let mut fl = match (read, write) {
        (true, true) => O_RDWR,
        (false, true) => O_WRONLY,
        _ => O_RDONLY,
    };
    if u32::from(st.flags) & fdflags::APPEND != 0 {
        fl |= O_APPEND;
    }
    if u32::from(st.flags) & fdflags::NONBLOCK != 0 {
        fl |= O_NONBLOCK;
    }
    Ok(fl)
}

fn fcntl(d: &mut EmCtx, fd: i32, cmd: i32, arg: i32) -> WasiResult<i32> {
    let fd = u32::try_from(fd).map_err(|_| Errno::BADF)?;
    match cmd {
        layout::F_DUPFD | layout::F_DUPFD_CLOEXEC => {
            let from = u32::try_from(arg).map_err(|_| Errno::INVAL)?;
            Ok(d.wasi.dup(fd, DupAt::LowestFrom(from))? as i32)
        }
        layout::F_GETFD | layout::F_SETFD => {
            d.wasi.kind(fd)?;
            Ok(0)
        }
        layout::F_GETFL => getfl(d, fd),
        layout::F_SETFL => {
            let mut fl = 0u32;
            if arg & O_APPEND != 0 {
                fl |= fdflags::APPEND;
            }
            if arg & O_NONBLOCK != 0 {
                fl |= fdflags::NONBLOCK;
            }
            d.wasi.set_fdflags(fd, fl as u16)?;
            Ok(0)
        }
        layout::F_SETLK | layout::F_SETLKW => {
            d.wasi.kind(fd)?;
            Ok(0)
        }
        _ => Err(Errno::INVAL),
    }
}

fn getdents(d: &mut EmCtx, m: &mut GuestMem<'_>, fd: i32, buf: i32, count: i32) -> WasiResult<i32> {
    let fd = u32::try_from(fd).map_err(|_| Errno::BADF)?;
    let st = d.wasi.filestat(fd)?;
    if st.filetype != Some(FileType::Directory) {
        return Err(Errno::NOTDIR);
    }
    let id = (st.dev, st.ino);
    let pos = match d.dir_pos.get(&fd) {
        Some((dir, pos)) if *dir == id => *pos,
        _ => 0,
    };
    let entries = d.wasi.readdir(fd, 0, usize::MAX)?;
    let mut index = layout::dirent_index(pos);
    let mut written = 0u32;
    let count = count as u32;
    while let Some(e) = entries.get(index as usize) {
        if written + DIRENT_SIZE as u32 > count {
            break;
        }
        let rec = layout::dirent64(e.ino, index, dirent_type(e.filetype), e.name.as_bytes())
            .map_err(|e| Errno(e.errno() as u16))?;
        m.write(buf as u32 + written, &rec)?;
        written += DIRENT_SIZE as u32;
        index += 1;
    }
    d.dir_pos.insert(fd, (id, index * DIRENT_SIZE as u64));
    Ok(written as i32)
}

/// Wraps a syscall body: guest memory, store data, `-errno` on failure (`EFAULT` for a bad
/// pointer).
pub(super) fn sys(
    caller: &mut Caller<'_, EmCtx>,
    f: impl FnOnce(&mut EmCtx, &mut GuestMem<'_>) -> WasiResult<i32>,
) -> wasmtime::Result<i32> {
    webc_runner_wasi::with_guest_memory(caller, crate::exec::wasi, |d, m| result(f(d, m)))
}

/// `mkdir`/`mkdirat` once the path is resolved (a trailing `/` is dropped, as the glue).
pub(super) fn mkdir(d: &mut EmCtx, dir: u32, path: String) -> WasiResult<i32> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/').to_owned()
    } else {
        path
    };
    match d.wasi.create_directory(dir, &path) {
        Ok(()) => Ok(0),
        Err(Errno::PERM) if d.wasi.path_filestat(dir, &path, false).is_ok() => Err(Errno::EXIST),
        Err(e) => Err(write_errno(d, e, dir, &[], &[&path])),
    }
}

/// `rmdir` (`dir`) or `unlink` once the path is resolved.
pub(super) fn remove(d: &mut EmCtx, at: u32, path: &str, dir: bool) -> WasiResult<i32> {
    let r = if dir {
        d.wasi.remove_directory(at, path)
    } else {
        d.wasi.unlink_file(at, path)
    };
    r.map_err(|e| write_errno(d, e, at, &[path], &[]))?;
    Ok(0)
}

/// `rename`/`renameat` once the paths are resolved.
pub(super) fn rename(d: &mut EmCtx, old: (u32, &str), new: (u32, &str)) -> WasiResult<i32> {
    match d.wasi.rename(old.0, old.1, new.0, new.1) {
        Ok(()) => Ok(0),
        // The lookups of both sides, each from its own directory.
        Err(e) => match write_errno(d, e, old.0, &[old.1], &[]) {
            Errno::ROFS => Err(write_errno(d, Errno::PERM, new.0, &[], &[new.1])),
            e => Err(e),
        },
    }
}

/// A syscall `(path, arg) -> i32` whose body gets the absolute path.
fn path_syscall(
    linker: &mut Linker<EmCtx>,
    name: &str,
    f: fn(&mut EmCtx, &mut GuestMem<'_>, String, i32) -> WasiResult<i32>,
) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        name,
        move |mut c: Caller<'_, EmCtx>, path: i32, arg: i32| {
            sys(&mut c, |d, m| {
                let path = guest_path(d, m, path)?;
                f(d, m, path, arg)
            })
        },
    )?;
    Ok(())
}

/// `access`/`faccessat` at the working directory: the path exists (every granted path is
/// readable, writable where the file system lets it be written, and the mode bits are
/// synthetic, so existence is the answer).
fn access(d: &mut EmCtx, path: &str, amode: i32) -> WasiResult<i32> {
    if amode & !7 != 0 {
        return Err(Errno::INVAL);
    }
    d.wasi.path_filestat(ROOT_FD, path, true)?;
    Ok(0)
}

/// emcc 2.x names of the syscalls (`__sys_*`, renamed `__syscall_*` in emcc 3) whose
/// signature did not change: each is an alias of the 3.x definition (`fstatat64` became
/// `newfstatat`). A 2.x import whose signature differs is refused when linking, naming it.
pub(crate) const LEGACY: &[(&str, &str)] = &[
    ("__sys_open", "__syscall_open"),
    ("__sys_fcntl64", "__syscall_fcntl64"),
    ("__sys_ioctl", "__syscall_ioctl"),
    ("__sys_faccessat", "__syscall_faccessat"),
    ("__sys_getdents64", "__syscall_getdents64"),
    ("__sys_stat64", "__syscall_stat64"),
    ("__sys_lstat64", "__syscall_lstat64"),
    ("__sys_fstat64", "__syscall_fstat64"),
    ("__sys_fstatat64", "__syscall_newfstatat"),
    ("__sys_mkdir", "__syscall_mkdir"),
    ("__sys_rmdir", "__syscall_rmdir"),
    ("__sys_unlink", "__syscall_unlink"),
    ("__sys_rename", "__syscall_rename"),
    ("__sys_openat", "__syscall_openat"),
    ("__sys_getcwd", "__syscall_getcwd"),
    ("__sys_chdir", "__syscall_chdir"),
    ("__sys_dup", "__syscall_dup"),
    ("__sys_dup3", "__syscall_dup3"),
    ("__sys_mkdirat", "__syscall_mkdirat"),
    ("__sys_unlinkat", "__syscall_unlinkat"),
    ("__sys_renameat", "__syscall_renameat"),
    ("__sys_readlinkat", "__syscall_readlinkat"),
    ("__sys_readlink", "__syscall_readlink"),
    ("__sys_symlink", "__syscall_symlink"),
    ("__sys_symlinkat", "__syscall_symlinkat"),
    ("__sys_poll", "__syscall_poll"),
    ("__sys_pipe", "__syscall_pipe"),
];

pub(crate) fn define(linker: &mut Linker<EmCtx>) -> wasmtime::Result<()> {
    define_current(linker)?;
    for (old, new) in LEGACY {
        linker.alias("env", new, "env", old)?;
    }
    Ok(())
}

fn define_current(linker: &mut Linker<EmCtx>) -> wasmtime::Result<()> {
    at::define(linker)?;
    linker.func_wrap(
        "env",
        "__syscall_open",
        |mut c: Caller<'_, EmCtx>, path: i32, flags: i32, varargs: i32| {
            sys(&mut c, |d, m| {
                let _mode = if varargs != 0 {
                    m.read_u32(varargs as u32)?
                } else {
                    0
                };
                let path = guest_path(d, m, path)?;
                open(d, ROOT_FD, &path, flags)
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "__syscall_fcntl64",
        |mut c: Caller<'_, EmCtx>, fd: i32, cmd: i32, varargs: i32| {
            sys(&mut c, |d, m| {
                let needs_arg = matches!(
                    cmd,
                    layout::F_DUPFD | layout::F_DUPFD_CLOEXEC | layout::F_SETFL | layout::F_GETLK
                );
                let arg = if needs_arg && varargs != 0 {
                    m.read_u32(varargs as u32)? as i32
                } else {
                    0
                };
                if cmd == layout::F_GETLK {
                    d.wasi.kind(u32::try_from(fd).map_err(|_| Errno::BADF)?)?;
                    // `l_type = F_UNLCK`: nothing holds a lock.
                    m.write(arg as u32, &layout::F_UNLCK.to_le_bytes())?;
                    return Ok(0);
                }
                fcntl(d, fd, cmd, arg)
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "__syscall_ioctl",
        |mut c: Caller<'_, EmCtx>, fd: i32, op: i32, _varargs: i32| {
            sys(&mut c, |d, _| {
                if !is_tty(d, fd)? {
                    return Err(Errno::NOTTY);
                }
                match op {
                    TCGETS | TIOCGWINSZ => Ok(0),
                    _ => Err(Errno::INVAL),
                }
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "__syscall_faccessat",
        |mut c: Caller<'_, EmCtx>, dirfd: i32, path: i32, amode: i32, _flags: i32| {
            sys(&mut c, |d, m| {
                if dirfd != AT_FDCWD {
                    return Err(Errno::NOSYS);
                }
                let path = guest_path(d, m, path)?;
                access(d, &path, amode)
            })
        },
    )?;
    // emcc 2.x's `access(path, amode)`.
    path_syscall(linker, "__sys_access", |d, _, path, amode| {
        access(d, &path, amode)
    })?;
    linker.func_wrap(
        "env",
        "__syscall_getdents64",
        |mut c: Caller<'_, EmCtx>, fd: i32, buf: i32, count: i32| {
            sys(&mut c, |d, m| getdents(d, m, fd, buf, count))
        },
    )?;
    path_syscall(linker, "__syscall_stat64", |d, m, path, buf| {
        let st = d.wasi.path_filestat(ROOT_FD, &path, true)?;
        m.write(buf as u32, &stat_record(&st))?;
        Ok(0)
    })?;
    path_syscall(linker, "__syscall_mkdir", |d, _, path, _mode| {
        mkdir(d, ROOT_FD, path)
    })?;
    for (name, dir) in [("__syscall_rmdir", true), ("__syscall_unlink", false)] {
        linker.func_wrap("env", name, move |mut c: Caller<'_, EmCtx>, path: i32| {
            sys(&mut c, |d, m| {
                let path = guest_path(d, m, path)?;
                remove(d, ROOT_FD, &path, dir)
            })
        })?;
    }
    linker.func_wrap(
        "env",
        "__syscall_rename",
        |mut c: Caller<'_, EmCtx>, old: i32, new: i32| {
            sys(&mut c, |d, m| {
                let old = guest_path(d, m, old)?;
                let new = guest_path(d, m, new)?;
                rename(d, (ROOT_FD, &old), (ROOT_FD, &new))
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "__syscall_ftruncate64",
        |mut c: Caller<'_, EmCtx>, fd: i32, low: i32, high: i32| -> wasmtime::Result<i32> {
            let len = (i64::from(high) << 32) | i64::from(low as u32);
            if len < 0 {
                return Ok(neg(Errno::INVAL));
            }
            // WASI's own `fd_filestat_set_size`, on the same descriptor table (the library
            // has no method for it).
            let Some(set_size) = exports(&c)?.set_size else {
                return Ok(neg(Errno::NOSYS));
            };
            let mut out = [Val::I32(0)];
            set_size.call(&mut c, &[Val::I32(fd), Val::I64(len)], &mut out)?;
            let errno = out[0].i32().unwrap_or(0);
            let errno = if errno == Errno::PERM.code() {
                Errno::ROFS.code()
            } else {
                errno
            };
            Ok(-errno)
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_joined_and_normalised() {
        assert_eq!(absolute("/", "data/x").as_deref(), Ok("/data/x"));
        assert_eq!(absolute("/work", "../data/./x").as_deref(), Ok("/data/x"));
        assert_eq!(absolute("/", "../../etc").as_deref(), Ok("/etc"));
        assert_eq!(absolute("/", "/a/b/").as_deref(), Ok("/a/b/"));
        assert_eq!(absolute("/", "."), Ok("/".to_owned()));
        assert_eq!(absolute("/", ""), Err(Errno::NOENT));
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/a/b/"), "/a");
        assert_eq!(parent("x"), ".");
        assert_eq!(parent("d/x"), "d");
    }
}
