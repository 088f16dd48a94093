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
