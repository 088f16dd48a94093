//! Running a command: the embedding API ([`Host`]) and what `webc-host run` does.
//!
//! [`Host::run`] takes a package and [`RunOptions`], and:
//! 1. picks the command as Wasmer does (the one named, else the manifest `entrypoint`, else
//!    the only command);
//! 2. resolves its atom as Wasmer does (`atom` annotation, `wasi.atom`/`emscripten.atom`,
//!    the command's name) and verifies the atom's SHA-256 against the manifest signature
//!    (remembered in the cache per package file, so large atoms are not re-hashed every run);
//! 3. computes the effective permissions (declared ∩ granted, see [`crate::permissions`]);
//! 4. builds the program's file system (container volumes read-only, granted directories,
//!    a private `/tmp`) with `webc-vfs`;
//! 5. selects the runner through the [`Registry`] (dlopening only that plugin) and hands it
//!    the job. A runner that refuses the atom before touching stdio
//!    ([`RunnerError::Refused`]) is followed by the next runner for the URI, unless the user
//!    pinned it; each such change is reported through [`RunOptions::notes`]. The outcome's
//!    exit code is the program's; host-side failures map to the codes of
//!    [`Error::exit_code`].

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ciborium::Value;
use webc_container::Container;
use webc_container::manifest::{Command, parse_atom_signature};
use webc_runner_api::{HostServices, Job, JobSpec, Materialise, Outcome, Runner, RunnerError};
use webc_vfs::VfsBuilder;

use crate::cache::{Cache, FileIdentity};
use crate::error::Error;
use crate::permissions::{self, Declared, Effective, Grants, Mode};
use crate::registry::{DiscoveryOptions, Preferences, Registry, Rejection, Selected};

pub use crate::error::{EXIT_CANNOT_EXECUTE, EXIT_HOST, EXIT_NOT_FOUND};
/// Exit code: the time limit was reached.
pub const EXIT_TIMEOUT: u8 = 124;
/// Exit code: the guest trapped or aborted.
pub const EXIT_TRAP: u8 = 134;

/// The exit code of a finished run.
pub fn outcome_exit_code(outcome: Outcome) -> u8 {
    match outcome {
        // As a shell would see it: the low 8 bits.
        Outcome::Exit(code) => (code as u32 & 0xff) as u8,
        Outcome::Trap => EXIT_TRAP,
        Outcome::Timeout => EXIT_TIMEOUT,
    }
}

/// What to run and with what grants.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Command name; `None` for the default command.
    pub command: Option<String>,
    /// Program arguments.
    pub args: Vec<String>,
    /// User grants.
    pub grants: Grants,
    /// `--runner URI=NAME` choices.
    pub preferences: Preferences,
    /// `--runner-opt KEY=VALUE` pairs.
    pub runner_options: Vec<(String, String)>,
    /// Where the host's one-line notes about the run go (such as "onnx-ort cannot take
    /// this atom (…); using onnx-tract"); by default, `tracing` events at info level.
    pub notes: Notes,
    /// Whether the [`Stdio`] given to [`Host::run`] are this process's own stdin, stdout
    /// and stderr (file descriptors 0, 1 and 2), which a runner that starts a process may
    /// then hand to it directly (see `JobSpec::process_stdio`). Set it only when that is
    /// true and the streams hold no buffered output.
    pub process_stdio: bool,
}

/// A receiver of the host's one-line notes about a run (not the program's output).
#[derive(Clone, Default)]
pub struct Notes(Option<Arc<NoteSink>>);

/// What receives notes.
type NoteSink = dyn Fn(&str) + Send + Sync;

impl Notes {
    /// Notes go to `sink` (the CLI prints them as `note: …` on stderr).
    pub fn to(sink: impl Fn(&str) + Send + Sync + 'static) -> Notes {
        Notes(Some(Arc::new(sink)))
    }

    /// Notes are dropped.
    pub fn silent() -> Notes {
        Notes::to(|_| {})
    }

    fn note(&self, text: &str) {
        match &self.0 {
            Some(sink) => sink(text),
            None => tracing::info!("{text}"),
        }
    }
}

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Notes(sink)"
        } else {
            "Notes(tracing)"
        })
    }
}

/// Standard streams that remember whether the runner used them: a refusal is only
/// honoured (the next runner tried) while nothing was read or written.
struct Watched<'a, T: ?Sized> {
    inner: &'a mut T,
    used: &'a std::sync::atomic::AtomicBool,
}

