//! The ABI-stable boundary (the only module of this project with `abi_stable` types).
//!
//! A plugin is a cdylib exporting one root module, [`RunnerModRef`], through
//! [`export_runner!`](crate::export_runner). Its functions take and return only FFI-safe
//! types: descriptions cross as JSON strings (so they can grow without breaking the layout),
//! the atom as a borrowed byte slice, and the file system, stdio and log sink as
//! `#[sabi_trait]` objects implemented on the other side. Every exported function runs the
//! runner inside `catch_unwind`, so a panicking runner becomes an error and the host lives on.
//!
//! The host side is [`LoadedRunner`]: it loads a library (without `abi_stable`'s per-type
//! cache, so several plugins can be loaded), checks the interface version and layout, and
//! implements the plain [`Runner`] trait on top of the module.

// `#[sabi_trait]` expands to impls the `non_local_definitions` lint dislikes, and to
// items without docs or `Debug`.
#[allow(
    non_local_definitions,
    missing_docs,
    missing_debug_implementations,
    reason = "sabi_trait expansion"
)]
mod fs;
#[allow(
    non_local_definitions,
    missing_docs,
    missing_debug_implementations,
    reason = "sabi_trait expansion"
)]
mod host;
#[allow(
    non_local_definitions,
    missing_docs,
    missing_debug_implementations,
    reason = "sabi_trait expansion"
)]
mod log;
#[allow(
    non_local_definitions,
    missing_docs,
    missing_debug_implementations,
    reason = "sabi_trait expansion"
)]
mod stream;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use abi_stable::StableAbi;
use abi_stable::library::{LibraryError, RawLibrary, RootModule, lib_header_from_raw_library};
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RSlice, RStr, RString};
use abi_stable::type_layout::TypeLayout;

pub use self::fs::{AbiFs, RDirEntry, RPreopen, RSetTime, RStat};
pub use self::fs::{FsBox, HostFs};
pub use self::host::AbiHost;
pub use self::host::HostBox;
pub use self::log::AbiLog;
pub use self::log::{LogBox, forward_logs_to};
pub use self::stream::AbiStream;
pub use self::stream::StreamBox;
use crate::runner::{
    Availability, HostServices, Job, JobSpec, NoHostServices, Outcome, Runner, RunnerError,
    RunnerInfo,
};

/// The runner interface version, independent of this crate's version (see
/// `docs/abi-evolution.md`). The major number changes only with a breaking change to the
/// boundary, and a plugin built for another major is refused with a message naming both;
/// the minor number counts compatible additions (new JSON fields, new optional trailing
/// functions), and plugins of any minor of this major load — older ones simply lack what
/// was added after them.
pub const INTERFACE_VERSION: &str = "1.1.0";

/// The major number of [`INTERFACE_VERSION`].
pub const INTERFACE_MAJOR: u32 = 1;

/// The plugin's root module: a table of `extern "C"` functions.
#[repr(C)]
#[derive(StableAbi)]
#[allow(missing_debug_implementations, reason = "a table of function pointers")]
#[sabi(kind(Prefix(prefix_ref = RunnerModRef)))]
#[sabi(missing_field(panic))]
pub struct RunnerMod {
    /// `RunnerInfo` as JSON.
    pub info: extern "C" fn() -> RResult<RString, RString>,
    /// `Availability` as JSON.
    pub availability: extern "C" fn() -> RResult<RString, RString>,
    /// Installs the host's log sink (forwarding the plugin's `tracing` events); the level
    /// is the most verbose one the host wants (0 error … 4 trace).
    pub set_logger: extern "C" fn(sink: LogBox, max_level: u8),
    /// Runs a job: `JobSpec` as JSON, the atom, the file system and stdio.
    /// Returns `Outcome` as JSON, or a `RunnerError` as JSON.
    #[sabi(last_prefix_field)]
    pub run: extern "C" fn(
        spec: RStr<'_>,
        atom: RSlice<'_, u8>,
        fs: FsBox<'_>,
        stdin: StreamBox<'_>,
        stdout: StreamBox<'_>,
        stderr: StreamBox<'_>,
    ) -> RResult<RString, RString>,
}

