//! The file system across the boundary: [`AbiFs`] (FFI-safe) ⇄ [`FileSystem`] (plain Rust).

use abi_stable::StableAbi;
use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{RResult, RSlice, RSliceMut, RStr, RString, RVec};

use crate::fs::{
    DirEntry, Errno, FileSystem, FileType, FsResult, Handle, HandleInfo, OpenOptions, Preopen,
    SetTime, Stat, Whence,
};

/// FFI-safe `Stat`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct RStat {
    dev: u64,
    ino: u64,
    /// 255: none.
    filetype: u8,
    nlink: u64,
    size: u64,
    atim: u64,
    mtim: u64,
    ctim: u64,
}

/// FFI-safe `DirEntry`.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct RDirEntry {
    next: u64,
    ino: u64,
    filetype: u8,
    name: RString,
}

/// FFI-safe `Preopen`.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct RPreopen {
    guest_path: RString,
    handle: u64,
}

/// FFI-safe `SetTime`: kind 0 omit, 1 now, 2 at `ns`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct RSetTime {
    kind: u8,
    ns: u64,
}

type R<T> = RResult<T, u16>;

/// The file system as the plugin sees it through the boundary.
#[sabi_trait]
pub trait AbiFs: Send + Sync {
    fn preopens(&self) -> RVec<RPreopen>;
    fn open(&self, dir: u64, path: RStr<'_>, options: u32) -> R<u64>;
    fn close(&self, handle: u64) -> R<()>;
    /// bits: 1 read, 2 write, 4 append; filetype in bits 8..16 (255 none).
    fn handle_info(&self, handle: u64) -> R<u32>;
    fn set_append(&self, handle: u64, append: bool) -> R<()>;
    fn read(&self, handle: u64, buf: RSliceMut<'_, u8>) -> R<usize>;
    fn pread(&self, handle: u64, buf: RSliceMut<'_, u8>, offset: u64) -> R<usize>;
    fn write(&self, handle: u64, buf: RSlice<'_, u8>) -> R<usize>;
    fn pwrite(&self, handle: u64, buf: RSlice<'_, u8>, offset: u64) -> R<usize>;
    fn seek(&self, handle: u64, offset: i64, whence: u8) -> R<u64>;
    fn fstat(&self, handle: u64) -> R<RStat>;
    fn stat(&self, dir: u64, path: RStr<'_>, follow: bool) -> R<RStat>;
    fn readdir(&self, handle: u64, cookie: u64, max: usize) -> R<RVec<RDirEntry>>;
    fn mkdir(&self, dir: u64, path: RStr<'_>) -> R<()>;
    fn unlink(&self, dir: u64, path: RStr<'_>) -> R<()>;
    fn rmdir(&self, dir: u64, path: RStr<'_>) -> R<()>;
    fn rename(&self, dir: u64, path: RStr<'_>, new_dir: u64, new_path: RStr<'_>) -> R<()>;
    fn symlink(&self, target: RStr<'_>, dir: u64, path: RStr<'_>) -> R<()>;
    fn readlink(&self, dir: u64, path: RStr<'_>) -> R<RString>;
    fn link(
        &self,
        dir: u64,
        path: RStr<'_>,
        new_dir: u64,
        new_path: RStr<'_>,
        follow: bool,
    ) -> R<()>;
    fn truncate(&self, handle: u64, size: u64) -> R<()>;
    fn allocate(&self, handle: u64, offset: u64, len: u64) -> R<()>;
    fn set_times(&self, handle: u64, atime: RSetTime, mtime: RSetTime) -> R<()>;
    fn set_times_at(
        &self,
        dir: u64,
        path: RStr<'_>,
        follow: bool,
        atime: RSetTime,
        mtime: RSetTime,
    ) -> R<()>;
    #[sabi(last_prefix_field)]
    fn sync(&self, handle: u64, data_only: bool) -> R<()>;
}

/// The file-system object passed to a plugin for one job.
pub type FsBox<'a> = AbiFs_TO<'a, RRef<'a, ()>>;

type Flag = fn(&OpenOptions) -> bool;

const OPEN_BITS: [(u32, Flag); 8] = [
    (1, |o| o.read),
    (2, |o| o.write),
    (4, |o| o.create),
    (8, |o| o.exclusive),
    (16, |o| o.truncate),
    (32, |o| o.directory),
    (64, |o| o.append),
    (128, |o| o.follow),
];

fn encode_open(o: &OpenOptions) -> u32 {
    OPEN_BITS.iter().filter(|(_, f)| f(o)).map(|(b, _)| b).sum()
}

fn decode_open(bits: u32) -> OpenOptions {
    let has = |b: u32| bits & b != 0;
    OpenOptions {
        read: has(1),
        write: has(2),
        create: has(4),
        exclusive: has(8),
        truncate: has(16),
        directory: has(32),
        append: has(64),
        follow: has(128),
    }
}

fn encode_stat(s: &Stat) -> RStat {
    RStat {
        dev: s.dev,
        ino: s.ino,
        filetype: s.filetype.map_or(255, |t| t as u8),
        nlink: s.nlink,
        size: s.size,
        atim: s.atim,
        mtim: s.mtim,
        ctim: s.ctim,
    }
}

fn decode_stat(s: RStat) -> Stat {
    Stat {
        dev: s.dev,
        ino: s.ino,
        filetype: (s.filetype != 255).then(|| FileType::from_code(s.filetype)),
        nlink: s.nlink,
        size: s.size,
        atim: s.atim,
        mtim: s.mtim,
        ctim: s.ctim,
    }
}

fn encode_time(t: SetTime) -> RSetTime {
    match t {
        SetTime::Omit => RSetTime { kind: 0, ns: 0 },
        SetTime::Now => RSetTime { kind: 1, ns: 0 },
        SetTime::At(ns) => RSetTime { kind: 2, ns },
    }
}

fn decode_time(t: RSetTime) -> SetTime {
    match t.kind {
        1 => SetTime::Now,
        2 => SetTime::At(t.ns),
        _ => SetTime::Omit,
    }
}

fn encode_whence(w: Whence) -> u8 {
    match w {
        Whence::Set => 0,
        Whence::Cur => 1,
        Whence::End => 2,
    }
}

fn r<T>(v: FsResult<T>) -> R<T> {
    match v {
        Ok(v) => RResult::ROk(v),
        Err(e) => RResult::RErr(e.code()),
    }
}

fn p<T>(v: R<T>) -> FsResult<T> {
    match v {
        RResult::ROk(v) => Ok(v),
        RResult::RErr(e) => Err(Errno::from_code(e)),
    }
}

/// Host side: exposes a [`FileSystem`] through [`AbiFs`].
#[derive(Clone, Copy)]
pub struct HostFs<'a>(pub &'a dyn FileSystem);

impl std::fmt::Debug for HostFs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostFs")
    }
}

/// Wraps a host file system for one call.
pub(crate) fn host_box<'a>(fs: &'a HostFs<'a>) -> FsBox<'a> {
    AbiFs_TO::from_ptr(RRef::new(fs), TD_Opaque)
}

impl AbiFs for HostFs<'_> {
    fn preopens(&self) -> RVec<RPreopen> {
        self.0
            .preopens()
            .into_iter()
            .map(|p| RPreopen {
                guest_path: p.guest_path.into(),
                handle: p.handle.0,
            })
            .collect()
    }
    fn open(&self, dir: u64, path: RStr<'_>, options: u32) -> R<u64> {
        r(self
            .0
            .open(Handle(dir), path.as_str(), decode_open(options))
            .map(|h| h.0))
    }
    fn close(&self, handle: u64) -> R<()> {
        r(self.0.close(Handle(handle)))
    }
    fn handle_info(&self, handle: u64) -> R<u32> {
        r(self.0.handle_info(Handle(handle)).map(|i| {
            u32::from(i.read)
                | (u32::from(i.write) << 1)
                | (u32::from(i.append) << 2)
                | (u32::from(i.filetype.map_or(255, |t| t as u8)) << 8)
        }))
    }
    fn set_append(&self, handle: u64, append: bool) -> R<()> {
        r(self.0.set_append(Handle(handle), append))
    }
    fn read(&self, handle: u64, mut buf: RSliceMut<'_, u8>) -> R<usize> {
        r(self.0.read(Handle(handle), buf.as_mut_slice()))
    }
    fn pread(&self, handle: u64, mut buf: RSliceMut<'_, u8>, offset: u64) -> R<usize> {
        r(self.0.pread(Handle(handle), buf.as_mut_slice(), offset))
    }
    fn write(&self, handle: u64, buf: RSlice<'_, u8>) -> R<usize> {
        r(self.0.write(Handle(handle), buf.as_slice()))
    }
    fn pwrite(&self, handle: u64, buf: RSlice<'_, u8>, offset: u64) -> R<usize> {
        r(self.0.pwrite(Handle(handle), buf.as_slice(), offset))
    }
    fn seek(&self, handle: u64, offset: i64, whence: u8) -> R<u64> {
        let whence = match whence {
            0 => Whence::Set,
            1 => Whence::Cur,
            2 => Whence::End,
            _ => return RResult::RErr(Errno::Inval.code()),
        };
        r(self.0.seek(Handle(handle), offset, whence))
    }
    fn fstat(&self, handle: u64) -> R<RStat> {
        r(self.0.fstat(Handle(handle)).map(|s| encode_stat(&s)))
    }
    fn stat(&self, dir: u64, path: RStr<'_>, follow: bool) -> R<RStat> {
        r(self
            .0
            .stat(Handle(dir), path.as_str(), follow)
            .map(|s| encode_stat(&s)))
    }
    fn readdir(&self, handle: u64, cookie: u64, max: usize) -> R<RVec<RDirEntry>> {
        r(self.0.readdir(Handle(handle), cookie, max).map(|v| {
            v.into_iter()
                .map(|e| RDirEntry {
                    next: e.next,
                    ino: e.ino,
                    filetype: e.filetype as u8,
                    name: e.name.into(),
                })
                .collect()
        }))
    }
    fn mkdir(&self, dir: u64, path: RStr<'_>) -> R<()> {
        r(self.0.mkdir(Handle(dir), path.as_str()))
    }
    fn unlink(&self, dir: u64, path: RStr<'_>) -> R<()> {
        r(self.0.unlink(Handle(dir), path.as_str()))
    }
    fn rmdir(&self, dir: u64, path: RStr<'_>) -> R<()> {
        r(self.0.rmdir(Handle(dir), path.as_str()))
    }
    fn rename(&self, dir: u64, path: RStr<'_>, new_dir: u64, new_path: RStr<'_>) -> R<()> {
        r(self.0.rename(
            Handle(dir),
            path.as_str(),
            Handle(new_dir),
            new_path.as_str(),
        ))
    }
    fn symlink(&self, target: RStr<'_>, dir: u64, path: RStr<'_>) -> R<()> {
        r(self.0.symlink(target.as_str(), Handle(dir), path.as_str()))
    }
    fn readlink(&self, dir: u64, path: RStr<'_>) -> R<RString> {
        r(self
            .0
            .readlink(Handle(dir), path.as_str())
            .map(RString::from))
    }
    fn link(
        &self,
        dir: u64,
        path: RStr<'_>,
        new_dir: u64,
        new_path: RStr<'_>,
        follow: bool,
    ) -> R<()> {
        r(self.0.link(
            Handle(dir),
            path.as_str(),
            Handle(new_dir),
            new_path.as_str(),
            follow,
        ))
    }
    fn truncate(&self, handle: u64, size: u64) -> R<()> {
        r(self.0.truncate(Handle(handle), size))
    }
    fn allocate(&self, handle: u64, offset: u64, len: u64) -> R<()> {
        r(self.0.allocate(Handle(handle), offset, len))
    }
    fn set_times(&self, handle: u64, atime: RSetTime, mtime: RSetTime) -> R<()> {
        r(self
            .0
            .set_times(Handle(handle), decode_time(atime), decode_time(mtime)))
    }
    fn set_times_at(
        &self,
        dir: u64,
        path: RStr<'_>,
        follow: bool,
        atime: RSetTime,
        mtime: RSetTime,
    ) -> R<()> {
        r(self.0.set_times_at(
            Handle(dir),
            path.as_str(),
            follow,
            decode_time(atime),
            decode_time(mtime),
        ))
    }
    fn sync(&self, handle: u64, data_only: bool) -> R<()> {
        r(self.0.sync(Handle(handle), data_only))
    }
}

/// Plugin side: the boundary object as a plain [`FileSystem`].
pub(crate) struct PluginFs<'a>(pub(crate) FsBox<'a>);

impl FileSystem for PluginFs<'_> {
    fn preopens(&self) -> Vec<Preopen> {
        self.0
            .preopens()
            .into_iter()
            .map(|p| Preopen {
                guest_path: p.guest_path.into(),
                handle: Handle(p.handle),
            })
            .collect()
    }
    fn open(&self, dir: Handle, path: &str, options: OpenOptions) -> FsResult<Handle> {
        p(self.0.open(dir.0, path.into(), encode_open(&options))).map(Handle)
    }
    fn close(&self, handle: Handle) -> FsResult<()> {
        p(self.0.close(handle.0))
    }
    fn handle_info(&self, handle: Handle) -> FsResult<HandleInfo> {
        p(self.0.handle_info(handle.0)).map(|bits| {
            let ft = ((bits >> 8) & 0xff) as u8;
            HandleInfo {
                read: bits & 1 != 0,
                write: bits & 2 != 0,
                append: bits & 4 != 0,
                filetype: (ft != 255).then(|| FileType::from_code(ft)),
            }
        })
    }
    fn set_append(&self, handle: Handle, append: bool) -> FsResult<()> {
        p(self.0.set_append(handle.0, append))
    }
    fn read(&self, handle: Handle, buf: &mut [u8]) -> FsResult<usize> {
        p(self.0.read(handle.0, buf.into()))
    }
    fn pread(&self, handle: Handle, buf: &mut [u8], offset: u64) -> FsResult<usize> {
        p(self.0.pread(handle.0, buf.into(), offset))
    }
    fn write(&self, handle: Handle, buf: &[u8]) -> FsResult<usize> {
        p(self.0.write(handle.0, buf.into()))
    }
    fn pwrite(&self, handle: Handle, buf: &[u8], offset: u64) -> FsResult<usize> {
        p(self.0.pwrite(handle.0, buf.into(), offset))
    }
    fn seek(&self, handle: Handle, offset: i64, whence: Whence) -> FsResult<u64> {
        p(self.0.seek(handle.0, offset, encode_whence(whence)))
    }
    fn fstat(&self, handle: Handle) -> FsResult<Stat> {
        p(self.0.fstat(handle.0)).map(decode_stat)
    }
    fn stat(&self, dir: Handle, path: &str, follow: bool) -> FsResult<Stat> {
        p(self.0.stat(dir.0, path.into(), follow)).map(decode_stat)
    }
    fn readdir(&self, handle: Handle, cookie: u64, max: usize) -> FsResult<Vec<DirEntry>> {
        p(self.0.readdir(handle.0, cookie, max)).map(|v| {
            v.into_iter()
                .map(|e| DirEntry {
                    next: e.next,
                    ino: e.ino,
                    filetype: FileType::from_code(e.filetype),
                    name: e.name.into(),
                })
                .collect()
        })
    }
    fn mkdir(&self, dir: Handle, path: &str) -> FsResult<()> {
        p(self.0.mkdir(dir.0, path.into()))
    }
    fn unlink(&self, dir: Handle, path: &str) -> FsResult<()> {
        p(self.0.unlink(dir.0, path.into()))
    }
    fn rmdir(&self, dir: Handle, path: &str) -> FsResult<()> {
        p(self.0.rmdir(dir.0, path.into()))
    }
    fn rename(&self, dir: Handle, path: &str, new_dir: Handle, new_path: &str) -> FsResult<()> {
        p(self
            .0
            .rename(dir.0, path.into(), new_dir.0, new_path.into()))
    }
    fn symlink(&self, target: &str, dir: Handle, path: &str) -> FsResult<()> {
        p(self.0.symlink(target.into(), dir.0, path.into()))
    }
    fn readlink(&self, dir: Handle, path: &str) -> FsResult<String> {
        p(self.0.readlink(dir.0, path.into())).map(Into::into)
    }
    fn link(
        &self,
        dir: Handle,
        path: &str,
        new_dir: Handle,
        new_path: &str,
        follow: bool,
    ) -> FsResult<()> {
        p(self
            .0
            .link(dir.0, path.into(), new_dir.0, new_path.into(), follow))
    }
    fn truncate(&self, handle: Handle, size: u64) -> FsResult<()> {
        p(self.0.truncate(handle.0, size))
    }
    fn allocate(&self, handle: Handle, offset: u64, len: u64) -> FsResult<()> {
        p(self.0.allocate(handle.0, offset, len))
    }
    fn set_times(&self, handle: Handle, atime: SetTime, mtime: SetTime) -> FsResult<()> {
        p(self
            .0
            .set_times(handle.0, encode_time(atime), encode_time(mtime)))
    }
    fn set_times_at(
        &self,
        dir: Handle,
        path: &str,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> FsResult<()> {
        p(self.0.set_times_at(
            dir.0,
            path.into(),
            follow,
            encode_time(atime),
            encode_time(mtime),
        ))
    }
    fn sync(&self, handle: Handle, data_only: bool) -> FsResult<()> {
        p(self.0.sync(handle.0, data_only))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_options_round_trip() {
        for bits in 0..256u32 {
            assert_eq!(encode_open(&decode_open(bits)), bits);
        }
    }
}
