//! WASI preview1 `errno` values.
//!
//! The file-system handle's [`webc_runner_api::fs::Errno`] already uses WASI's numbering, so
//! its values pass through unchanged ([`Errno::from`]); the constants here add the numbers
//! the host interface has no use for (`FAULT`, `ILSEQ`, `NOTSOCK`, `OVERFLOW`, …).

use webc_runner_api::fs::Errno as FsErrno;

/// A WASI errno (never `SUCCESS`: success is `Ok`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Errno(pub(crate) u16);

#[allow(
    dead_code,
    reason = "the complete WASI table, not every value is produced"
)]
impl Errno {
    pub(crate) const TOOBIG: Errno = Errno(1);
    pub(crate) const ACCES: Errno = Errno(2);
    pub(crate) const AGAIN: Errno = Errno(6);
    pub(crate) const BADF: Errno = Errno(8);
    pub(crate) const BUSY: Errno = Errno(10);
    pub(crate) const EXIST: Errno = Errno(20);
    pub(crate) const FAULT: Errno = Errno(21);
    pub(crate) const FBIG: Errno = Errno(22);
    pub(crate) const ILSEQ: Errno = Errno(25);
    pub(crate) const INTR: Errno = Errno(27);
    pub(crate) const INVAL: Errno = Errno(28);
    pub(crate) const IO: Errno = Errno(29);
    pub(crate) const ISDIR: Errno = Errno(31);
    pub(crate) const MFILE: Errno = Errno(33);
    pub(crate) const NAMETOOLONG: Errno = Errno(37);
    pub(crate) const NOENT: Errno = Errno(44);
    pub(crate) const NOMEM: Errno = Errno(48);
    pub(crate) const NOSYS: Errno = Errno(52);
    pub(crate) const NOTDIR: Errno = Errno(54);
    pub(crate) const NOTSOCK: Errno = Errno(57);
    pub(crate) const NOTSUP: Errno = Errno(58);
    pub(crate) const OVERFLOW: Errno = Errno(61);
    pub(crate) const PERM: Errno = Errno(63);
    pub(crate) const PIPE: Errno = Errno(64);
    pub(crate) const SPIPE: Errno = Errno(70);
    pub(crate) const NOTCAPABLE: Errno = Errno(76);

    /// The value a host function returns to the guest.
    pub(crate) fn code(self) -> i32 {
        i32::from(self.0)
    }

    /// Maps a host stream error (stdio).
    pub(crate) fn from_io(e: &std::io::Error) -> Errno {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Errno::PIPE;
        }
        FsErrno::from_io(e).into()
    }
}

impl From<FsErrno> for Errno {
    fn from(e: FsErrno) -> Errno {
        Errno(e.code())
    }
}

impl From<std::num::TryFromIntError> for Errno {
    fn from(_: std::num::TryFromIntError) -> Errno {
        Errno::OVERFLOW
    }
}

/// Result of a WASI call.
pub(crate) type WasiResult<T> = Result<T, Errno>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fs_errnos_pass_through() {
        for (fs, code) in [
            (FsErrno::Badf, 8),
            (FsErrno::Noent, 44),
            (FsErrno::Perm, 63),
            (FsErrno::Notcapable, 76),
            (FsErrno::Rofs, 69),
        ] {
            assert_eq!(Errno::from(fs).0, code);
        }
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(Errno::from_io(&pipe), Errno::PIPE);
    }
}
