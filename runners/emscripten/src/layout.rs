//! Guest record layouts and constants of the file-system imports (`__syscall_*`), as musl and
//! the emscripten 3.1.6 glue define them on wasm32. Everything is little-endian.

/// `AT_FDCWD`: the `dirfd` meaning "relative to the current directory".
pub const AT_FDCWD: i32 = -100;
/// `AT_SYMLINK_NOFOLLOW` (`*at` flags).
pub const AT_SYMLINK_NOFOLLOW: i32 = 0x100;
/// `AT_REMOVEDIR` (`unlinkat` flag).
pub const AT_REMOVEDIR: i32 = 0x200;
/// `AT_EMPTY_PATH` (`fstatat` flag; the glue accepts it).
pub const AT_EMPTY_PATH: i32 = 0x1000;

/// `O_RDONLY` (access mode 0).
pub const O_RDONLY: i32 = 0;
/// `O_WRONLY`.
pub const O_WRONLY: i32 = 1;
/// `O_RDWR`.
pub const O_RDWR: i32 = 2;
/// Mask of the access mode bits (musl's `O_ACCMODE` also includes `O_PATH`; this is the two bits).
pub const O_ACCMODE_BITS: i32 = 3;
/// `O_CREAT` (0o100).
pub const O_CREAT: i32 = 0o100;
/// `O_EXCL` (0o200).
pub const O_EXCL: i32 = 0o200;
/// `O_NOCTTY` (0o400).
pub const O_NOCTTY: i32 = 0o400;
/// `O_TRUNC` (0o1000).
pub const O_TRUNC: i32 = 0o1000;
/// `O_APPEND` (0o2000).
pub const O_APPEND: i32 = 0o2000;
/// `O_NONBLOCK` (0o4000).
pub const O_NONBLOCK: i32 = 0o4000;
/// `O_DIRECTORY` (0o200000).
pub const O_DIRECTORY: i32 = 0o200000;
/// `O_NOFOLLOW` (0o400000).
pub const O_NOFOLLOW: i32 = 0o400000;
/// `O_CLOEXEC` (0o2000000).
pub const O_CLOEXEC: i32 = 0o2000000;
/// `O_PATH` (0o10000000).
pub const O_PATH: i32 = 0o10000000;

/// Mask of the file-type bits of a mode.
pub const S_IFMT: u32 = 0o170000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// Block device.
pub const S_IFBLK: u32 = 0o060000;
/// FIFO.
pub const S_IFIFO: u32 = 0o010000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140000;

/// `ioctl` `TCGETS` (0x5401).
pub const TCGETS: i32 = 0x5401;
/// `ioctl` `TIOCGWINSZ` (0x5413): the glue returns 0 on a TTY, `-ENOTTY` otherwise.
pub const TIOCGWINSZ: i32 = 0x5413;

/// `fcntl` `F_DUPFD`.
pub const F_DUPFD: i32 = 0;
/// `fcntl` `F_GETFD` (the glue returns 0).
pub const F_GETFD: i32 = 1;
/// `fcntl` `F_SETFD` (the glue returns 0).
pub const F_SETFD: i32 = 2;
/// `fcntl` `F_GETFL`.
pub const F_GETFL: i32 = 3;
/// `fcntl` `F_SETFL` (the glue ORs the argument into the flags).
pub const F_SETFL: i32 = 4;
/// `fcntl` `F_GETLK` (5 in emscripten's musl, also for `F_GETLK64`; the glue reports `F_UNLCK`).
pub const F_GETLK: i32 = 5;
/// `fcntl` `F_SETLK` (the glue returns 0).
pub const F_SETLK: i32 = 6;
/// `fcntl` `F_SETLKW` (the glue returns 0).
pub const F_SETLKW: i32 = 7;
/// `fcntl` `F_SETOWN` (the glue returns `-EINVAL`).
pub const F_SETOWN: i32 = 8;
/// `fcntl` `F_GETOWN` (the glue sets errno EINVAL and returns -1).
pub const F_GETOWN: i32 = 9;
/// `fcntl` `F_GETOWN_EX` (the glue returns `-EINVAL`).
pub const F_GETOWN_EX: i32 = 16;
/// `fcntl` `F_DUPFD_CLOEXEC` (1030; not handled by the 3.1.6 glue, which returns `-EINVAL`, so
/// musl's `fcntl` falls back to `F_DUPFD` + `F_SETFD`).
pub const F_DUPFD_CLOEXEC: i32 = 1030;
/// `FD_CLOEXEC`, the `F_GETFD`/`F_SETFD` flag.
pub const FD_CLOEXEC: i32 = 1;
/// `F_UNLCK`, the `l_type` the glue's `F_GETLK` writes (an `i16` at +0 of `struct flock`).
pub const F_UNLCK: i16 = 2;

