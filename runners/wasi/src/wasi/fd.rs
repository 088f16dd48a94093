//! `fd_*`: descriptors over the file-system handle and stdio.
//!
//! Semantics follow wasmtime-wasi 48's preview1 adapter: data calls on a directory or on
//! the wrong stdio stream are `EBADF`, positional calls and seeks on stdio are `ESPIPE`,
//! stdio reports filetype `unknown` (piped) with only `fd_read`/`fd_write` rights, preopened
//! directories report wasmtime-wasi's fixed rights. Unlike wasmtime-wasi (which transfers
//! only the first non-empty buffer), `fd_read`/`fd_write` and their positional variants
//! process every buffer in order, as POSIX `readv`/`writev` do, stopping at the first short
//! transfer; a reading call on stdin does one read into the first non-empty buffer so it
//! never waits for more input than is available. `fd_allocate` reserves space through the
//! file system (wasmtime-wasi answers `ENOTSUP`). More than 2^20 buffers in one call is
//! `EINVAL`.

use std::io::{ErrorKind, Write};

use webc_runner_api::fs::{DirEntry, FileType, SetTime, Stat, Whence};

use super::{Abi, Defs, FILETYPE_DIRECTORY, Get, fdflags, filetype, flags, func, rights, u};
use crate::ctx::{Ctx, Desc};
use crate::errno::{Errno, WasiResult};
use crate::mem::GuestMem;
use crate::wasi_ctx::FdStat;

/// Size of a `dirent` header.
const DIRENT_SIZE: u32 = 24;

/// Rights wasmtime-wasi reports for a preopened directory.
const PREOPEN_BASE: u64 = rights::PATH_CREATE_DIRECTORY
    | rights::PATH_CREATE_FILE
    | rights::PATH_LINK_SOURCE
    | rights::PATH_LINK_TARGET
    | rights::PATH_OPEN
    | rights::FD_READDIR
    | rights::PATH_READLINK
    | rights::PATH_RENAME_SOURCE
    | rights::PATH_RENAME_TARGET
    | rights::PATH_SYMLINK
    | rights::PATH_REMOVE_DIRECTORY
    | rights::PATH_UNLINK_FILE
    | rights::PATH_FILESTAT_GET
    | rights::PATH_FILESTAT_SET_TIMES
    | rights::FD_FILESTAT_GET
    | rights::FD_FILESTAT_SET_TIMES;

/// Rights a preopened directory passes on to what is opened through it.
const PREOPEN_INHERITING: u64 = PREOPEN_BASE
    | rights::FD_DATASYNC
    | rights::FD_READ
    | rights::FD_SEEK
    | rights::FD_FDSTAT_SET_FLAGS
    | rights::FD_SYNC
    | rights::FD_TELL
    | rights::FD_WRITE
    | rights::FD_ADVISE
    | rights::FD_ALLOCATE
    | rights::FD_FILESTAT_GET
    | rights::FD_FILESTAT_SET_SIZE
    | rights::FD_FILESTAT_SET_TIMES
    | rights::POLL_FD_READWRITE;

/// Encodes a `filestat` in the layout of `abi`.
pub(crate) fn encode_filestat(abi: Abi, st: &Stat) -> ([u8; 64], usize) {
    let mut b = [0u8; 64];
    b[0..8].copy_from_slice(&st.dev.to_le_bytes());
    b[8..16].copy_from_slice(&st.ino.to_le_bytes());
    b[16] = filetype(st.filetype);
    match abi {
        Abi::P1 => {
            b[24..32].copy_from_slice(&st.nlink.to_le_bytes());
            b[32..40].copy_from_slice(&st.size.to_le_bytes());
            b[40..48].copy_from_slice(&st.atim.to_le_bytes());
            b[48..56].copy_from_slice(&st.mtim.to_le_bytes());
            b[56..64].copy_from_slice(&st.ctim.to_le_bytes());
            (b, 64)
        }
        Abi::P0 => {
            let nlink = u32::try_from(st.nlink).unwrap_or(u32::MAX);
            b[20..24].copy_from_slice(&nlink.to_le_bytes());
            b[24..32].copy_from_slice(&st.size.to_le_bytes());
            b[32..40].copy_from_slice(&st.atim.to_le_bytes());
            b[40..48].copy_from_slice(&st.mtim.to_le_bytes());
            b[48..56].copy_from_slice(&st.ctim.to_le_bytes());
            (b, 56)
        }
    }
}

