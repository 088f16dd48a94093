//! The file system a runner sees: implemented by the host, called by runners.
//!
//! The host mounts the container's volumes read-only, the directories the user granted
//! (read-only or read-write) and a private writable `/tmp`, and checks every permission
//! here, once, for all runners. Runners address files through [`Handle`]s, POSIX
//! `*at`-style: every path is relative to an open directory handle (a preopen or a
//! directory the guest opened) and is resolved in the guest's namespace, whose root `/` is
//! the top: `..` never leads out of it to the host, and a symlink never leaves its mount.
//! Errors are [`Errno`] values numbered as WASI preview1 numbers them, so the WASI runner
//! passes them through untouched and other runners map them to their own errno spaces.

use serde::{Deserialize, Serialize};

/// An open file or directory, valid for the duration of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Handle(pub u64);

/// Error numbers, with WASI preview1's numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum Errno {
    /// Argument list too long.
    TooBig = 1,
    /// Permission denied.
    Acces = 2,
    /// Resource unavailable, or operation would block.
    Again = 6,
    /// Bad file descriptor (handle).
    Badf = 8,
    /// Device or resource busy.
    Busy = 10,
    /// File exists.
    Exist = 20,
    /// File too large.
    Fbig = 22,
    /// Interrupted.
    Intr = 27,
    /// Invalid argument.
    Inval = 28,
    /// I/O error.
    Io = 29,
    /// Is a directory.
    Isdir = 31,
    /// Too many levels of symbolic links.
    Loop = 32,
    /// Too many links.
    Mlink = 34,
    /// Filename too long.
    Nametoolong = 37,
    /// No such file or directory.
    Noent = 44,
    /// Not enough space.
    Nomem = 48,
    /// No space left on device.
    Nospc = 51,
    /// Function not supported.
    Nosys = 52,
    /// Not a directory.
    Notdir = 54,
    /// Directory not empty.
    Notempty = 55,
    /// Not supported.
    Notsup = 58,
    /// Operation not permitted.
    Perm = 63,
    /// Read-only file system.
    Rofs = 69,
    /// Invalid seek.
    Spipe = 70,
    /// Cross-device link.
    Xdev = 75,
    /// Capabilities insufficient.
    Notcapable = 76,
}

impl Errno {
    /// The WASI preview1 number.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The errno for a number (unknown numbers become [`Errno::Io`]).
    pub fn from_code(code: u16) -> Errno {
        use Errno::*;
        const ALL: &[Errno] = &[
            TooBig,
            Acces,
            Again,
            Badf,
            Busy,
            Exist,
            Fbig,
            Intr,
            Inval,
            Io,
            Isdir,
            Loop,
            Mlink,
            Nametoolong,
            Noent,
            Nomem,
            Nospc,
            Nosys,
            Notdir,
            Notempty,
            Notsup,
            Perm,
            Rofs,
            Spipe,
            Xdev,
            Notcapable,
        ];
        ALL.iter().copied().find(|e| e.code() == code).unwrap_or(Io)
    }

    /// Maps a host I/O error to the closest errno.
    pub fn from_io(e: &std::io::Error) -> Errno {
        use std::io::ErrorKind as K;
        if let Some(raw) = e.raw_os_error() {
            return Errno::from_raw_os(raw);
        }
        match e.kind() {
            K::NotFound => Errno::Noent,
            K::PermissionDenied => Errno::Acces,
            K::AlreadyExists => Errno::Exist,
            K::InvalidInput => Errno::Inval,
            K::WouldBlock => Errno::Again,
            K::Interrupted => Errno::Intr,
            K::Unsupported => Errno::Notsup,
            K::OutOfMemory => Errno::Nomem,
            K::NotADirectory => Errno::Notdir,
            K::IsADirectory => Errno::Isdir,
            K::DirectoryNotEmpty => Errno::Notempty,
            K::ReadOnlyFilesystem => Errno::Rofs,
            K::StorageFull => Errno::Nospc,
            K::FileTooLarge => Errno::Fbig,
            K::CrossesDevices => Errno::Xdev,
            K::InvalidFilename => Errno::Nametoolong,
            K::NotSeekable => Errno::Spipe,
            K::ResourceBusy => Errno::Busy,
            K::TooManyLinks => Errno::Mlink,
            _ => Errno::Io,
        }
    }