/// `EINVAL` in emscripten's (WASI) numbering.
pub const EINVAL: i32 = 28;
/// `ENAMETOOLONG` in emscripten's (WASI) numbering.
pub const ENAMETOOLONG: i32 = 37;

/// Size of `struct stat` as `__syscall_stat64` writes it.
pub const STAT_SIZE: usize = 88;
/// Size of one `getdents64` record as the 3.1.6 glue writes it (fixed, whatever the name).
pub const DIRENT_SIZE: usize = 280;
/// Longest name a [`dirent64`] record holds, in bytes (the field is 256 bytes with the NUL).
pub const DIRENT_NAME_MAX: usize = 255;

/// `st_blksize` the glue always reports.
pub const BLKSIZE: u32 = 4096;

/// The `d_type` byte of a `getdents64` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DirentType {
    /// `DT_CHR` (2).
    CharDevice = 2,
    /// `DT_DIR` (4).
    Directory = 4,
    /// `DT_REG` (8).
    Regular = 8,
    /// `DT_LNK` (10).
    Symlink = 10,
}

impl DirentType {
    /// The type of a mode's file-type bits, as the glue maps them: character device, directory,
    /// symlink, anything else a regular file.
    pub fn from_mode(mode: u32) -> DirentType {
        match mode & S_IFMT {
            S_IFCHR => DirentType::CharDevice,
            S_IFDIR => DirentType::Directory,
            S_IFLNK => DirentType::Symlink,
            _ => DirentType::Regular,
        }
    }
}

/// Why a record could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// A directory entry name longer than [`DIRENT_NAME_MAX`] bytes.
    #[error("directory entry name is {0} bytes, at most {DIRENT_NAME_MAX} fit")]
    NameTooLong(usize),
    /// A directory entry name containing a NUL byte.
    #[error("directory entry name contains a NUL byte")]
    NameHasNul,
}

impl LayoutError {
    /// The errno (emscripten numbering) an import reports for this error: `ENAMETOOLONG` or
    /// `EINVAL`.
    pub fn errno(&self) -> i32 {
        match self {
            LayoutError::NameTooLong(_) => ENAMETOOLONG,
            LayoutError::NameHasNul => EINVAL,
        }
    }
}

/// A timestamp: seconds since the epoch and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timespec {
    /// Seconds since the epoch (narrowed to the 32-bit `time_t` by wrapping, as the glue's `|0`).
    pub sec: i64,
    /// Nanoseconds (0–999 999 999).
    pub nsec: u32,
}

/// Inputs of a `struct stat` record ([`Stat::encode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    /// `st_dev`.
    pub dev: u32,
    /// `st_ino` (written as 32 bits at +8 and as 64 bits at +80).
    pub ino: u64,
    /// `st_mode`: file-type bits and permissions.
    pub mode: u32,
    /// `st_nlink`.
    pub nlink: u32,
    /// `st_uid`.
    pub uid: u32,
    /// `st_gid`.
    pub gid: u32,
    /// `st_rdev`.
    pub rdev: u32,
    /// `st_size`.
    pub size: u64,
    /// `st_blksize` (the glue always writes [`BLKSIZE`]).
    pub blksize: u32,
    /// `st_blocks`.
    pub blocks: u32,
    /// `st_atim`.
    pub atime: Timespec,
    /// `st_mtim`.
    pub mtime: Timespec,
    /// `st_ctim`.
    pub ctime: Timespec,
}

