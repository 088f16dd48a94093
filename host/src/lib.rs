//! `webc-host` runs and manages Wasmer webc packages; this library is the part of it that
//! embedders reuse. [`run::Host`] runs a package's command: it picks the command and atom as
//! Wasmer does, verifies the atom, intersects the package's declared [`permissions`] with the
//! caller's grants, builds the program's file system (`webc-vfs`) and hands the job to the
//! runner the [`registry`] selects — a plugin found in the plugin directories (dlopened only
//! when selected, quarantined with a reason when broken) or a runner linked in statically.
//! [`cache`] keeps precompiled artifacts and remembered verifications, private and atomic.
//! Around that: the [`inspect`] model ([`PackageInfo`], behind `webc-host inspect --json`),
//! CBOR → JSON ([`json::cbor_to_json`]) and safe [`extract`]ion. Every failure is one
//! [`Error`], which also knows its `webc-host` exit code. The binary (`src/main.rs`, one module
//! per subcommand under `src/cli/commands/`) is a thin layer over this crate.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use webc_host::run::{Host, Package, RunOptions, Stdio};
//! let host = Host::builder().plugin_dir("/usr/libexec/webc-host/plugins").build()?;
//! let package = Package::open("model.webc".as_ref())?;
//! let options = RunOptions { command: Some("infer".into()), ..Default::default() };
//! let (mut input, mut output, mut errors) = (&b"{}"[..], Vec::new(), Vec::new());
//! let stdio = Stdio { stdin: &mut input, stdout: &mut output, stderr: &mut errors };
//! let outcome = host.run(&package, &options, stdio)?;
//! # let _ = outcome; Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod cache;
mod error;
pub mod extract;
#[doc(hidden)]
pub mod fuzzing;
pub mod inspect;
pub mod interrupt;
pub mod json;
pub mod materialise;
pub mod permissions;
pub mod registry;
pub mod run;

pub use error::{Error, Result};
pub use inspect::PackageInfo;
