//! Packages of one atom and one command, built without a `wasmer.toml`: what `webc-host run
//! prog.wasm` runs and what `webc-host pack --onnx model.onnx` writes.

use std::path::Path;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use webc_container::manifest::{
    AtomAnnotation, AtomMeta, Command, CommandAnnotations, KIND_WASM, Manifest, RUNNER_WASI, Wasi,
    atom_signature,
};

use crate::{Error, Package, Result};

/// Atom kind of ONNX models.
pub const KIND_ONNX: &str = "https://webc.org/kind/onnx";
/// Runner URI of ONNX models.
pub const RUNNER_ONNX: &str = "https://webc.org/runner/onnx";
/// Atom kind of native executables.
pub const KIND_ELF: &str = webc_container::well_known::KIND_ELF;
/// Runner URI of native executables.
pub const RUNNER_POSIX: &str = webc_container::well_known::RUNNER_POSIX;

/// What a single-atom package holds.
#[derive(Debug, Clone)]
pub struct SingleAtom {
    /// Atom name (also the file name stem); `/`, `\`, `:` and NUL are replaced by `_`.
    pub atom: String,
    /// Atom kind URL.
    pub kind: String,
    /// The one command's name (the package entrypoint).
    pub command: String,
    /// The command's runner URI.
    pub runner: String,
    /// The atom's annotations (a CBOR map), if any.
    pub atom_annotations: Option<ciborium::Value>,
}

/// `name` with the characters a webc path or name cannot hold replaced by `_` (and
/// `main` for an empty name).
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.is_empty() { "main".to_owned() } else { s }
}

impl Package {
    /// A package running `bytes` as atom `spec.atom` through command `spec.command`: atoms,
    /// one command with the `atom` annotation (and `wasi` for the WASI runner, as Wasmer
    /// writes it), the command as entrypoint, no volumes. The file name is `<atom>.webc`.
    pub fn single_atom(spec: &SingleAtom, bytes: Bytes) -> Package {
        let atom = safe_name(&spec.atom);
        let signature = atom_signature(&Sha256::digest(&bytes).into());
        let atoms = [(
            atom.clone(),
            AtomMeta {
                kind: spec.kind.clone(),
                signature,
                annotations: spec.atom_annotations.clone(),
                ..Default::default()
            },
        )];
        let annotations = CommandAnnotations {
            atom: Some(AtomAnnotation {
                name: atom.clone(),
                ..Default::default()
            }),
            wasi: (spec.runner == RUNNER_WASI).then(|| Wasi {
                atom: atom.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let commands = [(
            spec.command.clone(),
            Command {
                runner: spec.runner.clone(),
                annotations,
                ..Default::default()
            },
        )];
        let manifest = Manifest {
            atoms: Some(atoms.into_iter().collect()),
            commands: Some(commands.into_iter().collect()),
            entrypoint: Some(spec.command.clone()),
            ..Default::default()
        };
        let writer = webc_container::write::Writer {
            manifest: manifest.to_cbor(),
            atoms: [(atom.clone(), bytes)].into_iter().collect(),
            ..Default::default()
        };
        Package {
            writer,
            file_name: format!("{atom}.webc"),
        }
    }

    /// A bare WebAssembly module as a one-command WASI package; command and atom are
    /// named `name` (as `wasmer run prog.wasm` names them after the file).
    pub fn from_wasm(name: &str, wasm: Bytes) -> Package {
        let name = safe_name(name);
        Package::single_atom(
            &SingleAtom {
                atom: name.clone(),
                kind: KIND_WASM.into(),
                command: name,
                runner: RUNNER_WASI.into(),
                atom_annotations: None,
            },
            wasm,
        )
    }

    /// An ONNX model file as a package with one command, `infer`, run by the ONNX runner;
    /// the atom is named after the file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read, [`Error::NotOnnx`] if it is empty or does not
    /// start like an ONNX model (a protobuf `ModelProto`, whose first field is
    /// `ir_version`).
    pub fn from_onnx(path: &Path) -> Result<Package> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        check_onnx(path, &bytes)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
        Ok(Package::single_atom(
            &SingleAtom {
                atom: stem.to_owned(),
                kind: KIND_ONNX.into(),
                command: "infer".into(),
                runner: RUNNER_ONNX.into(),
                atom_annotations: None,
            },
            Bytes::from(bytes),
        ))
    }
}

impl Package {
    /// A native Linux executable as a one-command package run by the POSIX runner:
    /// command and atom named after the file, the atom annotated with what
    /// [`posix_annotation`] reads from its ELF header.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, [`Error::NotElf`] if it is not an ELF
    /// executable.
    pub fn from_posix(path: &Path) -> Result<Package> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let annotations = posix_annotation(path, &bytes)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("main");
        let name = safe_name(stem);
        Ok(Package::single_atom(
            &SingleAtom {
                atom: name.clone(),
                kind: KIND_ELF.into(),
                command: name,
                runner: RUNNER_POSIX.into(),
                atom_annotations: Some(annotations),
            },
            Bytes::from(bytes),
        ))
    }
}

/// The atom annotations of a native executable: `{"posix": {"arch", "os": "linux",
/// "libc"}}`, with the architecture from its ELF header and `libc` from its interpreter
/// (`static` without one, `musl` for musl's loader, else `glibc`).
///
/// # Errors
/// [`Error::NotElf`] naming `path` if the bytes are not an ELF executable.
pub fn posix_annotation(path: &Path, bytes: &[u8]) -> Result<ciborium::Value> {
    use ciborium::Value;
    let info = webc_container::elf::inspect(bytes).map_err(|e| Error::NotElf {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let libc = match &info.interpreter {
        None => "static",
        Some(i) if i.contains("musl") => "musl",
        Some(_) => "glibc",
    };
    let text = |s: &str| Value::Text(s.to_owned());
    Ok(Value::Map(vec![(
        text("posix"),
        Value::Map(vec![
            (text("arch"), text(&info.arch)),
            (text("os"), text("linux")),
            (text("libc"), text(libc)),
        ]),
    )]))
}

/// An ONNX file is a protobuf `ModelProto`; every exporter writes field 1 (`ir_version`,
/// a varint: tag byte 0x08) first. Anything else (a `.wasm`, text, an empty file) is refused
/// here rather than failing later in the runner.
fn check_onnx(path: &Path, bytes: &[u8]) -> Result<()> {
    let reason = if bytes.is_empty() {
        Some("the file is empty")
    } else if bytes.starts_with(b"\0asm") {
        Some("it is a WebAssembly module (run it with `webc-host run`, or pack a wasmer.toml)")
    } else if bytes[0] != 0x08 {
        Some("it does not start with an ONNX ModelProto's ir_version field")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::NotOnnx {
            path: path.to_path_buf(),
            reason: reason.to_owned(),
        }),
        None => Ok(()),
    }
}
