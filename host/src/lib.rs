//! `webc-host` runs and manages Wasmer webc packages; this library is the part of it that
//! embedders can reuse. For now that is the [`inspect`] model ([`PackageInfo`], the
//! structure behind `webc-host inspect --json`), the CBOR → JSON conversion it uses
//! ([`json::cbor_to_json`]), and safe extraction of a container to disk ([`extract`]),
//! which never writes outside its destination however the container was crafted. Reading,
//! writing and verifying containers is `webc-container`'s job; the runner registry and the
//! plugin machinery will live here too. The `webc-host` binary (`src/main.rs`, one module
//! per subcommand under `src/cli/commands/`) is a thin layer over this crate.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let container = webc_container::Container::open("hello.webc")?;
//! let info = webc_host::PackageInfo::from_container(&container)?;
//! println!("{}", serde_json::to_string_pretty(&info)?);
//! webc_host::extract::extract(&container, "out".as_ref(), &Default::default())?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod cache;
mod error;
pub mod extract;
pub mod inspect;
pub mod json;
pub mod permissions;
pub mod registry;
pub mod run;

pub use error::{Error, Result};
pub use inspect::PackageInfo;
