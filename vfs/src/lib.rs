//! `webc-vfs` is the host file system handed to runners: one guest namespace rooted at `/`
//! that implements [`webc_runner_api::fs::FileSystem`], where every path is resolved and
//! every permission checked, once, for all runners.
//!
//! **Namespace.** [`VfsBuilder`] mounts, in this order whatever the order of the calls:
//! (1) container volumes, read-only, with Wasmer's `package.fs` semantics
//! ([`VfsBuilder::volume_mounts_from`]: v3 mounts a volume's root at `mount_path`, v1/v2 the
//! volume directory `host_path`, default `/`; without `fs`, v1/v2 mount volume `atom` at `/`
//! and v3 mounts nothing; mappings `from` a dependency are refused); (2) host directories the
//! user granted, read-only or read-write, opened with cap-std (ambient authority opens only
//! the granted directory; everything below goes through its `Dir`); (3) a private writable
//! `/tmp`, a file system in the process's memory with a byte budget
//! ([`VfsBuilder::tmp_size`], default [`DEFAULT_TMP_SIZE`] = 256 MiB; beyond it → `Nospc`),
//! so it never touches the host's disk and nothing of it outlives the process, whatever
//! ends it (module `mem` documents its rules; its errnos are tmpfs's). A later
//! mount at the same guest path shadows an earlier one; mounts nested below another stay
//! visible. `/` and the ancestors of mount points that no mount provides are synthetic
//! read-only directories listing their children; a mount point also shadows a same-named
//! entry of the directory it sits in. Volume files are served straight from the container's
//! bytes (reads copy from the mapped container into the caller's buffer; nothing is unpacked).
//! [`FileSystem::preopens`](webc_runner_api::fs::FileSystem::preopens) returns `/` first, then the root of every visible mount.
//!
//! **Paths** are relative to a directory handle, `/`-separated; empty and `.` segments are
//! skipped; `..` goes to the parent in the namespace, also out of a mount into the directory
//! holding its mount point, and `..` of `/` is `/`: nothing above the namespace root exists,
//! so no path reaches the host outside a grant. Volume symlinks are followed by this crate
//! with the container's rules (relative targets only, at most 40 per resolution → `Loop`);
//! host symlinks are followed by cap-std inside their granted directory (they do not see
//! mounts nested inside that directory).
//!
//! **Errnos** (WASI numbering). An absolute path → `Notcapable`. An escape — a symlink target
//! that is absolute or climbs above the mount holding the symlink (volume or host) — →
//! `Perm`, the errno wasmtime-wasi 48 gives when cap-std reports an escape. A write-ish
//! operation (open with write/append/create/truncate, mkdir, unlink, rmdir, rename, symlink,
//! link, truncate, allocate, set_times) on a volume, a synthetic directory or a read-only
//! grant → `Perm`, as wasmtime-wasi 48 answers for a read-only preopen (`NotPermitted`); it is
//! checked before existence, so creating a file in a read-only directory — or below a
//! directory missing from a read-only place — is `Perm`, not `Noent`. A path ending in `/`
//! names a directory: unlink, rename or link of a non-directory spelled so → `Notdir` (as
//! POSIX and wasmtime), and nothing changes. A path that exists in no mount → `Noent`. Writing through a handle not opened for
//! writing, and data operations on a directory handle → `Badf`. Rename and link across
//! mounts → `Xdev`; removing or renaming a mount point → `Busy` (`Isdir` for unlink);
//! creating over one → `Exist`. Host errors keep the host's errno.
//!
//! **Handles** carry their own position (`read`/`write` use `pread`/`pwrite` underneath;
//! append-mode writes go to the current end of the file, and `pwrite` ignores append). Inode
//! numbers of volume entries are the entry's record offset + 1, with one `dev` per mount, so
//! the same path yields the same `ino` for the life of the [`Vfs`]; synthetic directories use
//! their own `dev`; host entries report the host's `dev`/`ino`; `/tmp` entries the mount's
//! `dev` and their own inode numbers (never reused in a run). Volume entries have `nlink` 1
//! and v3's modification time (seconds → nanoseconds; 0 in v1/v2) as all three times.
//! `readdir` lists `.` and `..`, then the entries sorted by name bytes; cookie *n* continues
//! after entry *n* of a snapshot taken when listing (re)starts at cookie 0, so a directory
//! changing meanwhile never makes a listing repeat or fail. Nothing here panics on a guest's
//! input, and a poisoned lock is recovered.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use webc_runner_api::fs::{FileSystem, OpenOptions};
//! use webc_vfs::{Mode, VfsBuilder};
//!
//! let pkg = webc_container::Container::open("sample-v3.webc")?;
//! let vfs = VfsBuilder::new()
//!     .volume_mounts_from(&pkg)?
//!     .grant_dir("/srv/out", "/out", Mode::ReadWrite)?
//!     .tmp(true)
//!     .build()?;
//! let root = vfs.preopens()[0].handle;
//! let file = vfs.open(root, "assets/hello.txt", OpenOptions { read: true, follow: true, ..Default::default() })?;
//! let mut buf = [0u8; 64];
//! let n = vfs.read(file, &mut buf)?;
//! # let _ = n; Ok(()) }
//! ```

#![deny(missing_docs)]

mod builder;
mod error;
mod host;
mod mem;
mod ns;
mod vfs;

pub use builder::{DEFAULT_TMP_SIZE, Mode, VfsBuilder};
pub use error::{Result, VfsError};
pub use vfs::Vfs;
