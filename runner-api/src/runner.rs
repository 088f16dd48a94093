//! The plain-Rust side of the interface: what a runner implements and what it receives.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fs::FileSystem;

/// What a runner is and what it serves. Read once per plugin and cached by the host.
///
/// Build it with [`RunnerInfo::new`] and the builder methods: fields may be added in a
/// compatible interface version (see `docs/abi-evolution.md`), so it cannot be written as a
/// struct literal outside this crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunnerInfo {
    /// Short unique name, e.g. `wasi`, `onnx-tract` (what `--runner URI=NAME` selects).
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// One line for `webc-host runners`.
    pub description: String,
    /// Runner URIs served, each with the versions accepted.
    pub serves: Vec<Serves>,
    /// Atom kinds accepted, e.g. `https://webc.org/kind/wasm`.
    pub atom_kinds: Vec<String>,
    /// Higher wins when several available runners serve one URI and the user has no preference.
    pub priority: i32,
    /// `--runner-opt` keys this runner understands.
    pub options: Vec<OptionDoc>,
    /// The backend this runner is built on, when several runners of one family serve the
    /// same URI on different engines (`tract`, `ort` for ONNX): what `--runner-opt
    /// backend=NAME` and a command's `<runner>.backend` annotation select.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
}

impl RunnerInfo {
    /// A runner called `name` (what `--runner URI=NAME` selects) at `version`, described by
    /// one line; it serves nothing until [`RunnerInfo::serves`] is called.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> RunnerInfo {
        RunnerInfo {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            serves: Vec::new(),
            atom_kinds: Vec::new(),
            priority: 0,
            options: Vec::new(),
            backend: None,
        }
    }

    /// Serves runner URI `uri` (without `@version`) in the versions `versions` (see
    /// [`Serves::versions`]; `*` for any).
    pub fn serves(mut self, uri: impl Into<String>, versions: impl Into<String>) -> RunnerInfo {
        self.serves.push(Serves {
            uri: uri.into(),
            versions: versions.into(),
        });
        self
    }

    /// Accepts atoms of kind `kind` (`*` for any).
    pub fn atom_kind(mut self, kind: impl Into<String>) -> RunnerInfo {
        self.atom_kinds.push(kind.into());
        self
    }

    /// Sets the priority among runners serving the same URI (higher wins; default 0).
    pub fn priority(mut self, priority: i32) -> RunnerInfo {
        self.priority = priority;
        self
    }

    /// Documents one `--runner-opt KEY=VALUE`.
    pub fn option(mut self, key: impl Into<String>, help: impl Into<String>) -> RunnerInfo {
        self.options.push(OptionDoc {
            key: key.into(),
            help: help.into(),
        });
        self
    }

    /// Names the backend this runner is built on (see [`RunnerInfo::backend`]).
    pub fn backend(mut self, backend: impl Into<String>) -> RunnerInfo {
        self.backend = Some(backend.into());
        self
    }
}

/// One runner name served: the URI without `@version`, and which versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serves {
    /// e.g. `https://webc.org/runner/wasi`.
    pub uri: String,
    /// Version requirement on the `@version` suffix: `*` for any (including none), or a
    /// comma-separated list of accepted version strings such as `unstable_` (`-` accepts a
    /// URI without `@version`). See [`crate::uri::RunnerUri::matches`].
    pub versions: String,
}

/// Documentation of one `--runner-opt KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionDoc {
    /// The key.
    pub key: String,
    /// What it does and which values it takes.
    pub help: String,
}

/// Whether a runner can work on this machine right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    /// Ready.
    Available,
    /// Not usable, with the reason and a hint (e.g. "libonnxruntime.so not found; run
    /// scripts/install-onnxruntime.sh").
    Unavailable(String),
}

/// Resource limits in force for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Limits {
    /// Maximum memory in bytes the program may use.
    pub memory: Option<u64>,
    /// Maximum wall time.
    pub time: Option<Duration>,
}