fn put_u32(out: &mut [u8], offset: usize, value: u32) {
    out[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

fn put_u64(out: &mut [u8], offset: usize, value: u64) {
    out[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
}

impl Stat {
    /// The [`STAT_SIZE`]-byte record `__syscall_stat64` writes (offsets from the 3.1.6 glue's
    /// `doStat`): `+0 dev, +4 0, +8 ino (low 32 bits), +12 mode, +16 nlink, +20 uid, +24 gid,
    /// +28 rdev, +32 0, +40 u64 size, +48 blksize, +52 blocks, +56 atime s, +60 atime ns,
    /// +64 mtime s, +68 mtime ns, +72 ctime s, +76 ctime ns, +80 u64 ino`.
    ///
    /// The glue writes 0 for the nanoseconds; this writes the given ones (pass 0 for the glue's
    /// output). Seconds wrap to 32 bits like the glue's `| 0`.
    pub fn encode(&self) -> [u8; STAT_SIZE] {
        let mut out = [0u8; STAT_SIZE];
        put_u32(&mut out, 0, self.dev);
        // Truncation to the 32-bit field is the layout.
        put_u32(&mut out, 8, self.ino as u32);
        put_u32(&mut out, 12, self.mode);
        put_u32(&mut out, 16, self.nlink);
        put_u32(&mut out, 20, self.uid);
        put_u32(&mut out, 24, self.gid);
        put_u32(&mut out, 28, self.rdev);
        put_u64(&mut out, 40, self.size);
        put_u32(&mut out, 48, self.blksize);
        put_u32(&mut out, 52, self.blocks);
        for (offset, time) in [(56, self.atime), (64, self.mtime), (72, self.ctime)] {
            put_u32(&mut out, offset, time.sec as u32);
            put_u32(&mut out, offset + 4, time.nsec);
        }
        put_u64(&mut out, 80, self.ino);
        out
    }
}

/// The [`DIRENT_SIZE`]-byte record `__syscall_getdents64` writes for the entry at `index` of the
/// directory listing ("." and ".." included): `+0 i64 d_ino, +8 i64 d_off = (index + 1) *`
/// [`DIRENT_SIZE`], `+16 u16 d_reclen =` [`DIRENT_SIZE`], `+18 u8 d_type, +19 name` NUL-terminated
/// and zero-filled to 256 bytes. The glue silently truncates a longer name; this refuses it.
pub fn dirent64(
    ino: u64,
    index: u64,
    kind: DirentType,
    name: &[u8],
) -> Result<[u8; DIRENT_SIZE], LayoutError> {
    if name.len() > DIRENT_NAME_MAX {
        return Err(LayoutError::NameTooLong(name.len()));
    }
    if name.contains(&0) {
        return Err(LayoutError::NameHasNul);
    }
    let mut out = [0u8; DIRENT_SIZE];
    put_u64(&mut out, 0, ino);
    put_u64(&mut out, 8, (index + 1) * DIRENT_SIZE as u64);
    out[16..18].copy_from_slice(&(DIRENT_SIZE as u16).to_le_bytes());
    out[18] = kind as u8;
    out[19..19 + name.len()].copy_from_slice(name);
    Ok(out)
}

/// The directory-listing index a `getdents64` call starts from, given the stream position (the
/// glue: `floor(position / 280)`).
pub fn dirent_index(position: u64) -> u64 {
    position / DIRENT_SIZE as u64
}

/// What an `open` flags word asks for ([`open_flags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenRequest {
    /// Open for reading (`O_RDONLY` or `O_RDWR`).
    pub read: bool,
    /// Open for writing (`O_WRONLY` or `O_RDWR`).
    pub write: bool,
    /// `O_CREAT`: create the file if it does not exist.
    pub create: bool,
    /// `O_EXCL` together with `O_CREAT`: fail with `EEXIST` if the name exists. `O_EXCL` without
    /// `O_CREAT` has no effect (the glue only looks at it when creating).
    pub excl: bool,
    /// `O_TRUNC`: truncate to 0 bytes (the glue does so even with `O_RDONLY`, and requires write
    /// permission for it; it ignores it on character devices).
    pub trunc: bool,
    /// `O_APPEND`: every write goes to the end.
    pub append: bool,
    /// `O_DIRECTORY`: fail with `ENOTDIR` unless the path is a directory.
    pub directory: bool,
    /// `O_NOFOLLOW`: do not follow a symlink in the last component.
    pub nofollow: bool,
}

/// Translates `__syscall_open`'s flags word.
///
/// Like the glue, bits other than the ones in [`OpenRequest`] are ignored (`O_CLOEXEC`,
/// `O_NONBLOCK`, `O_NOCTTY`, `O_PATH`, `O_LARGEFILE`, `O_SYNC`, …, and unknown bits). The one
/// rejection: access mode 3 (`O_WRONLY | O_RDWR`) is `Err(EINVAL)` — the glue has no permission
/// string for it and fails with a JS `TypeError` instead of an errno.
pub fn open_flags(flags: i32) -> Result<OpenRequest, i32> {
    let (read, write) = match flags & O_ACCMODE_BITS {
        O_RDONLY => (true, false),
        O_WRONLY => (false, true),
        O_RDWR => (true, true),
        _ => return Err(EINVAL),
    };
    let create = flags & O_CREAT != 0;
    Ok(OpenRequest {
        read,
        write,
        create,
        excl: create && flags & O_EXCL != 0,
        trunc: flags & O_TRUNC != 0,
        append: flags & O_APPEND != 0,
        directory: flags & O_DIRECTORY != 0,
        nofollow: flags & O_NOFOLLOW != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], offset: usize) -> u32 {
        u32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
    }

    fn u64_at(bytes: &[u8], offset: usize) -> u64 {
        u64::from_le_bytes(bytes[offset..offset + 8].try_into().expect("8 bytes"))
    }

    #[test]
    fn stat_offsets() {
        let stat = Stat {
            dev: 0x11,
            ino: 0x1_0000_0022,
            mode: S_IFREG | 0o644,
            nlink: 3,
            uid: 0x44,
            gid: 0x55,
            rdev: 0x66,
            size: 0x7_0000_0077,
            blksize: BLKSIZE,
            blocks: 0x99,
            atime: Timespec {
                sec: 1_700_000_000,
                nsec: 1,
            },
            mtime: Timespec { sec: -1, nsec: 2 },
            ctime: Timespec {
                sec: i64::from(u32::MAX) + 5,
                nsec: 999_999_999,
            },
        };
        let b = stat.encode();
        assert_eq!(b.len(), 88);
        assert_eq!(u32_at(&b, 0), 0x11);
        assert_eq!(u32_at(&b, 4), 0);
        assert_eq!(u32_at(&b, 8), 0x22);
        assert_eq!(u32_at(&b, 12), 0o100644);
        assert_eq!(u32_at(&b, 16), 3);
        assert_eq!(u32_at(&b, 20), 0x44);
        assert_eq!(u32_at(&b, 24), 0x55);
        assert_eq!(u32_at(&b, 28), 0x66);
        assert_eq!(u32_at(&b, 32), 0);
        assert_eq!(u32_at(&b, 36), 0);
        assert_eq!(u64_at(&b, 40), 0x7_0000_0077);
        assert_eq!(u32_at(&b, 48), 4096);
        assert_eq!(u32_at(&b, 52), 0x99);
        assert_eq!(u32_at(&b, 56), 1_700_000_000);
        assert_eq!(u32_at(&b, 60), 1);
        assert_eq!(u32_at(&b, 64), u32::MAX);
        assert_eq!(u32_at(&b, 68), 2);
        assert_eq!(u32_at(&b, 72), 4);
        assert_eq!(u32_at(&b, 76), 999_999_999);
        assert_eq!(u64_at(&b, 80), 0x1_0000_0022);
        assert_eq!(Stat::default().encode(), [0u8; STAT_SIZE]);
    }

    #[test]
    fn dirent_record() {
        let rec = dirent64(0x1_0000_0007, 2, DirentType::Regular, b"input.txt").expect("fits");
        assert_eq!(rec.len(), 280);
        assert_eq!(u64_at(&rec, 0), 0x1_0000_0007);
        assert_eq!(u64_at(&rec, 8), 3 * 280);
        assert_eq!(&rec[16..18], &280u16.to_le_bytes());
        assert_eq!(rec[18], 8);
        assert_eq!(&rec[19..28], b"input.txt");
        assert!(rec[28..].iter().all(|&b| b == 0));
        assert_eq!(dirent_index(3 * 280), 3);
        assert_eq!(dirent_index(3 * 280 + 279), 3);
        assert_eq!(dirent_index(0), 0);

        let dot = dirent64(1, 0, DirentType::Directory, b".").expect("fits");
        assert_eq!(
            (u64_at(&dot, 8), dot[18], dot[19], dot[20]),
            (280, 4, b'.', 0)
        );

        let longest = vec![b'x'; 255];
        let rec = dirent64(1, 0, DirentType::Symlink, &longest).expect("255 bytes fit");
        assert_eq!(&rec[19..274], longest.as_slice());
        assert_eq!(rec[274], 0);
        assert_eq!(rec[18], 10);
        let too_long = vec![b'x'; 256];
        let err = dirent64(1, 0, DirentType::Regular, &too_long).expect_err("too long");
        assert_eq!(err, LayoutError::NameTooLong(256));
        assert_eq!(err.errno(), ENAMETOOLONG);
        let err = dirent64(1, 0, DirentType::Regular, b"a\0b").expect_err("NUL");
        assert_eq!(err, LayoutError::NameHasNul);
        assert_eq!(err.errno(), EINVAL);
    }

    #[test]
    fn dirent_types_from_mode() {
        assert_eq!(
            DirentType::from_mode(S_IFDIR | 0o755),
            DirentType::Directory
        );
        assert_eq!(DirentType::from_mode(S_IFREG | 0o644), DirentType::Regular);
        assert_eq!(DirentType::from_mode(S_IFLNK | 0o777), DirentType::Symlink);
        assert_eq!(
            DirentType::from_mode(S_IFCHR | 0o666),
            DirentType::CharDevice
        );
        assert_eq!(DirentType::from_mode(S_IFIFO), DirentType::Regular);
        assert_eq!(DirentType::from_mode(S_IFBLK), DirentType::Regular);
        assert_eq!(DirentType::from_mode(S_IFSOCK), DirentType::Regular);
        assert_eq!(
            [
                DirentType::CharDevice,
                DirentType::Directory,
                DirentType::Regular,
                DirentType::Symlink
            ]
            .map(|t| t as u8),
            [2, 4, 8, 10]
        );
    }

    #[test]
    fn open_flag_translation() {
        let plain = OpenRequest::default();
        assert_eq!(
            open_flags(O_RDONLY),
            Ok(OpenRequest {
                read: true,
                ..plain
            })
        );
        assert_eq!(
            open_flags(O_WRONLY),
            Ok(OpenRequest {
                write: true,
                ..plain
            })
        );
        assert_eq!(
            open_flags(O_RDWR),
            Ok(OpenRequest {
                read: true,
                write: true,
                ..plain
            })
        );
        assert_eq!(open_flags(3), Err(EINVAL));
        assert_eq!(
            open_flags(O_WRONLY | O_CREAT | O_TRUNC),
            Ok(OpenRequest {
                write: true,
                create: true,
                trunc: true,
                ..plain
            })
        );
        assert_eq!(
            open_flags(O_WRONLY | O_CREAT | O_EXCL | O_APPEND),
            Ok(OpenRequest {
                write: true,
                create: true,
                excl: true,
                append: true,
                ..plain
            })
        );
        // O_EXCL alone has no effect.
        assert_eq!(
            open_flags(O_RDONLY | O_EXCL),
            Ok(OpenRequest {
                read: true,
                ..plain
            })
        );
        // opendir: O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK (musl).
        assert_eq!(
            open_flags(O_DIRECTORY | O_CLOEXEC | O_NONBLOCK),
            Ok(OpenRequest {
                read: true,
                directory: true,
                ..plain
            })
        );
        assert_eq!(
            open_flags(O_RDONLY | O_NOFOLLOW),
            Ok(OpenRequest {
                read: true,
                nofollow: true,
                ..plain
            })
        );
        // Unknown and ignored bits do not matter.
        assert_eq!(
            open_flags(O_RDWR | O_NOCTTY | O_PATH | 0x4000_0000),
            Ok(OpenRequest {
                read: true,
                write: true,
                ..plain
            })
        );
    }

    #[test]
    fn constants_match_musl_and_the_glue() {
        assert_eq!((O_WRONLY, O_RDWR, O_CREAT, O_EXCL), (1, 2, 64, 128));
        assert_eq!((O_TRUNC, O_APPEND, O_NONBLOCK), (512, 1024, 2048));
        assert_eq!(
            (O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH),
            (65_536, 131_072, 524_288, 2_097_152)
        );
        assert_eq!(
            (S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR),
            (16_384, 32_768, 40_960, 8192)
        );
        assert_eq!(
            (AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR),
            (-100, 256, 512)
        );
        assert_eq!((TCGETS, TIOCGWINSZ), (21_505, 21_523));
        assert_eq!(
            (F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK),
            (0, 1, 2, 3, 4, 5)
        );
        assert_eq!(
            (
                F_SETLK,
                F_SETLKW,
                F_SETOWN,
                F_GETOWN,
                F_GETOWN_EX,
                F_DUPFD_CLOEXEC
            ),
            (6, 7, 8, 9, 16, 1030)
        );
    }
}