impl<T: Read + Send + ?Sized> Read for Watched<'_, T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.used.store(true, std::sync::atomic::Ordering::Relaxed);
        self.inner.read(buf)
    }
}

impl<T: Write + Send + ?Sized> Write for Watched<'_, T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.used.store(true, std::sync::atomic::Ordering::Relaxed);
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The program's standard streams.
pub struct Stdio<'a> {
    /// Standard input.
    pub stdin: &'a mut (dyn Read + Send),
    /// Standard output.
    pub stdout: &'a mut (dyn Write + Send),
    /// Standard error.
    pub stderr: &'a mut (dyn Write + Send),
}

impl std::fmt::Debug for Stdio<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stdio")
    }
}

/// A package ready to run: the container and, for files, their path and the identity of
/// the file version that was mapped (the key of the verification cache).
#[derive(Debug)]
pub struct Package {
    /// The container.
    pub container: Container,
    /// The file it came from, if it is a `.webc` on disk.
    pub file: Option<PathBuf>,
    /// The identity of that file as it was opened (`None`: atoms are hashed every run, as
    /// for a file changed less than [`crate::cache::RACY`] before it was opened).
    pub identity: Option<FileIdentity>,
}

impl Package {
    /// Opens `path`: a `.webc` file (memory-mapped), a directory with a `wasmer.toml` (packed
    /// in memory), or a bare WebAssembly module (`\0asm`; run as a one-command WASI package
    /// named after the file, as `wasmer run prog.wasm` does).
    pub fn open(path: &Path) -> Result<Package, Error> {
        let display = crate::error::shown_path(path);
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::Package(format!("cannot open {display}: {e}")))?;
        if meta.is_dir() {
            let pkg = webc_pack::Package::from_dir(path)
                .map_err(|e| Error::Package(format!("cannot pack {display}: {e}")))?;
            let bytes = pkg
                .to_bytes()
                .map_err(|e| Error::Package(format!("cannot pack {display}: {e}")))?;
            let container = Container::from_bytes(bytes).map_err(|e| {
                Error::Package(format!("{display}: packed container does not open: {e}"))
            })?;
            return Ok(Package {
                container,
                file: None,
                identity: None,
            });
        }
        // One descriptor for everything below: the identity comes from the descriptor
        // that is mapped, so the verification record describes exactly the bytes that run
        // (a rename of another file over `path` in between cannot borrow its record).
        let read_error = |e: std::io::Error| Error::Package(format!("cannot read {display}: {e}"));
        let mut file = std::fs::File::open(path).map_err(read_error)?;
        let mut head = [0u8; 8];
        let n = file.read(&mut head).map_err(read_error)?;
        if n >= 4 && head[..4] == *b"\0asm" {
            let mut wasm = head[..n].to_vec();
            file.read_to_end(&mut wasm).map_err(read_error)?;
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| !s.is_empty())
                .unwrap_or("main");
            return Ok(Package {
                container: wasm_package(name, wasm)?,
                file: None,
                identity: None,
            });
        }
        let observed = std::time::SystemTime::now();
        let opened = file.metadata().map_err(read_error)?;
        if opened.len() == 0 {
            return Err(Error::Package(format!(
                "{display} is an empty file, not a webc package"
            )));
        }
        let identity = FileIdentity::of(&opened);
        // SAFETY: the map is read-only and private to this process. Another process
        // rewriting the file while it is mapped can change what we read (or raise SIGBUS);
        // that is the contract of every mmap-based reader (docs/security.md: packages are
        // not to be modified while they run). Parsing is bounds-checked against the mapped
        // length, so changed bytes can make results wrong but never make reads go out of
        // bounds, and a change before the run moves the change time, so the verification
        // record no longer matches and the atom is hashed again.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(read_error)?;
        let container = Container::from_bytes(bytes::Bytes::from_owner(map))
            .map_err(|e| Error::Package(format!("cannot read {display}: {e}")))?;
        Ok(Package {
            container,
            file: Some(path.to_owned()),
            // A file changed this very moment may change again under the same identity:
            // its verification is not remembered (nor looked up: no record can have it).
            identity: (!identity.is_racy(observed)).then_some(identity),
        })
    }
}