    /// Maps a Linux errno value.
    pub fn from_raw_os(raw: i32) -> Errno {
        match raw {
            1 => Errno::Perm,
            2 => Errno::Noent,
            5 => Errno::Io,
            9 => Errno::Badf,
            11 => Errno::Again,
            12 => Errno::Nomem,
            13 => Errno::Acces,
            16 => Errno::Busy,
            17 => Errno::Exist,
            18 => Errno::Xdev,
            20 => Errno::Notdir,
            21 => Errno::Isdir,
            22 => Errno::Inval,
            27 => Errno::Fbig,
            28 => Errno::Nospc,
            29 => Errno::Spipe,
            30 => Errno::Rofs,
            31 => Errno::Mlink,
            36 => Errno::Nametoolong,
            38 => Errno::Nosys,
            39 => Errno::Notempty,
            40 => Errno::Loop,
            95 => Errno::Notsup,
            4 => Errno::Intr,
            7 => Errno::TooBig,
            _ => Errno::Io,
        }
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?} (errno {})", self.code())
    }
}

impl std::error::Error for Errno {}

/// `Result` of a file-system call.
pub type FsResult<T> = Result<T, Errno>;

/// Type of a file-system entry (WASI `filetype` numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum FileType {
    /// Unknown.
    Unknown = 0,
    /// Block device.
    BlockDevice = 1,
    /// Character device.
    CharacterDevice = 2,
    /// Directory.
    Directory = 3,
    /// Regular file.
    RegularFile = 4,
    /// Datagram socket.
    SocketDgram = 5,
    /// Stream socket.
    SocketStream = 6,
    /// Symbolic link.
    SymbolicLink = 7,
}

impl FileType {
    /// From the WASI number (unknown values → `Unknown`).
    pub fn from_code(c: u8) -> FileType {
        match c {
            1 => FileType::BlockDevice,
            2 => FileType::CharacterDevice,
            3 => FileType::Directory,
            4 => FileType::RegularFile,
            5 => FileType::SocketDgram,
            6 => FileType::SocketStream,
            7 => FileType::SymbolicLink,
            _ => FileType::Unknown,
        }
    }
}

/// File attributes (WASI `filestat`). Times are nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stat {
    /// Device id (one per mount).
    pub dev: u64,
    /// Inode number, stable for the duration of a job (synthetic for volumes).
    pub ino: u64,
    /// Entry type.
    pub filetype: Option<FileType>,
    /// Number of hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access time.
    pub atim: u64,
    /// Last modification time.
    pub mtim: u64,
    /// Last status change time.
    pub ctim: u64,
}

/// How to open a path (the union of WASI `oflags`, rights and `fdflags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OpenOptions {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Create if missing.
    pub create: bool,
    /// With `create`: fail if it exists.
    pub exclusive: bool,
    /// Truncate to zero length.
    pub truncate: bool,
    /// Fail unless it is a directory.
    pub directory: bool,
    /// Writes append.
    pub append: bool,
    /// Follow a symlink in the last path component.
    pub follow: bool,
}

/// A time to set (WASI `fst_flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetTime {
    /// Leave unchanged.
    Omit,
    /// The current time.
    Now,
    /// This many nanoseconds since the epoch.
    At(u64),
}

/// Where a seek offset counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Whence {
    /// From the start.
    Set,
    /// From the current position.
    Cur,
    /// From the end.
    End,
}

/// One directory entry as `readdir` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// Cookie of the entry after this one (pass it to continue listing).
    pub next: u64,
    /// Inode number.
    pub ino: u64,
    /// Entry type.
    pub filetype: FileType,
    /// Name.
    pub name: String,
}

/// A directory the guest starts with (WASI preopen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preopen {
    /// Path as the guest sees it, e.g. `/` or `/data`.
    pub guest_path: String,
    /// Directory handle.
    pub handle: Handle,
}