/// Network permissions: the addresses a program may connect to or listen on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Network {
    /// `host:port` the program may connect to.
    pub connect: Vec<String>,
    /// `host:port` the program may listen on.
    pub listen: Vec<String>,
}

/// The serialisable part of a job: everything but the atom, the file system and stdio.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobSpec {
    /// Command name from the manifest.
    pub command: String,
    /// The command's runner URI, as written in the manifest.
    pub runner_uri: String,
    /// Name of the atom.
    pub atom_name: String,
    /// Kind URL of the atom.
    pub atom_kind: String,
    /// SHA-256 of the atom (already verified by the host), hex.
    pub atom_sha256: String,
    /// The command's annotations as CBOR (a map).
    pub annotations: Vec<u8>,
    /// The atom's annotations as CBOR (a map, possibly empty).
    pub atom_annotations: Vec<u8>,
    /// Program arguments (without argv\[0\]; the manifest's `main-args` are not included).
    pub args: Vec<String>,
    /// Environment granted to the program.
    pub env: Vec<(String, String)>,
    /// Limits in force.
    pub limits: Limits,
    /// Network grants.
    pub network: Network,
    /// A private directory for this runner's caches (precompiled artifacts), if any.
    pub cache_dir: Option<PathBuf>,
    /// `--runner-opt` values.
    pub options: Vec<(String, String)>,
    /// The job's mount table: every mount of [`Job::fs`] with what backs it, in the order
    /// the host mounted them (a later mount shadows an earlier one at the same or an
    /// enclosing path). For runners whose program needs real paths (a native process, a
    /// loader that opens a directory): they bind or open these instead of going through
    /// [`Job::fs`], and must give the program no more than the table says. Interface 1.1;
    /// empty from an older host.
    #[serde(default)]
    pub mounts: Vec<MountSpec>,
    /// Whether the job's stdin, stdout and stderr are this process's own file descriptors
    /// 0, 1 and 2 (the CLI running a command in a terminal or a pipeline). A runner that
    /// starts a child process may then hand those descriptors to it directly — a terminal
    /// stays a terminal — instead of copying through [`Job::stdin`] and friends (anything
    /// written to the streams must be flushed first). Interface 1.1; `false` from an older
    /// host and whenever the host passes other streams.
    #[serde(default)]
    pub process_stdio: bool,
}

/// One mount of a job's file system (see [`JobSpec::mounts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// Absolute guest path, normalised (`/`, `/data`, `/tmp`; never `..`).
    pub guest: String,
    /// Whether the program may write below it (the user granted `rw`; always `false` for
    /// package volumes).
    pub writable: bool,
    /// What backs it.
    pub source: MountSource,
}

/// What backs a [`MountSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MountSource {
    /// Directory `path` (absolute inside the volume, `/` for its root) of the package's
    /// volume `volume`. Not on disk until [`HostServices::materialise`] writes it.
    Volume {
        /// The volume's name in the container.
        volume: String,
        /// The mounted directory inside the volume.
        path: String,
    },
    /// A host directory the user granted, by its real path: the host validated it
    /// (it exists, it is a directory, the grant and the manifest allow this mode) and
    /// canonicalised it, so it holds no symlink or `..`.
    Host {
        /// The canonical host path.
        path: std::path::PathBuf,
    },
    /// The job's private, empty, writable `/tmp`, of at most `size` bytes. The host's own
    /// copy lives in memory behind [`Job::fs`]; a runner that gives a process real paths
    /// makes its own (a size-limited tmpfs) and discards it after the job.
    Tmp {
        /// The byte budget.
        size: u64,
    },
}

/// What a runner asks the host to write to disk (see [`HostServices::materialise`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Materialise {
    /// The package volume of this name, whole.
    Volume(String),
    /// The job's atom, as one file.
    Atom,
}