/// A v3 container with one WASI command `name` running the module `wasm`.
fn wasm_package(name: &str, wasm: Vec<u8>) -> Result<Container, Error> {
    let bytes = webc_pack::Package::from_wasm(name, bytes::Bytes::from(wasm))
        .to_bytes()
        .map_err(|e| Error::Package(format!("cannot wrap the module: {e}")))?;
    Container::from_bytes(bytes).map_err(|e| Error::Package(format!("cannot wrap the module: {e}")))
}

/// Everything decided before a run starts (what `run --explain` prints).
#[derive(Debug)]
pub struct Plan {
    /// The command.
    pub command: String,
    /// Its runner URI as written in the manifest.
    pub runner_uri: String,
    /// The atom it runs.
    pub atom: String,
    /// The atom's kind.
    pub atom_kind: String,
    /// The `permissions` annotation, if any.
    pub declared: Option<Declared>,
    /// What the program gets.
    pub effective: Effective,
    /// The chosen runner.
    pub selected: Selected,
}

/// Builds a [`Host`].
#[derive(Default)]
pub struct HostBuilder {
    discovery: Option<DiscoveryOptions>,
    statics: Vec<Arc<dyn Runner>>,
    cache_dir: Option<PathBuf>,
    no_cache: bool,
}

impl std::fmt::Debug for HostBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBuilder")
            .field("discovery", &self.discovery)
            .field("cache_dir", &self.cache_dir)
            .finish_non_exhaustive()
    }
}

impl HostBuilder {
    /// A host with no plugin sources, no runners and the default cache location.
    pub fn new() -> Self {
        HostBuilder::default()
    }

    /// Where to look for plugins (default: nowhere — embedders opt in; the CLI uses
    /// [`DiscoveryOptions::default`]).
    pub fn discovery(mut self, options: DiscoveryOptions) -> Self {
        self.discovery = Some(options);
        self
    }

    /// Adds a plugin directory.
    pub fn plugin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.discovery
            .get_or_insert_with(|| DiscoveryOptions::only(Vec::<PathBuf>::new()))
            .plugin_dirs
            .push(dir.into());
        self
    }

    /// Registers a runner linked into this program.
    pub fn register(mut self, runner: Arc<dyn Runner>) -> Self {
        self.statics.push(runner);
        self
    }

    /// Uses this cache directory (default: `WEBC_HOST_CACHE`, `$XDG_CACHE_HOME/webc-host`, …).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Runs without any cache (no precompiled artifacts, atoms hashed on every run).
    pub fn no_cache(mut self) -> Self {
        self.no_cache = true;
        self
    }

    /// Discovers plugins and opens the cache.
    ///
    /// A cache that cannot be used — no location, a path that is not a directory, a
    /// directory that cannot be written — is not an error: the host warns once and runs
    /// without it (it only ever saves time). A cache that is *unsafe* (owned by another
    /// user, writable by group or others: it holds native code) is refused with
    /// [`Error::UnsafeCache`].
    pub fn build(self) -> Result<Host, Error> {
        let warned = std::sync::atomic::AtomicBool::new(false);
        let cache = if self.no_cache {
            None
        } else {
            match Cache::locate(self.cache_dir.as_deref()).and_then(|root| Cache::open(&root)) {
                Ok(cache) => Some(cache),
                Err(e @ Error::UnsafeCache { .. }) => return Err(e),
                Err(e) => {
                    warn_uncached(&warned, &e);
                    None
                }
            }
        };
        let mut discovery = self
            .discovery
            .unwrap_or_else(|| DiscoveryOptions::only(Vec::<PathBuf>::new()));
        if discovery.metadata_cache.is_none()
            && let Some(c) = &cache
        {
            discovery.metadata_cache = Some(c.root().join("plugins.json"));
        }
        let mut registry = Registry::discover(&discovery);
        for r in self.statics {
            registry.register_static(r);
        }
        Ok(Host {
            registry,
            cache,
            cache_warned: warned,
        })
    }
}

/// Says once per host that the cache cannot be used and the run goes on without it.
fn warn_uncached(warned: &std::sync::atomic::AtomicBool, e: &Error) {
    if !warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "{e}; running without a cache (point --cache-dir or WEBC_HOST_CACHE at a \
             writable directory of yours to keep compiled code and verifications)"
        );
    }
}

/// A runner host: a registry of runners and a cache. Embed it to run webc packages from
/// your own program.
#[derive(Debug)]
pub struct Host {
    registry: Registry,
    cache: Option<Cache>,
    /// Whether the "cache cannot be used" warning was given.
    cache_warned: std::sync::atomic::AtomicBool,
}