/// Descriptor flags a handle was opened with (WASI `fdflags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HandleInfo {
    /// Entry type.
    pub filetype: Option<FileType>,
    /// Readable.
    pub read: bool,
    /// Writable (false on read-only mounts even if requested).
    pub write: bool,
    /// Writes append.
    pub append: bool,
}

/// The host file system, as runners call it. Implemented by the host; every permission
/// check happens behind this trait. All methods are `&self`: implementations are
/// internally synchronised so a runner may call from several threads.
pub trait FileSystem: Send + Sync {
    /// Directories the program starts with, in the order a WASI runner should number them.
    fn preopens(&self) -> Vec<Preopen>;
    /// Opens `path` relative to directory `dir`.
    fn open(&self, dir: Handle, path: &str, options: OpenOptions) -> FsResult<Handle>;
    /// Closes a handle.
    fn close(&self, handle: Handle) -> FsResult<()>;
    /// What a handle is and how it was opened.
    fn handle_info(&self, handle: Handle) -> FsResult<HandleInfo>;
    /// Changes the append flag of a handle.
    fn set_append(&self, handle: Handle, append: bool) -> FsResult<()>;
    /// Reads at the current position.
    fn read(&self, handle: Handle, buf: &mut [u8]) -> FsResult<usize>;
    /// Reads at `offset` without moving the position.
    fn pread(&self, handle: Handle, buf: &mut [u8], offset: u64) -> FsResult<usize>;
    /// Writes at the current position (or the end, with append).
    fn write(&self, handle: Handle, buf: &[u8]) -> FsResult<usize>;
    /// Writes at `offset` without moving the position.
    fn pwrite(&self, handle: Handle, buf: &[u8], offset: u64) -> FsResult<usize>;
    /// Moves the position; returns the new one.
    fn seek(&self, handle: Handle, offset: i64, whence: Whence) -> FsResult<u64>;
    /// Attributes of an open handle.
    fn fstat(&self, handle: Handle) -> FsResult<Stat>;
    /// Attributes of `path` relative to `dir`.
    fn stat(&self, dir: Handle, path: &str, follow: bool) -> FsResult<Stat>;
    /// Lists a directory handle from `cookie` (0 = start; `.` and `..` included), at most
    /// `max` entries.
    fn readdir(&self, handle: Handle, cookie: u64, max: usize) -> FsResult<Vec<DirEntry>>;
    /// Creates a directory.
    fn mkdir(&self, dir: Handle, path: &str) -> FsResult<()>;
    /// Removes a file or symlink.
    fn unlink(&self, dir: Handle, path: &str) -> FsResult<()>;
    /// Removes an empty directory.
    fn rmdir(&self, dir: Handle, path: &str) -> FsResult<()>;
    /// Renames within or across directories of the same mount.
    fn rename(&self, dir: Handle, path: &str, new_dir: Handle, new_path: &str) -> FsResult<()>;
    /// Creates a symlink at `path` pointing to `target`.
    fn symlink(&self, target: &str, dir: Handle, path: &str) -> FsResult<()>;
    /// Reads a symlink.
    fn readlink(&self, dir: Handle, path: &str) -> FsResult<String>;
    /// Creates a hard link.
    fn link(
        &self,
        dir: Handle,
        path: &str,
        new_dir: Handle,
        new_path: &str,
        follow: bool,
    ) -> FsResult<()>;
    /// Sets the size of an open file.
    fn truncate(&self, handle: Handle, size: u64) -> FsResult<()>;
    /// Ensures space for `offset..offset+len`.
    fn allocate(&self, handle: Handle, offset: u64, len: u64) -> FsResult<()>;
    /// Sets access/modification times of an open handle.
    fn set_times(&self, handle: Handle, atime: SetTime, mtime: SetTime) -> FsResult<()>;
    /// Sets access/modification times of `path`.
    fn set_times_at(
        &self,
        dir: Handle,
        path: &str,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> FsResult<()>;
    /// Flushes data (and metadata unless `data_only`) to storage.
    fn sync(&self, handle: Handle, data_only: bool) -> FsResult<()>;
}