pub(crate) fn write_filestat(
    abi: Abi,
    mem: &mut GuestMem<'_>,
    ptr: u32,
    st: &Stat,
) -> WasiResult<()> {
    let (b, len) = encode_filestat(abi, st);
    mem.write(ptr, &b[..len])
}

/// Decodes a `whence` of `abi`.
pub(crate) fn whence(abi: Abi, v: i32) -> WasiResult<Whence> {
    Ok(match (abi, v) {
        (Abi::P1, 0) | (Abi::P0, 2) => Whence::Set,
        (Abi::P1, 1) | (Abi::P0, 0) => Whence::Cur,
        (Abi::P1, 2) | (Abi::P0, 1) => Whence::End,
        _ => return Err(Errno::INVAL),
    })
}

/// `fst_flags` → (atime, mtime).
pub(crate) fn set_times(atim: i64, mtim: i64, fst: i32) -> WasiResult<(SetTime, SetTime)> {
    const ATIM: u32 = 1;
    const ATIM_NOW: u32 = 2;
    const MTIM: u32 = 4;
    const MTIM_NOW: u32 = 8;
    let f = flags(fst, 0xf)?;
    let one = |set: u32, now: u32, ts: i64| -> WasiResult<SetTime> {
        match (f & set != 0, f & now != 0) {
            (true, true) => Err(Errno::INVAL),
            (true, false) => Ok(SetTime::At(ts as u64)),
            (false, true) => Ok(SetTime::Now),
            (false, false) => Ok(SetTime::Omit),
        }
    };
    Ok((one(ATIM, ATIM_NOW, atim)?, one(MTIM, MTIM_NOW, mtim)?))
}

/// The errno of a stdio stream's error; a `TimedOut` error (the host's streams report the
/// run's time limit so) marks the run as out of time instead.
fn stream_errno(e: &std::io::Error, timed_out: &mut bool) -> Errno {
    if e.kind() == ErrorKind::TimedOut {
        *timed_out = true;
    }
    Errno::from_io(e)
}

/// Reads from stdin into the first non-empty buffer (one read).
fn read_stdin(ctx: &mut Ctx, mem: &mut GuestMem<'_>, iovs: u32, n: u32) -> WasiResult<u32> {
    for i in 0..n {
        let iov = mem.iovec(iovs, i)?;
        if iov.len == 0 {
            continue;
        }
        let buf = mem.slice_mut(iov.buf, iov.len)?;
        loop {
            match ctx.io.stdin.read(buf) {
                Ok(read) => return Ok(u32::try_from(read)?),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(stream_errno(&e, &mut ctx.timed_out)),
            }
        }
    }
    Ok(0)
}

/// Writes every buffer to a stdio stream, then flushes it.
fn write_stream(
    out: &mut (dyn Write + Send),
    timed_out: &mut bool,
    mem: &GuestMem<'_>,
    iovs: u32,
    n: u32,
) -> WasiResult<u32> {
    let mut total: u32 = 0;
    for i in 0..n {
        let iov = mem.iovec(iovs, i)?;
        if iov.len == 0 {
            continue;
        }
        out.write_all(mem.slice(iov.buf, iov.len)?)
            .map_err(|e| stream_errno(&e, timed_out))?;
        total = total.saturating_add(iov.len);
    }
    out.flush().map_err(|e| stream_errno(&e, timed_out))?;
    Ok(total)
}