impl Host {
    /// Starts building a host.
    pub fn builder() -> HostBuilder {
        HostBuilder::new()
    }

    /// The runner registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The cache, if any.
    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    /// Decides command, atom, permissions and runner without running anything.
    pub fn plan(&self, pkg: &Package, opts: &RunOptions) -> Result<Plan, Error> {
        let manifest = pkg.container.manifest();
        let names: Vec<&str> = manifest.commands().map(|(n, _)| n.as_str()).collect();
        let list = || {
            if names.is_empty() {
                "the package has no commands".to_owned()
            } else {
                format!("commands: {}", names.join(", "))
            }
        };
        let command = match &opts.command {
            Some(c) => {
                if manifest.command(c).is_none() {
                    return Err(Error::NoCommand(format!(
                        "no command {c:?} in this package ({})",
                        list()
                    )));
                }
                c.clone()
            }
            None => manifest
                .default_command()
                .map(str::to_owned)
                .ok_or_else(|| {
                    Error::NoCommand(format!(
                        "the package has no entrypoint and more than one command; name one ({})",
                        list()
                    ))
                })?,
        };
        let cmd = manifest.command(&command).ok_or_else(|| {
            Error::NoCommand(format!(
                "the entrypoint {command:?} is not a command of this package ({})",
                list()
            ))
        })?;
        let atom = match manifest.platform_atom(&command, std::env::consts::ARCH) {
            Some(Ok(atom)) => atom,
            Some(Err(reason)) => return Err(Error::NoPlatformAtom(reason)),
            None => manifest.command_atom(&command).ok_or_else(|| {
                Error::Package(format!(
                    "command {command:?}: cannot tell which atom it runs"
                ))
            })?,
        };
        let meta = manifest
            .atoms()
            .find(|(n, _)| **n == atom)
            .map(|(_, m)| m)
            .ok_or_else(|| {
                Error::Package(format!(
                    "command {command:?} runs atom {atom:?}, which the manifest does not list"
                ))
            })?;
        let declared = permissions::declared(&cmd.annotations)?;
        let effective =
            permissions::effective(declared.as_ref(), &opts.grants, |k| std::env::var(k).ok())?;
        let preferences = backend_preferences(&opts.preferences, opts, cmd);
        let selected = self
            .registry
            .select(&cmd.runner, &meta.kind, &preferences)?;
        Ok(Plan {
            command,
            runner_uri: cmd.runner.clone(),
            atom,
            atom_kind: meta.kind.clone(),
            declared,
            effective,
            selected,
        })
    }

    /// The runners a run of `plan` tries, in order: its selected runner, then (unless that
    /// one is pinned) each runner it falls back to when those before refuse the atom.
    /// Loads every candidate to ask its availability (what `run --explain` shows).
    pub fn fallback_order(
        &self,
        pkg: &Package,
        opts: &RunOptions,
        plan: &Plan,
    ) -> Result<Vec<Selected>, Error> {
        let cmd = pkg
            .container
            .manifest()
            .command(&plan.command)
            .cloned()
            .unwrap_or_default();
        let preferences = backend_preferences(&opts.preferences, opts, &cmd);
        self.registry
            .order(&plan.runner_uri, &plan.atom_kind, &preferences)
    }

    /// Runs a command of `pkg` to completion.
    pub fn run(
        &self,
        pkg: &Package,
        opts: &RunOptions,
        stdio: Stdio<'_>,
    ) -> Result<Outcome, Error> {
        let plan = self.plan(pkg, opts)?;
        self.run_plan(pkg, opts, &plan, stdio)
    }