/// Interface 1.1's additions, exported by a plugin *beside* its root module under the
/// symbol [`EXT_SYMBOL`] (abi_stable refuses a root module with fewer fields than the host's,
/// so additions the host must do without in an older plugin cannot go into [`RunnerMod`]).
/// A host that finds the symbol checks its layout and calls `run_with_host`; a 1.0 plugin
/// has no such symbol and is called through `run`.
#[repr(C)]
#[derive(StableAbi)]
#[allow(missing_debug_implementations, reason = "a table of function pointers")]
pub struct RunnerExt {
    /// `run` plus the host's services (`materialise`).
    pub run_with_host: extern "C" fn(
        spec: RStr<'_>,
        atom: RSlice<'_, u8>,
        fs: FsBox<'_>,
        host: HostBox<'_>,
        stdin: StreamBox<'_>,
        stdout: StreamBox<'_>,
        stderr: StreamBox<'_>,
    ) -> RResult<RString, RString>,
}

/// What [`EXT_SYMBOL`] names: the extension table and its layout, which the host checks
/// against its own before using it.
#[repr(C)]
#[allow(
    missing_debug_implementations,
    reason = "a layout and a table of function pointers"
)]
pub struct RunnerExtHeader {
    /// `<RunnerExt as StableAbi>::LAYOUT` as the plugin was built.
    pub layout: &'static TypeLayout,
    /// The table.
    pub ext: &'static RunnerExt,
}

// SAFETY: both fields are shared references to immutable `'static` data (a type layout and a
// table of function pointers), which any thread may read.
unsafe impl Sync for RunnerExtHeader {}

/// The symbol a 1.1 plugin exports its [`RunnerExtHeader`] under (`export_runner!` does it).
pub const EXT_SYMBOL: &str = "webc_runner_ext_1_1";

impl RootModule for RunnerModRef {
    abi_stable::declare_root_module_statics! {RunnerModRef}
    const BASE_NAME: &'static str = "webc_runner";
    const NAME: &'static str = "webc_runner";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(INTERFACE_VERSION);
}

/// Name of the exported static that holds a plugin's library header (abi_stable 0.11).
/// `export_runner!` must spell it literally; a test checks the two agree.
pub const ROOT_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

