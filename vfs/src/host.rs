//! Host-side helpers: errno mapping, stat conversion and times.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cap_std::fs::{FileTypeExt as _, Metadata, MetadataExt as _};
use webc_container::{EntryKind, Node};
use webc_runner_api::fs::{Errno, FileType, SetTime, Stat};

/// Maps a host I/O error as wasmtime-wasi does: the OS errno when there is one, else
/// `PermissionDenied` (cap-std's "a path led outside of the filesystem") → `Perm`.
pub(crate) fn host_errno(e: &std::io::Error) -> Errno {
    if let Some(raw) = e.raw_os_error() {
        return Errno::from_raw_os(raw);
    }
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => Errno::Perm,
        _ => Errno::from_io(e),
    }
}

fn ns(secs: i64, nsec: i64) -> u64 {
    if secs < 0 {
        return 0;
    }
    (secs as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec.clamp(0, 999_999_999) as u64)
}

/// The WASI file type of host metadata.
pub(crate) fn host_filetype(md: &Metadata) -> FileType {
    entry_filetype(md.file_type())
}

/// The WASI file type of a host file type (from metadata or a directory entry).
pub(crate) fn entry_filetype(t: cap_std::fs::FileType) -> FileType {
    if t.is_dir() {
        FileType::Directory
    } else if t.is_file() {
        FileType::RegularFile
    } else if t.is_symlink() {
        FileType::SymbolicLink
    } else if t.is_block_device() {
        FileType::BlockDevice
    } else if t.is_char_device() {
        FileType::CharacterDevice
    } else if t.is_socket() {
        FileType::SocketStream
    } else {
        FileType::Unknown
    }
}

/// A host entry's attributes, as the host reports them.
pub(crate) fn host_stat(md: &Metadata) -> Stat {
    Stat {
        dev: md.dev(),
        ino: md.ino(),
        filetype: Some(host_filetype(md)),
        nlink: md.nlink(),
        size: md.len(),
        atim: ns(md.atime(), md.atime_nsec()),
        mtim: ns(md.mtime(), md.mtime_nsec()),
        ctim: ns(md.ctime(), md.ctime_nsec()),
    }
}

/// The WASI file type of a volume entry.
pub(crate) fn volume_filetype(node: &Node) -> FileType {
    match node.kind() {
        EntryKind::Dir => FileType::Directory,
        EntryKind::File => FileType::RegularFile,
        EntryKind::Symlink => FileType::SymbolicLink,
    }
}

/// A volume entry's attributes: `ino` = record offset + 1 (stable for a path within a
/// run), `nlink` 1, times from v3's seconds (0 in v1/v2).
pub(crate) fn volume_stat(dev: u64, node: &Node) -> Stat {
    let t = node
        .modified()
        .map_or(0, |s| s.saturating_mul(1_000_000_000));
    Stat {
        dev,
        ino: node.id().wrapping_add(1),
        filetype: Some(volume_filetype(node)),
        nlink: 1,
        size: node.len(),
        atim: t,
        mtim: t,
        ctim: t,
    }
}

/// A [`SetTime`] as std wants it (`None` = leave unchanged).
pub(crate) fn system_time(t: SetTime) -> Option<SystemTime> {
    match t {
        SetTime::Omit => None,
        SetTime::Now => Some(SystemTime::now()),
        SetTime::At(ns) => Some(UNIX_EPOCH + Duration::from_nanos(ns)),
    }
}

/// A [`SetTime`] as cap-fs-ext wants it.
pub(crate) fn time_spec(t: SetTime) -> Option<cap_fs_ext::SystemTimeSpec> {
    match t {
        SetTime::Omit => None,
        SetTime::Now => Some(cap_fs_ext::SystemTimeSpec::SymbolicNow),
        SetTime::At(ns) => Some(cap_fs_ext::SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(UNIX_EPOCH + Duration::from_nanos(ns)),
        )),
    }
}
