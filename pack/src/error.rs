//! The one error type of `webc-pack`: every variant names the file, key or line at fault.

use std::path::PathBuf;

/// Errors while reading `wasmer.toml`, the files it names, or the `[fs]` directories.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The directory has no `wasmer.toml` (or the path is neither a file nor a directory).
    #[error("{} does not contain a wasmer.toml manifest", dir.display())]
    MissingManifest {
        /// The directory (or path) that was given.
        dir: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// What was being read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `wasmer.toml` is not valid TOML, or does not have the shape Wasmer expects.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Toml {
        /// The manifest.
        path: PathBuf,
        /// 1-based line of the problem (0 when the parser gave no position).
        line: usize,
        /// 1-based column of the problem (0 when unknown).
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// An `[fs]` entry names a host directory that does not exist.
    #[error("[fs] \"{guest}\" = \"{}\": {} does not exist", host.display(), resolved.display())]
    FsPathMissing {
        /// The guest path (the key).
        guest: String,
        /// The host path as written.
        host: PathBuf,
        /// The host path resolved against the package directory.
        resolved: PathBuf,
    },
    /// A `[dependencies]` key is not `namespace/name`.
    #[error("[dependencies] \"{name}\" is not in the \"namespace/name\" format")]
    InvalidDependency {
        /// The key.
        name: String,
    },
    /// A `[[module]]` source could not be read.
    #[error("[[module]] \"{module}\": cannot read its source {}: {source}", path.display())]
    ModuleSource {
        /// Module name.
        module: String,
        /// The resolved source path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A `[[module]]` has a `kind` that is neither a known short name nor a URL.
    #[error(
        "[[module]] \"{module}\": unknown kind \"{kind}\" (expected \"wasm\", \"onnx\", \"elf\", \"tensorflow-SavedModel\" or an absolute URL)"
    )]
    UnknownAtomKind {
        /// Module name.
        module: String,
        /// The kind as written.
        kind: String,
    },
    /// `pack --onnx` was given a file that is not an ONNX model.
    #[error("{} is not an ONNX model: {reason}", path.display())]
    NotOnnx {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// A native executable (`pack --posix`, or a `[[module]]` of kind `elf`) that is not a
    /// runnable ELF file.
    #[error("{} is not a native executable: {reason}", path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// A `[[command]]` uses a module that no `[[module]]` defines.
    #[error("[[command]] \"{command}\" uses module \"{module}\", which no [[module]] defines")]
    UnknownModule {
        /// Command name.
        command: String,
        /// The module reference as written.
        module: String,
    },
    /// A `[[command]]` uses `dep:module` with a dependency `[dependencies]` does not declare.
    #[error(
        "[[command]] \"{command}\" uses module \"{module}\" of \"{dependency}\", which [dependencies] does not declare"
    )]
    UndeclaredDependency {
        /// Command name.
        command: String,
        /// The dependency alias.
        dependency: String,
        /// The module reference as written.
        module: String,
    },
    /// Two `[[command]]`s have the same name.
    #[error("[[command]] \"{command}\" is defined more than once")]
    DuplicateCommand {
        /// Command name.
        command: String,
    },
    /// A runner that is neither a known short name nor expressible as a URL.
    #[error("[[command]] \"{command}\": runner \"{runner}\" is neither a known runner nor a URL")]
    UnknownRunner {
        /// Command name.
        command: String,
        /// The runner as written.
        runner: String,
    },
    /// The annotations file of a command could not be read or parsed.
    #[error("[[command]] \"{command}\": annotations file {}: {message}", path.display())]
    AnnotationsFile {
        /// Command name.
        command: String,
        /// The resolved file path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A user annotation conflicts with the one generated for the runner.
    #[error(
        "[[command]] \"{command}\": annotation \"{key}\" conflicts with the one generated for its runner"
    )]
    MergeAnnotations {
        /// Command name.
        command: String,
        /// Top-level annotation key.
        key: String,
    },
    /// A path in `wasmer.toml` points outside the package directory where Wasmer cannot use it.
    #[error("{field} = \"{}\" is outside the package directory {}", path.display(), base_dir.display())]
    OutsideBaseDir {
        /// Which key (e.g. `package.readme`).
        field: String,
        /// The path as written.
        path: PathBuf,
        /// The package directory.
        base_dir: PathBuf,
    },
    /// A bindings file named by a `[[module]]` does not exist.
    #[error("[[module]] \"{module}\" bindings: {} does not exist", path.display())]
    BindingFile {
        /// Module name.
        module: String,
        /// The resolved path.
        path: PathBuf,
    },
    /// Walking a directory failed (unreadable entry, bad `.wasmerignore` glob, ...).
    #[error("{}: {message}", path.display())]
    Walk {
        /// The directory being walked.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A symlink whose target is absolute or climbs out of its volume.
    #[error(
        "symlink {} -> \"{target}\": the target must be relative and stay inside volume \"{volume}\"",
        path.display()
    )]
    SymlinkEscapes {
        /// The symlink on disk.
        path: PathBuf,
        /// Its target.
        target: String,
        /// The volume it would be stored in.
        volume: String,
    },
    /// A file name or symlink target that is not valid UTF-8.
    #[error("{}: not valid UTF-8", path.display())]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },
    /// A path that cannot be stored in a container.
    #[error("{}: {reason}", path.display())]
    UnsupportedPath {
        /// The offending path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A modification time before 1970, which the format cannot store.
    #[error("{}: modification time is before 1970-01-01", path.display())]
    Timestamp {
        /// The file, directory or symlink.
        path: PathBuf,
    },
    /// Writing the container failed.
    #[error(transparent)]
    Container(#[from] webc_container::Error),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