fn to_json<T: serde::Serialize>(v: &T) -> RResult<RString, RString> {
    match serde_json::to_string(v) {
        Ok(s) => RResult::ROk(s.into()),
        Err(e) => RResult::RErr(format!("cannot encode: {e}").into()),
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// Plugin side: the bodies of the exported functions. Used by [`export_runner!`](crate::export_runner); not
/// meant to be called directly.
#[doc(hidden)]
pub mod plugin {
    use super::*;

    /// `info`.
    pub fn info(r: &dyn Runner) -> RResult<RString, RString> {
        match catch_unwind(AssertUnwindSafe(|| r.info())) {
            Ok(info) => to_json(&info),
            Err(p) => RResult::RErr(format!("info() panicked: {}", panic_message(&*p)).into()),
        }
    }

    /// `availability`.
    pub fn availability(r: &dyn Runner) -> RResult<RString, RString> {
        match catch_unwind(AssertUnwindSafe(|| r.availability())) {
            Ok(a) => to_json(&a),
            Err(p) => to_json(&Availability::Unavailable(format!(
                "availability() panicked: {}",
                panic_message(&*p)
            ))),
        }
    }

    /// `set_logger`.
    pub fn set_logger(sink: LogBox, max_level: u8) {
        let _ = catch_unwind(AssertUnwindSafe(|| super::log::install(sink, max_level)));
    }

    /// `run` (interface 1.0: a host without services).
    pub fn run(
        r: &dyn Runner,
        spec: RStr<'_>,
        atom: RSlice<'_, u8>,
        fs: FsBox<'_>,
        stdin: StreamBox<'_>,
        stdout: StreamBox<'_>,
        stderr: StreamBox<'_>,
    ) -> RResult<RString, RString> {
        run_job(r, spec, atom, fs, &NoHostServices, stdin, stdout, stderr)
    }

    /// `run_with_host` (interface 1.1).
    #[allow(clippy::too_many_arguments, reason = "one per boundary object")]
    pub fn run_with_host(
        r: &dyn Runner,
        spec: RStr<'_>,
        atom: RSlice<'_, u8>,
        fs: FsBox<'_>,
        host: HostBox<'_>,
        stdin: StreamBox<'_>,
        stdout: StreamBox<'_>,
        stderr: StreamBox<'_>,
    ) -> RResult<RString, RString> {
        let host = host::PluginHost(host);
        run_job(r, spec, atom, fs, &host, stdin, stdout, stderr)
    }

    #[allow(clippy::too_many_arguments, reason = "one per boundary object")]
    fn run_job(
        r: &dyn Runner,
        spec: RStr<'_>,
        atom: RSlice<'_, u8>,
        fs: FsBox<'_>,
        host: &dyn HostServices,
        stdin: StreamBox<'_>,
        stdout: StreamBox<'_>,
        stderr: StreamBox<'_>,
    ) -> RResult<RString, RString> {
        let error = |e: RunnerError| match serde_json::to_string(&e) {
            Ok(s) => RResult::RErr(s.into()),
            Err(_) => RResult::RErr(RString::from("\"unencodable error\"")),
        };
        let spec: JobSpec = match serde_json::from_str(spec.as_str()) {
            Ok(s) => s,
            Err(e) => {
                return error(RunnerError::InvalidJob(format!(
                    "cannot decode the job: {e}"
                )));
            }
        };
        let result = catch_unwind(AssertUnwindSafe(move || {
            let fs = fs::PluginFs(fs);
            let mut stdin = stream::PluginStream(stdin);
            let mut stdout = stream::PluginStream(stdout);
            let mut stderr = stream::PluginStream(stderr);
            let job = Job {
                spec,
                atom: atom.as_slice(),
                fs: &fs,
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
                host,
            };
            r.run(job)
        }));
        match result {
            Ok(Ok(outcome)) => to_json(&outcome),
            Ok(Err(e)) => error(e),
            Err(p) => error(RunnerError::Panicked(panic_message(&*p))),
        }
    }
}

/// Exports a runner from a cdylib: `export_runner!(MyRunner::new())`. The expression is
/// evaluated once, on first use. Only one `export_runner!` may exist per library.
#[macro_export]
macro_rules! export_runner {
    ($make:expr) => {
        const _: () = {
            use $crate::abi::__private::*;

            fn runner() -> &'static dyn $crate::Runner {
                static RUNNER: ::std::sync::OnceLock<::std::boxed::Box<dyn $crate::Runner>> =
                    ::std::sync::OnceLock::new();
                RUNNER
                    .get_or_init(|| ::std::boxed::Box::new($make))
                    .as_ref()
            }

            extern "C" fn info() -> RResult<RString, RString> {
                plugin::info(runner())
            }
            extern "C" fn availability() -> RResult<RString, RString> {
                plugin::availability(runner())
            }
            extern "C" fn set_logger(sink: LogBox, max_level: u8) {
                plugin::set_logger(sink, max_level)
            }
            extern "C" fn run(
                spec: RStr<'_>,
                atom: RSlice<'_, u8>,
                fs: FsBox<'_>,
                stdin: StreamBox<'_>,
                stdout: StreamBox<'_>,
                stderr: StreamBox<'_>,
            ) -> RResult<RString, RString> {
                plugin::run(runner(), spec, atom, fs, stdin, stdout, stderr)
            }
            extern "C" fn run_with_host(
                spec: RStr<'_>,
                atom: RSlice<'_, u8>,
                fs: FsBox<'_>,
                host: HostBox<'_>,
                stdin: StreamBox<'_>,
                stdout: StreamBox<'_>,
                stderr: StreamBox<'_>,
            ) -> RResult<RString, RString> {
                plugin::run_with_host(runner(), spec, atom, fs, host, stdin, stdout, stderr)
            }

            fn root_module() -> RunnerModRef {
                RunnerMod {
                    info,
                    availability,
                    set_logger,
                    run,
                }
                .leak_into_prefix()
            }

            // Interface 1.1: the extension beside the root module (its name is
            // `EXT_SYMBOL`; a test checks the two agree).
            #[unsafe(no_mangle)]
            #[allow(non_upper_case_globals, reason = "the symbol name is the interface")]
            pub static webc_runner_ext_1_1: RunnerExtHeader = RunnerExtHeader {
                layout: <RunnerExt as StableAbi>::LAYOUT,
                ext: &RunnerExt { run_with_host },
            };

            #[unsafe(no_mangle)]
            pub static _1as_0lib_1header_0root_bmodule_bloader: LibHeader = {
                extern "C" fn erased() -> RootModuleResult {
                    __call_root_module_loader(root_module)
                }
                // SAFETY: this is what `#[export_root_module]` expands to: the header pairs
                // the loader with the layout of `RunnerModRef`, which is what it returns.
                unsafe { LibHeader::from_constructor::<RunnerModRef>(erased, CheckTypeLayout::Yes) }
            };
        };
    };
}

/// Re-exports for [`export_runner!`](crate::export_runner).
#[doc(hidden)]
pub mod __private {
    pub use super::{
        FsBox, HostBox, LogBox, RunnerExt, RunnerExtHeader, RunnerMod, RunnerModRef, StreamBox,
        plugin,
    };
    pub use abi_stable::StableAbi;
    pub use abi_stable::library::{
        __call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
    };
    pub use abi_stable::prefix_type::PrefixTypeTrait;
    pub use abi_stable::std_types::{RResult, RSlice, RStr, RString};
}

/// The major number of an interface version string (`1` of `1.4.0`).
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// Why a library could not be used as a runner plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// `dlopen` failed (missing file, not a shared library, missing dependencies).
    #[error("cannot load {path}: {reason}")]
    Open {
        /// The library.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
    /// The library does not export a webc runner.
    #[error("{path} is not a webc-host runner plugin (no runner root module)")]
    NotAPlugin {
        /// The library.
        path: PathBuf,
    },
    /// Built against another interface version.
    #[error(
        "{path} was built for runner interface {found}, this host speaks {expected}: rebuild the plugin against a webc-runner-api of interface {}",
        major(expected)
    )]
    Version {
        /// The library.
        path: PathBuf,
        /// Our version.
        expected: String,
        /// The plugin's.
        found: String,
    },
    /// Same version number but a different layout.
    #[error(
        "{path} has an incompatible runner interface layout (built against a modified webc-runner-api of interface {expected}?): {summary}"
    )]
    Layout {
        /// The library.
        path: PathBuf,
        /// Our version.
        expected: String,
        /// First line of abi_stable's report.
        summary: String,
    },
    /// The plugin's `info()` failed or returned garbage.
    #[error("{path}: the plugin failed to describe itself: {reason}")]
    Info {
        /// The library.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// A runner loaded from a shared library.
pub struct LoadedRunner {
    module: RunnerModRef,
    /// Interface 1.1's extension, when the plugin has it.
    ext: Option<&'static RunnerExt>,
    info: RunnerInfo,
    path: PathBuf,
}

impl std::fmt::Debug for LoadedRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedRunner")
            .field("path", &self.path)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LoadedRunner {
    /// Loads the plugin at `path`, checking its interface version and layout, and reads its
    /// `RunnerInfo`.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let library = RawLibrary::load_at(path).map_err(|e| LoadError::Open {
            path: path.to_owned(),
            reason: short_library_error(&e),
        })?;
        // A loaded plugin is never unloaded, whether it turns out usable or not: its
        // initialisers have run, and it may have started threads, registered thread-local
        // destructors or installed signal handlers (wasmtime installs SIGSEGV/SIGBUS/SIGILL
        // handlers that point into the plugin). `dlclose` would unmap that code under them
        // and the next signal or thread wake-up would crash the host. So the handle is
        // leaked: the mapping lives as long as the process (abi_stable's own loader does
        // the same).
        let library: &'static RawLibrary = Box::leak(Box::new(library));
        // SAFETY: the header is only used while `library` is mapped, which is for the rest
        // of the process (it is leaked above).
        let header = unsafe { lib_header_from_raw_library(library) }.map_err(|e| match e {
            LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin {
                path: path.to_owned(),
            },
            other => LoadError::Open {
                path: path.to_owned(),
                reason: short_library_error(&other),
            },
        })?;
        let module = header
            .init_root_module::<RunnerModRef>()
            .map_err(|e| match e {
                LibraryError::IncompatibleVersionNumber {
                    actual_version,
                    expected_version,
                    ..
                } => LoadError::Version {
                    path: path.to_owned(),
                    expected: expected_version.to_string(),
                    found: actual_version.to_string(),
                },
                LibraryError::AbiInstability(report) => LoadError::Layout {
                    path: path.to_owned(),
                    expected: INTERFACE_VERSION.into(),
                    summary: layout_summary(&report.to_string()),
                },
                other => LoadError::Open {
                    path: path.to_owned(),
                    reason: short_library_error(&other),
                },
            })?;
        // SAFETY: the symbol, when present, is the `RunnerExtHeader` static `export_runner!`
        // defines (a `&'static` to it is what `get` yields for a static); the library stays
        // mapped for the rest of the process. Its layout is checked before any use.
        let ext_header: Option<&'static RunnerExtHeader> = unsafe {
            library
                .get::<&'static RunnerExtHeader>(format!("{EXT_SYMBOL}\0").as_bytes())
                .ok()
                .map(|symbol| *symbol)
        };
        let ext = match ext_header {
            None => None,
            Some(header) => {
                abi_stable::abi_stability::abi_checking::check_layout_compatibility(
                    <RunnerExt as StableAbi>::LAYOUT,
                    header.layout,
                )
                .map_err(|report| LoadError::Layout {
                    path: path.to_owned(),
                    expected: INTERFACE_VERSION.into(),
                    summary: layout_summary(&report.to_string()),
                })?;
                Some(header.ext)
            }
        };
        let info_json = match (module.info())() {
            RResult::ROk(s) => s,
            RResult::RErr(e) => {
                return Err(LoadError::Info {
                    path: path.to_owned(),
                    reason: e.into(),
                });
            }
        };
        let info: RunnerInfo =
            serde_json::from_str(info_json.as_str()).map_err(|e| LoadError::Info {
                path: path.to_owned(),
                reason: format!("invalid description: {e}"),
            })?;
        if info.name.is_empty() || info.serves.is_empty() {
            return Err(LoadError::Info {
                path: path.to_owned(),
                reason: "the description has no name or serves no runner URI".into(),
            });
        }
        Ok(LoadedRunner {
            module,
            ext,
            info,
            path: path.to_owned(),
        })
    }

    /// The library path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forwards the plugin's `tracing` events at `max_level` (0 error … 4 trace) and
    /// more severe to the host's subscriber.
    pub fn forward_logs(&self, max_level: u8) {
        (self.module.set_logger())(log::host_sink(), max_level);
    }
}

