//! WASI preview1 `errno` values (public: another runner returns them too; musl built for
//! Emscripten numbers its errnos as WASI does, so they pass to such a guest unchanged).
//!
//! The file-system handle's [`webc_runner_api::fs::Errno`] already uses WASI's numbering, so
//! its values pass through unchanged ([`Errno::from`]); the constants here add the numbers
//! the host interface has no use for (`FAULT`, `ILSEQ`, `NOTSOCK`, `OVERFLOW`, …).

use webc_runner_api::fs::Errno as FsErrno;

/// A WASI errno (never `SUCCESS`: success is `Ok`). The value is the WASI number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("WASI errno {0}")]
pub struct Errno(pub u16);

#[allow(missing_docs, reason = "the names are WASI's `errno` cases")]
impl Errno {
    pub const TOOBIG: Errno = Errno(1);
    pub const ACCES: Errno = Errno(2);
    pub const AGAIN: Errno = Errno(6);
    pub const BADF: Errno = Errno(8);
    pub const BUSY: Errno = Errno(10);
    pub const EXIST: Errno = Errno(20);
    pub const FAULT: Errno = Errno(21);
    pub const FBIG: Errno = Errno(22);
    pub const ILSEQ: Errno = Errno(25);
    pub const INTR: Errno = Errno(27);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const ISDIR: Errno = Errno(31);
    pub const LOOP: Errno = Errno(32);
    pub const MFILE: Errno = Errno(33);
    pub const NAMETOOLONG: Errno = Errno(37);
    pub const NOENT: Errno = Errno(44);
    pub const NOMEM: Errno = Errno(48);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTEMPTY: Errno = Errno(55);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    pub const NOTTY: Errno = Errno(59);
    pub const OVERFLOW: Errno = Errno(61);
    pub const PERM: Errno = Errno(63);
    pub const PIPE: Errno = Errno(64);
    pub const ROFS: Errno = Errno(69);
    pub const SPIPE: Errno = Errno(70);
    pub const XDEV: Errno = Errno(75);
    pub const NOTCAPABLE: Errno = Errno(76);

    /// The value a host function returns to the guest.
    pub fn code(self) -> i32 {
        i32::from(self.0)
    }

    /// Maps a host stream error (stdio).
    pub fn from_io(e: &std::io::Error) -> Errno {
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
pub type WasiResult<T> = Result<T, Errno>;

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