    /// Runs a [`Plan`] made by [`Host::plan`].
    pub fn run_plan(
        &self,
        pkg: &Package,
        opts: &RunOptions,
        plan: &Plan,
        stdio: Stdio<'_>,
    ) -> Result<Outcome, Error> {
        let c = &pkg.container;
        let manifest = c.manifest();
        let meta = manifest
            .atoms()
            .find(|(n, _)| **n == plan.atom)
            .map(|(_, m)| m.clone())
            .unwrap_or_default();
        let atom = self.verified_atom(pkg, &plan.atom, &meta.signature)?;
        let mut vfs = VfsBuilder::new()
            .volume_mounts_from(c)
            .map_err(|e| Error::Fs(e.to_string()))?;
        for m in &plan.effective.mounts {
            let mode = match m.mode {
                Mode::Ro => webc_vfs::Mode::ReadOnly,
                Mode::Rw => webc_vfs::Mode::ReadWrite,
            };
            vfs = vfs
                .grant_dir(&m.host, &m.guest, mode)
                .map_err(|e| Error::Fs(e.to_string()))?;
        }
        let vfs = vfs.tmp(true).tmp_size(plan.effective.tmp_size);
        let mounts = vfs.mount_table();
        let vfs = vfs.build().map_err(|e| Error::Fs(e.to_string()))?;
        let cmd = manifest.command(&plan.command).cloned().unwrap_or_default();
        // The atom was checked against this signature (now or on an earlier run of the same
        // file), so the digest comes from the manifest instead of hashing the atom again.
        let atom_sha256 = match parse_atom_signature(&meta.signature) {
            Some(digest) => hex::encode(digest),
            None => {
                use sha2::Digest as _;
                hex::encode(sha2::Sha256::digest(&atom))
            }
        };
        let spec = JobSpec {
            command: plan.command.clone(),
            runner_uri: plan.runner_uri.clone(),
            atom_name: plan.atom.clone(),
            atom_kind: plan.atom_kind.clone(),
            atom_sha256,
            annotations: cbor(&cmd.annotations.to_cbor_value()),
            atom_annotations: cbor(meta.annotations.as_ref().unwrap_or(&Value::Map(Vec::new()))),
            args: opts.args.clone(),
            env: plan.effective.env.clone(),
            limits: plan.effective.limits,
            network: plan.effective.network.clone(),
            cache_dir: None,
            // `backend` chose the runner (see `backend_preferences`); runners never see it.
            options: opts
                .runner_options
                .iter()
                .filter(|(k, _)| k != BACKEND_OPTION)
                .cloned()
                .collect(),
            mounts,
            process_stdio: opts.process_stdio,
        };
        let services = Services {
            host: self,
            pkg,
            atom: &atom,
            atom_sha256: &spec.atom_sha256,
        };
        let preferences = backend_preferences(&opts.preferences, opts, &cmd);
        let used = std::sync::atomic::AtomicBool::new(false);
        let mut selected = plan.selected.clone();
        let mut refusals: Vec<Rejection> = Vec::new();
        loop {
            let runner = selected.info.name.clone();
            let mut spec = spec.clone();
            spec.cache_dir = self.runner_cache_dir(&runner)?;
            tracing::debug!(
                runner = runner.as_str(),
                command = plan.command.as_str(),
                "running"
            );
            let job = Job {
                spec,
                atom: &atom,
                fs: &vfs,
                stdin: &mut Watched {
                    inner: &mut *stdio.stdin,
                    used: &used,
                },
                stdout: &mut Watched {
                    inner: &mut *stdio.stdout,
                    used: &used,
                },
                stderr: &mut Watched {
                    inner: &mut *stdio.stderr,
                    used: &used,
                },
                host: &services,
            };
            let reason = match selected.runner.run(job) {
                Err(RunnerError::Refused(reason))
                    if !selected.pinned && !used.load(std::sync::atomic::Ordering::Relaxed) =>
                {
                    reason
                }
                Err(RunnerError::Refused(reason)) if !refusals.is_empty() => {
                    refusals.push(Rejection { runner, reason });
                    return Err(Error::AllRefused {
                        uri: plan.runner_uri.clone(),
                        atom: plan.atom.clone(),
                        refusals,
                    });
                }
                result => return result.map_err(|error| Error::Runner { runner, error }),
            };
            let reason = crate::registry::one_line(&reason);
            let tried: Vec<String> = refusals
                .iter()
                .map(|r| r.runner.clone())
                .chain([runner.clone()])
                .collect();
            match self.registry.select_excluding(
                &plan.runner_uri,
                &plan.atom_kind,
                &preferences,
                &tried,
            ) {
                Ok(next) => {
                    opts.notes.note(&format!(
                        "{runner} cannot take atom {} ({reason}); using {}",
                        crate::error::shown(&plan.atom),
                        next.info.name
                    ));
                    refusals.push(Rejection { runner, reason });
                    selected = next;
                }
                Err(_) if refusals.is_empty() => {
                    return Err(Error::Runner {
                        runner,
                        error: RunnerError::Refused(reason),
                    });
                }
                Err(_) => {
                    refusals.push(Rejection { runner, reason });
                    return Err(Error::AllRefused {
                        uri: plan.runner_uri.clone(),
                        atom: plan.atom.clone(),
                        refusals,
                    });
                }
            }
        }
    }