/// abi_stable's messages span several lines ("Could not open library at:", the path, the
/// loader's reason): keep them all, on one line.
fn short_library_error(e: &LibraryError) -> String {
    let s = e.to_string();
    let joined: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    joined.join(" ").chars().take(500).collect()
}

/// The layout report is long; keep its first non-zero "N error(s)" line and the few lines
/// after it, which name the mismatching type, its size and the package it came from.
fn layout_summary(report: &str) -> String {
    let lines: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let first_error = lines.iter().position(|l| {
        l.split_once(" error")
            .is_some_and(|(n, _)| n.parse::<u64>().is_ok_and(|n| n > 0))
    });
    let picked = match first_error {
        Some(i) => lines[i..].iter().take(6).copied().collect::<Vec<_>>(),
        None => lines.iter().take(3).copied().collect(),
    };
    picked.join("; ").chars().take(400).collect()
}

impl Runner for LoadedRunner {
    fn info(&self) -> RunnerInfo {
        self.info.clone()
    }

    fn availability(&self) -> Availability {
        match (self.module.availability())() {
            RResult::ROk(s) => serde_json::from_str(s.as_str()).unwrap_or_else(|e| {
                Availability::Unavailable(format!("invalid availability from plugin: {e}"))
            }),
            RResult::RErr(e) => Availability::Unavailable(e.into()),
        }
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        let spec = serde_json::to_string(&job.spec)
            .map_err(|e| RunnerError::Other(format!("cannot encode job: {e}")))?;
        let host_fs = HostFs(job.fs);
        let result = match self.ext.map(|e| e.run_with_host) {
            Some(run) => {
                let host = host::HostSide(job.host);
                run(
                    RStr::from_str(&spec),
                    RSlice::from_slice(job.atom),
                    fs::host_box(&host_fs),
                    host::host_box(&host),
                    stream::reader_box(stream::HostReader(job.stdin)),
                    stream::writer_box(stream::HostWriter(job.stdout)),
                    stream::writer_box(stream::HostWriter(job.stderr)),
                )
            }
            // A plugin built for interface 1.0: no host services.
            None => (self.module.run())(
                RStr::from_str(&spec),
                RSlice::from_slice(job.atom),
                fs::host_box(&host_fs),
                stream::reader_box(stream::HostReader(job.stdin)),
                stream::writer_box(stream::HostWriter(job.stdout)),
                stream::writer_box(stream::HostWriter(job.stderr)),
            ),
        };
        match result {
            RResult::ROk(s) => serde_json::from_str(s.as_str()).map_err(|e| {
                RunnerError::Other(format!("plugin returned an invalid outcome: {e}"))
            }),
            RResult::RErr(s) => Err(serde_json::from_str(s.as_str())
                .unwrap_or_else(|_| RunnerError::Other(format!("plugin error: {s}")))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn interface_major_agrees_with_the_version_and_the_crate() {
        assert_eq!(
            super::major(super::INTERFACE_VERSION),
            super::INTERFACE_MAJOR.to_string()
        );
        // abi_stable refuses a layout whose types come from another major of this crate,
        // so the crate's major must be the interface's.
        assert_eq!(
            super::major(env!("CARGO_PKG_VERSION")),
            super::INTERFACE_MAJOR.to_string()
        );
    }

    #[test]
    fn export_macro_spells_the_extension_symbol() {
        // `export_runner!` names its static literally.
        assert_eq!(super::EXT_SYMBOL, "webc_runner_ext_1_1");
        assert!(super::INTERFACE_VERSION.starts_with("1.1."));
    }

    #[test]
    fn export_macro_spells_the_root_symbol() {
        assert_eq!(
            super::ROOT_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