/// Transfers buffer by buffer with `op(buffer, bytes done so far)`, stopping at the first
/// short transfer; an error after some bytes moved reports those bytes.
fn each_iovec(
    mem: &mut GuestMem<'_>,
    iovs: u32,
    n: u32,
    mut op: impl FnMut(&mut [u8], u64) -> WasiResult<usize>,
) -> WasiResult<u32> {
    let mut total: u32 = 0;
    for i in 0..n {
        let iov = mem.iovec(iovs, i)?;
        if iov.len == 0 {
            continue;
        }
        let buf = mem.slice_mut(iov.buf, iov.len)?;
        let done = match op(buf, u64::from(total)) {
            Ok(done) => done,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        let done = u32::try_from(done)?.min(iov.len);
        total = total.saturating_add(done);
        if done < iov.len {
            break;
        }
    }
    Ok(total)
}

fn fd_read(
    ctx: &mut Ctx,
    mem: &mut GuestMem<'_>,
    fd: u32,
    iovs: u32,
    n: u32,
    ret: u32,
) -> WasiResult<()> {
    mem.check_iovecs(iovs, n)?;
    mem.range(ret, 4)?;
    let read = match ctx.fds.get(fd)? {
        Desc::File { handle, .. } => {
            let (fs, h) = (ctx.fs(), *handle);
            each_iovec(mem, iovs, n, |buf, _| Ok(fs.read(h, buf)?))?
        }
        Desc::Stdin => read_stdin(ctx, mem, iovs, n)?,
        _ => return Err(Errno::BADF),
    };
    mem.write_u32(ret, read)
}

fn fd_pread(
    ctx: &mut Ctx,
    mem: &mut GuestMem<'_>,
    fd: u32,
    iovs: u32,
    n: u32,
    offset: u64,
    ret: u32,
) -> WasiResult<()> {
    mem.check_iovecs(iovs, n)?;
    mem.range(ret, 4)?;
    let read = match ctx.fds.get(fd)? {
        Desc::File { handle, .. } => {
            let (fs, h) = (ctx.fs(), *handle);
            each_iovec(mem, iovs, n, |buf, done| {
                let at = offset.checked_add(done).ok_or(Errno::OVERFLOW)?;
                Ok(fs.pread(h, buf, at)?)
            })?
        }
        Desc::Stdin => return Err(Errno::SPIPE),
        _ => return Err(Errno::BADF),
    };
    mem.write_u32(ret, read)
}

fn fd_write(
    ctx: &mut Ctx,
    mem: &mut GuestMem<'_>,
    fd: u32,
    iovs: u32,
    n: u32,
    at: Option<u64>,
    ret: u32,
) -> WasiResult<()> {
    mem.check_iovecs(iovs, n)?;
    mem.range(ret, 4)?;
    let written = match ctx.fds.get(fd)? {
        Desc::File { handle, .. } => {
            let (fs, h) = (ctx.fs(), *handle);
            each_iovec(mem, iovs, n, |buf, done| match at {
                None => Ok(fs.write(h, buf)?),
                Some(offset) => {
                    let at = offset.checked_add(done).ok_or(Errno::OVERFLOW)?;
                    Ok(fs.pwrite(h, buf, at)?)
                }
            })?
        }
        Desc::Stdout | Desc::Stderr if at.is_some() => return Err(Errno::SPIPE),
        Desc::Stdout => write_stream(ctx.io.stdout, &mut ctx.timed_out, mem, iovs, n)?,
        Desc::Stderr => write_stream(ctx.io.stderr, &mut ctx.timed_out, mem, iovs, n)?,
        _ => return Err(Errno::BADF),
    };
    mem.write_u32(ret, written)
}

impl Ctx {
    /// `fd_fdstat_get`.
    pub(crate) fn fdstat(&self, fd: u32) -> WasiResult<FdStat> {
        let stat = |filetype, base, inheriting| FdStat {
            filetype,
            flags: 0,
            rights_base: base,
            rights_inheriting: inheriting,
        };
        let (handle, nonblock) = match self.fds.get(fd)? {
            Desc::Stdin => return Ok(stat(0, rights::FD_READ, rights::FD_READ)),
            Desc::Stdout | Desc::Stderr => {
                return Ok(stat(0, rights::FD_WRITE, rights::FD_WRITE));
            }
            Desc::Dir {
                preopen: Some(_), ..
            } => {
                return Ok(stat(FILETYPE_DIRECTORY, PREOPEN_BASE, PREOPEN_INHERITING));
            }
            Desc::Dir { handle, .. } => (*handle, false),
            Desc::File { handle, nonblock } => (*handle, *nonblock),
        };
        let info = self.fs().handle_info(handle)?;
        let ft = filetype(info.filetype);
        let mut base = rights::ALL;
        if info.filetype == Some(FileType::Directory) {
            base &=
                !(rights::FD_SEEK | rights::FD_FILESTAT_SET_SIZE | rights::PATH_FILESTAT_SET_SIZE);
        }
        if !info.read {
            base &= !(rights::FD_READ | rights::FD_READDIR);
        }
        if !info.write {
            base &= !rights::FD_WRITE;
        }
        let mut fl = 0u16;
        if info.append {
            fl |= fdflags::APPEND as u16;
        }
        if nonblock {
            fl |= fdflags::NONBLOCK as u16;
        }
        Ok(FdStat {
            flags: fl,
            ..stat(ft, base, base)
        })
    }

    /// `fd_fdstat_set_flags`.
    pub(crate) fn set_fdflags(&mut self, fd: u32, fl: u32) -> WasiResult<()> {
        let fl = flags(fl as i32, fdflags::ALL)?;
        let fs = self.fs();
        let Desc::File { handle, nonblock } = self.fds.get_mut(fd)? else {
            return Err(Errno::BADF);
        };
        if fl & (fdflags::DSYNC | fdflags::SYNC | fdflags::RSYNC) != 0 {
            return Err(Errno::INVAL);
        }
        fs.set_append(*handle, fl & fdflags::APPEND != 0)?;
        *nonblock = fl & fdflags::NONBLOCK != 0;
        Ok(())
    }

    /// `fd_filestat_get`.
    pub(crate) fn filestat(&self, fd: u32) -> WasiResult<Stat> {
        Ok(match self.fds.get(fd)?.handle() {
            Some(h) => self.fs().fstat(h)?,
            // Piped stdio, as wasmtime-wasi reports it: all zero, filetype unknown.
            None => Stat::default(),
        })
    }

    /// Up to `max` entries of the directory `fd` from `cookie` (what `fd_readdir` encodes).
    pub(crate) fn readdir(&self, fd: u32, cookie: u64, max: usize) -> WasiResult<Vec<DirEntry>> {
        let h = self.dir(fd)?;
        Ok(self.fs().readdir(h, cookie, max)?)
    }
}

fn fd_readdir(
    ctx: &mut Ctx,
    mem: &mut GuestMem<'_>,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    ret: u32,
) -> WasiResult<()> {
    ctx.dir(fd)?;
    mem.range(buf, buf_len)?;
    mem.range(ret, 4)?;
    // Each entry takes at least a header, so this many fill the buffer; list in batches so
    // a huge buffer never means a huge host allocation.
    let batch = usize::try_from(buf_len / DIRENT_SIZE + 1)
        .unwrap_or(usize::MAX)
        .min(1024);
    let mut at = buf;
    let mut cap = buf_len;
    let mut cookie = cookie;
    loop {
        let entries = ctx.readdir(fd, cookie, batch)?;
        let last_batch = entries.len() < batch;
        for e in &entries {
            let name = e.name.as_bytes();
            let mut head = [0u8; DIRENT_SIZE as usize];
            head[0..8].copy_from_slice(&e.next.to_le_bytes());
            head[8..16].copy_from_slice(&e.ino.to_le_bytes());
            head[16..20].copy_from_slice(&u32::try_from(name.len())?.to_le_bytes());
            head[20] = e.filetype as u8;
            // As the spec and wasmtime-wasi: fill the buffer, the last entry may be cut.
            let n = cap.min(DIRENT_SIZE);
            mem.write(at, &head[..n as usize])?;
            // Cannot wrap while bytes remain: `buf..buf + buf_len` is inside memory.
            at = at.wrapping_add(n);
            cap -= n;
            if cap == 0 {
                return mem.write_u32(ret, buf_len);
            }
            let n = cap.min(u32::try_from(name.len()).unwrap_or(u32::MAX));
            mem.write(at, &name[..n as usize])?;
            at = at.wrapping_add(n);
            cap -= n;
            if cap == 0 {
                return mem.write_u32(ret, buf_len);
            }
            cookie = e.next;
        }
        if last_batch || entries.is_empty() {
            break;
        }
    }
    mem.write_u32(ret, buf_len - cap)
}

pub(super) fn add<T: 'static, G: Get<T>>(
    linker: &mut Defs<'_, T, G>,
    abi: Abi,
) -> wasmtime::Result<()> {
    func!(
        linker,
        abi,
        "fd_advise",
        |ctx, _mem, fd: i32, offset: i64, len: i64, advice: i32| {
            // A hint with no effect here, but its arguments are checked as posix_fadvise
            // (what wasmtime-wasi calls) checks them: offsets and lengths are signed.
            if u(advice) > 5 || offset < 0 || len < 0 {
                return Err(Errno::INVAL);
            }
            ctx.file(u(fd)).map(drop)
        }
    );
    func!(
        linker,
        abi,
        "fd_allocate",
        |ctx, _mem, fd: i32, offset: i64, len: i64| {
            let h = ctx.file(u(fd))?;
            Ok(ctx.fs().allocate(h, offset as u64, len as u64)?)
        }
    );
    func!(linker, abi, "fd_close", |ctx, _mem, fd: i32| {
        ctx.close_fd(u(fd))
    });
    func!(linker, abi, "fd_datasync", |ctx, _mem, fd: i32| {
        let h = ctx.file(u(fd))?;
        Ok(ctx.fs().sync(h, true)?)
    });
    func!(linker, abi, "fd_sync", |ctx, _mem, fd: i32| {
        let h = ctx.file(u(fd))?;
        Ok(ctx.fs().sync(h, false)?)
    });
    func!(
        linker,
        abi,
        "fd_fdstat_get",
        |ctx, mem, fd: i32, ret: i32| {
            let st = ctx.fdstat(u(fd))?;
            let mask = match abi {
                Abi::P1 => rights::ALL,
                Abi::P0 => rights::ALL & !rights::SOCK_ACCEPT,
            };
            let mut b = [0u8; 24];
            b[0] = st.filetype;
            b[2..4].copy_from_slice(&st.flags.to_le_bytes());
            b[8..16].copy_from_slice(&(st.rights_base & mask).to_le_bytes());
            b[16..24].copy_from_slice(&(st.rights_inheriting & mask).to_le_bytes());
            mem.write(u(ret), &b)
        }
    );
    func!(
        linker,
        abi,
        "fd_fdstat_set_flags",
        |ctx, _mem, fd: i32, fl: i32| { ctx.set_fdflags(u(fd), u(fl)) }
    );
    func!(
        linker,
        abi,
        "fd_fdstat_set_rights",
        |ctx, _mem, fd: i32, base: i64, inheriting: i64| {
            if (base as u64 | inheriting as u64) & !rights::ALL != 0 {
                return Err(Errno::INVAL);
            }
            ctx.handle(u(fd))?;
            Err(Errno::NOTSUP)
        }
    );
    func!(
        linker,
        abi,
        "fd_filestat_get",
        |ctx, mem, fd: i32, ret: i32| {
            let st = ctx.filestat(u(fd))?;
            write_filestat(abi, mem, u(ret), &st)
        }
    );
    func!(
        linker,
        abi,
        "fd_filestat_set_size",
        |ctx, _mem, fd: i32, size: i64| {
            let h = ctx.file(u(fd))?;
            Ok(ctx.fs().truncate(h, size as u64)?)
        }
    );
    func!(
        linker,
        abi,
        "fd_filestat_set_times",
        |ctx, _mem, fd: i32, atim: i64, mtim: i64, fst: i32| {
            let (a, m) = set_times(atim, mtim, fst)?;
            let h = ctx.handle(u(fd))?;
            Ok(ctx.fs().set_times(h, a, m)?)
        }
    );
    func!(
        linker,
        abi,
        "fd_pread",
        |ctx, mem, fd: i32, iovs: i32, n: i32, offset: i64, ret: i32| {
            fd_pread(ctx, mem, u(fd), u(iovs), u(n), offset as u64, u(ret))
        }
    );
    func!(
        linker,
        abi,
        "fd_prestat_get",
        |ctx, mem, fd: i32, ret: i32| {
            let Desc::Dir {
                preopen: Some(name),
                ..
            } = ctx.fds.get(u(fd))?
            else {
                return Err(Errno::BADF);
            };
            let mut b = [0u8; 8];
            b[4..8].copy_from_slice(&u32::try_from(name.len())?.to_le_bytes());
            mem.write(u(ret), &b)
        }
    );
    func!(
        linker,
        abi,
        "fd_prestat_dir_name",
        |ctx, mem, fd: i32, path: i32, len: i32| {
            let Desc::Dir {
                preopen: Some(name),
                ..
            } = ctx.fds.get(u(fd))?
            else {
                return Err(Errno::NOTDIR);
            };
            if name.len() > u(len) as usize {
                return Err(Errno::NAMETOOLONG);
            }
            mem.write(u(path), name.as_bytes())
        }
    );
    func!(
        linker,
        abi,
        "fd_pwrite",
        |ctx, mem, fd: i32, iovs: i32, n: i32, offset: i64, ret: i32| {
            fd_write(ctx, mem, u(fd), u(iovs), u(n), Some(offset as u64), u(ret))
        }
    );
    func!(
        linker,
        abi,
        "fd_read",
        |ctx, mem, fd: i32, iovs: i32, n: i32, ret: i32| {
            fd_read(ctx, mem, u(fd), u(iovs), u(n), u(ret))
        }
    );
    func!(
        linker,
        abi,
        "fd_readdir",
        |ctx, mem, fd: i32, buf: i32, len: i32, cookie: i64, ret: i32| {
            fd_readdir(ctx, mem, u(fd), u(buf), u(len), cookie as u64, u(ret))
        }
    );
    func!(
        linker,
        abi,
        "fd_renumber",
        |ctx, _mem, from: i32, to: i32| {
            let (from, to) = (u(from), u(to));
            if !ctx.fds.contains(from) || !ctx.fds.contains(to) {
                return Err(Errno::BADF);
            }
            if from == to {
                return Ok(());
            }
            // What `to` referred to is closed (errors ignored, as `dup2` does), unless a
            // duplicate still refers to it.
            let _ = ctx.close_fd(to);
            ctx.fds.renumber(from, to)
        }
    );
    func!(
        linker,
        abi,
        "fd_seek",
        |ctx, mem, fd: i32, offset: i64, wh: i32, ret: i32| {
            let wh = whence(abi, wh)?;
            mem.range(u(ret), 8)?;
            let pos = match ctx.fds.get(u(fd))? {
                Desc::File { handle, .. } => {
                    if wh == Whence::Set && offset < 0 {
                        return Err(Errno::INVAL);
                    }
                    ctx.fs().seek(*handle, offset, wh)?
                }
                Desc::Stdin | Desc::Stdout | Desc::Stderr => return Err(Errno::SPIPE),
                Desc::Dir { .. } => return Err(Errno::BADF),
            };
            mem.write_u64(u(ret), pos)
        }
    );
    func!(linker, abi, "fd_tell", |ctx, mem, fd: i32, ret: i32| {
        let pos = match ctx.fds.get(u(fd))? {
            Desc::File { handle, .. } => ctx.fs().seek(*handle, 0, Whence::Cur)?,
            Desc::Stdin | Desc::Stdout | Desc::Stderr => return Err(Errno::SPIPE),
            Desc::Dir { .. } => return Err(Errno::BADF),
        };
        mem.write_u64(u(ret), pos)
    });
    func!(
        linker,
        abi,
        "fd_write",
        |ctx, mem, fd: i32, iovs: i32, n: i32, ret: i32| {
            fd_write(ctx, mem, u(fd), u(iovs), u(n), None, u(ret))
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filestat_layouts() {
        let st = Stat {
            dev: 1,
            ino: 2,
            filetype: Some(FileType::RegularFile),
            nlink: 3,
            size: 4,
            atim: 5,
            mtim: 6,
            ctim: 7,
        };
        let (p1, n1) = encode_filestat(Abi::P1, &st);
        assert_eq!(n1, 64);
        assert_eq!(p1[16], 4);
        assert_eq!(p1[24], 3);
        assert_eq!(p1[32], 4);
        assert_eq!(p1[56], 7);
        let (p0, n0) = encode_filestat(Abi::P0, &st);
        assert_eq!(n0, 56);
        assert_eq!(p0[20], 3);
        assert_eq!(p0[24], 4);
        assert_eq!(p0[48], 7);
    }

    #[test]
    fn whence_numbering() {
        assert_eq!(whence(Abi::P1, 0), Ok(Whence::Set));
        assert_eq!(whence(Abi::P1, 1), Ok(Whence::Cur));
        assert_eq!(whence(Abi::P1, 2), Ok(Whence::End));
        assert_eq!(whence(Abi::P0, 0), Ok(Whence::Cur));
        assert_eq!(whence(Abi::P0, 1), Ok(Whence::End));
        assert_eq!(whence(Abi::P0, 2), Ok(Whence::Set));
        assert_eq!(whence(Abi::P1, 3), Err(Errno::INVAL));
        assert_eq!(whence(Abi::P0, -1), Err(Errno::INVAL));
    }

    #[test]
    fn fst_flags() {
        assert_eq!(set_times(1, 2, 0), Ok((SetTime::Omit, SetTime::Omit)));
        assert_eq!(set_times(1, 2, 1 | 8), Ok((SetTime::At(1), SetTime::Now)));
        assert_eq!(set_times(1, 2, 1 | 2), Err(Errno::INVAL));
        assert_eq!(set_times(1, 2, 16), Err(Errno::INVAL));
    }
}