/// Services the host offers a runner during one job.
pub trait HostServices: Send + Sync {
    /// Writes a package volume (its directories, files and symlinks) or the job's atom once
    /// into the host's content-addressed cache and returns its path: for a volume, a
    /// directory whose tree is the volume's; for the atom, a file. Everything in it is
    /// read-only, and it is complete or absent (written to a temporary name, synced, then
    /// renamed), so concurrent runs and killed writers never see half of it; later runs
    /// reuse it without reading the package again. Its symlinks are the package's, and
    /// may point anywhere: resolve them only inside a sandbox rooted at the mounts.
    ///
    /// # Errors
    /// [`RunnerError::Unavailable`] when the host has no cache (or is older than
    /// interface 1.1), [`RunnerError::InvalidJob`] for a volume the package lacks, and
    /// [`RunnerError::Other`] for I/O errors.
    fn materialise(&self, what: &Materialise) -> Result<std::path::PathBuf, RunnerError>;
}

/// [`HostServices`] of a host that offers none (an older host, or a test): `materialise`
/// fails with [`RunnerError::Unavailable`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHostServices;

impl HostServices for NoHostServices {
    fn materialise(&self, what: &Materialise) -> Result<std::path::PathBuf, RunnerError> {
        Err(RunnerError::Unavailable(format!(
            "this host cannot materialise {} on disk (it has no cache, or predates runner \
             interface 1.1)",
            match what {
                Materialise::Volume(v) => format!("volume {v:?}"),
                Materialise::Atom => "the atom".to_owned(),
            }
        )))
    }
}

/// Everything a runner gets for one run.
pub struct Job<'a> {
    /// Names, args, env, limits, …
    pub spec: JobSpec,
    /// The atom's bytes (zero-copy view of the container; verified).
    pub atom: &'a [u8],
    /// The program's file system.
    pub fs: &'a dyn FileSystem,
    /// Standard input.
    pub stdin: &'a mut (dyn Read + Send),
    /// Standard output.
    pub stdout: &'a mut (dyn Write + Send),
    /// Standard error.
    pub stderr: &'a mut (dyn Write + Send),
    /// What the host does for the runner on request (writing volumes to disk).
    pub host: &'a dyn HostServices,
}

impl std::fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("spec", &self.spec)
            .field("atom_len", &self.atom.len())
            .finish_non_exhaustive()
    }
}

/// How a run ended, when it did not end in a [`RunnerError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The program exited with this code.
    Exit(i32),
    /// The guest trapped or aborted (host exit code 134).
    Trap,
    /// The time limit was reached (host exit code 124).
    Timeout,
}

/// A failure of the runner itself (not of the program it ran).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RunnerError {
    /// The atom is not something this runner can execute (bad module, unsupported op, …).
    #[error("cannot execute the atom: {0}")]
    CannotExecute(String),
    /// This runner cannot take this atom (a model format its engine cannot load, an
    /// operator it lacks, …), said **before** the runner read stdin, wrote stdout or
    /// stderr, or changed the file system. Another runner serving the same URI may take
    /// it: unless the user pinned a runner, the host tries the next one (and checks the
    /// promise: a refusal after stdio was used is an ordinary error).
    #[error("cannot take the atom: {0}")]
    Refused(String),
    /// The job is invalid for this runner (bad annotation, bad option, bad input).
    #[error("invalid job: {0}")]
    InvalidJob(String),
    /// The backend is unavailable (library missing, …).
    #[error("runner unavailable: {0}")]
    Unavailable(String),
    /// The runner panicked; the host caught it.
    #[error("the runner panicked: {0}")]
    Panicked(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A runner: one backend that executes atoms for one or more runner URIs.
///
/// Implement this in an rlib crate; export it from a thin cdylib with
/// [`export_runner!`](crate::export_runner). The host may also register it statically.
pub trait Runner: Send + Sync + 'static {
    /// Static description. Must be cheap and must not touch the backend.
    fn info(&self) -> RunnerInfo;
    /// Whether the backend is usable here (e.g. its shared library is found).
    fn availability(&self) -> Availability {
        Availability::Available
    }
    /// Runs one job to completion.
    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError>;
}