    /// The private cache directory of runner `name`, if the host has a usable cache.
    fn runner_cache_dir(&self, name: &str) -> Result<Option<PathBuf>, Error> {
        match &self.cache {
            Some(cache) => match cache.runner_dir(name) {
                Ok(dir) => Ok(Some(dir)),
                Err(e @ Error::UnsafeCache { .. }) => Err(e),
                Err(e) => {
                    warn_uncached(&self.cache_warned, &e);
                    Ok(None)
                }
            },
            None => Ok(None),
        }
    }

    fn verified_atom(
        &self,
        pkg: &Package,
        name: &str,
        signature: &str,
    ) -> Result<bytes::Bytes, Error> {
        if let (Some(cache), Some(file)) = (&self.cache, &pkg.identity)
            && cache.is_verified(file, name, signature)
        {
            tracing::debug!(atom = name, "atom verified before (cache hit)");
            return pkg
                .container
                .atom(name)
                .map_err(|e| Error::Package(e.to_string()));
        }
        let bytes = pkg
            .container
            .verified_atom(name)
            .map_err(|e| Error::Integrity(e.to_string()))?;
        if let (Some(cache), Some(file)) = (&self.cache, &pkg.identity)
            && let Err(e) = cache.mark_verified(file, name, signature)
        {
            warn_uncached(&self.cache_warned, &e);
        }
        Ok(bytes)
    }
}

/// The `--runner-opt` key that picks a runner's backend (consumed by the host).
pub const BACKEND_OPTION: &str = "backend";

/// Adds the backend wish to the user's preferences: `--runner-opt backend=B` (required), or
/// else the command's `<runner>.backend` annotation (preferred), where `<runner>` is the last
/// segment of the runner URI (`onnx.backend` for `https://webc.org/runner/onnx`).
fn backend_preferences(base: &Preferences, opts: &RunOptions, cmd: &Command) -> Preferences {
    let mut prefs = base.clone();
    if let Some((_, b)) = opts
        .runner_options
        .iter()
        .rev()
        .find(|(k, _)| k == BACKEND_OPTION)
    {
        prefs.set_backend(b, true, &format!("--runner-opt {BACKEND_OPTION}={b}"));
        return prefs;
    }
    let Ok(uri) = webc_runner_api::uri::RunnerUri::parse(&cmd.runner) else {
        return prefs;
    };
    let family = uri.name.rsplit('/').next().unwrap_or_default().to_owned();
    let annotations = cmd.annotations.to_cbor_value();
    let backend = annotations
        .as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_text() == Some(family.as_str())))
        .and_then(|(_, v)| v.as_map())
        .and_then(|m| m.iter().find(|(k, _)| k.as_text() == Some("backend")))
        .and_then(|(_, v)| v.as_text());
    if let Some(b) = backend {
        prefs.set_backend(b, false, &format!("annotation {family}.backend={b}"));
    }
    prefs
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a `Value` into a `Vec` cannot fail.
    let _ = ciborium::into_writer(v, &mut out);
    out
}

/// The host's services to a runner during one job (`materialise`).
struct Services<'a> {
    host: &'a Host,
    pkg: &'a Package,
    atom: &'a [u8],
    atom_sha256: &'a str,
}

impl HostServices for Services<'_> {
    fn materialise(&self, what: &Materialise) -> Result<PathBuf, RunnerError> {
        let Some(cache) = &self.host.cache else {
            return Err(RunnerError::Unavailable(
                "the host has no usable cache to write volumes to (see --cache-dir)".into(),
            ));
        };
        let result = match what {
            Materialise::Volume(name) => {
                if !self.pkg.container.volume_names().any(|n| n == name) {
                    return Err(RunnerError::InvalidJob(format!(
                        "the package has no volume {:?}",
                        crate::error::shown(name)
                    )));
                }
                let started = std::time::Instant::now();
                let r = crate::materialise::volume(
                    cache,
                    &self.pkg.container,
                    self.pkg.identity.as_ref(),
                    name,
                );
                tracing::debug!(volume = name.as_str(), elapsed = ?started.elapsed(), "materialised");
                r
            }
            Materialise::Atom => crate::materialise::atom(cache, self.atom, self.atom_sha256),
            _ => {
                return Err(RunnerError::InvalidJob(
                    "this host cannot materialise that".into(),
                ));
            }
        };
        result.map_err(|e| RunnerError::Other(e.to_string()))
    }
}
