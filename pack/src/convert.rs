//! `wasmer.toml` → webc manifest, as `wasmer_package::package::manifest` 0.704.2 converts it.
//!
//! The manifest is built as a `ciborium::Value` tree whose map keys are in exactly the order
//! Wasmer's serde structs and `IndexMap`s produce them (and with the same omit-vs-null
//! rules), then encoded with ciborium, so the CBOR bytes are the same. User annotations keep
//! the order they have in `wasmer.toml` (or in the JSON/YAML file) and are deep-merged into
//! the generated `atom`/`wasi` annotations the way Wasmer merges them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use ciborium::Value;
use sha2::{Digest, Sha256};
use toml_wasmer as toml;
use url::Url;

use crate::error::{Error, Result};
use crate::wasmer_toml::{
    Bindings, Command, CommandAnnotations, FileKind, Manifest, ModuleReference,
};

/// Name of the volume holding readme, license and bindings files.
pub(crate) const METADATA_VOLUME: &str = "metadata";

const WASI_RUNNER: &str = "https://webc.org/runner/wasi";
const WCGI_RUNNER: &str = "https://webc.org/runner/wcgi";
const WASM4_RUNNER: &str = "https://webc.org/runner/wasm4";

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

/// The converted manifest and the atoms (by name, as Wasmer keys them).
pub(crate) struct Converted {
    pub manifest: Value,
    pub atoms: BTreeMap<String, Bytes>,
}

/// `webc::sanitize_path`: absolute, `/`-separated, `.` dropped, `..` popped, never empty.
pub(crate) fn sanitize_path(path: &Path) -> String {
    use std::path::Component;
    let mut segments: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                segments.pop();
            }
            Component::Normal(s) => segments.push(s.to_string_lossy().into_owned()),
        }
    }
    if segments.is_empty() {
        return "/".to_owned();
    }
    segments.iter().fold(String::new(), |mut acc, s| {
        acc.push('/');
        acc.push_str(s);
        acc
    })
}

pub(crate) fn convert(
    manifest: &Manifest,
    base_dir: &Path,
    progress: &mut dyn crate::Progress,
) -> Result<Converted> {
    let use_map = dependencies(manifest)?;
    let package = package_annotations(manifest, base_dir)?;
    let (atoms_meta, atoms) = atoms(manifest, base_dir, progress)?;
    let commands = commands(manifest, base_dir)?;
    let bindings = bindings(manifest, base_dir)?;

    let mut top = Vec::new();
    if !use_map.is_empty() {
        top.push(("use", Value::Map(use_map)));
    }
    if !package.is_empty() {
        top.push(("package", map(package)));
    }
    if !atoms_meta.is_empty() {
        top.push(("atoms", Value::Map(atoms_meta)));
    }
    if !commands.is_empty() {
        top.push(("commands", Value::Map(commands)));
    }
    if !bindings.is_empty() {
        top.push(("bindings", Value::Array(bindings)));
    }
    if let Some(entrypoint) = entrypoint(manifest) {
        top.push(("entrypoint", text(entrypoint)));
    }
    Ok(Converted {
        manifest: map(top),
        atoms,
    })
}

fn dependencies(manifest: &Manifest) -> Result<Vec<(Value, Value)>> {
    let valid = |s: &str| {
        s.chars()
            .all(|c| matches!(c, 'a'..='z' | 'A'..='Z' | '_' | '-' | '0'..='9'))
    };
    manifest
        .dependencies
        .iter()
        .map(|(name, req)| match name.split_once('/') {
            Some((ns, pkg)) if valid(ns) && valid(pkg) => {
                Ok((text(name.clone()), text(format!("{ns}/{pkg}@{req}"))))
            }
            _ => Err(Error::InvalidDependency { name: name.clone() }),
        })
        .collect()
}

/// `package`: `wapm` (name, version and description stripped) then `fs`.
fn package_annotations(manifest: &Manifest, base_dir: &Path) -> Result<Vec<(&'static str, Value)>> {
    let mut out = Vec::new();
    if let Some(pkg) = &manifest.package {
        let mut wapm = Vec::new();
        if let Some(license) = &pkg.license {
            wapm.push(("license", text(license.clone())));
        }
        if let Some(p) = metadata_file(
            "package.license-file",
            pkg.license_file.as_deref(),
            base_dir,
        )? {
            wapm.push(("license-file", p));
        }
        if let Some(p) = metadata_file("package.readme", pkg.readme.as_deref(), base_dir)? {
            wapm.push(("readme", p));
        }
        if let Some(repository) = &pkg.repository {
            wapm.push(("repository", text(repository.clone())));
        }
        if let Some(homepage) = &pkg.homepage {
            wapm.push(("homepage", text(homepage.clone())));
        }
        if pkg.private {
            wapm.push(("private", Value::Bool(true)));
        }
        out.push(("wapm", map(wapm)));
    }
    if !manifest.fs.is_empty() {
        let mappings = manifest
            .fs
            .iter()
            .map(|(guest, host)| {
                map(vec![
                    ("from", Value::Null),
                    ("volume_name", text(sanitize_path(host))),
                    ("mount_path", text(sanitize_path(Path::new(guest)))),
                ])
            })
            .collect();
        out.push(("fs", Value::Array(mappings)));
    }
    Ok(out)
}

/// A readme/license reference: omitted when the file does not exist (Wasmer's lossy mode).
fn metadata_file(field: &str, path: Option<&Path>, base_dir: &Path) -> Result<Option<Value>> {
    let Some(path) = path else { return Ok(None) };
    let absolute = base_dir.join(path);
    if !absolute.exists() {
        return Ok(None);
    }
    match absolute.strip_prefix(base_dir) {
        Ok(relative) => Ok(Some(map(vec![
            ("volume", text(METADATA_VOLUME)),
            ("path", text(sanitize_path(relative))),
        ]))),
        // wasmer-package 0.704.2 panics (`todo!()`) here.
        Err(_) => Err(Error::OutsideBaseDir {
            field: field.to_owned(),
            path: path.to_path_buf(),
            base_dir: base_dir.to_path_buf(),
        }),
    }
}

type AtomMaps = (Vec<(Value, Value)>, BTreeMap<String, Bytes>);

/// Atoms keyed (and ordered) by module name; a repeated name keeps the last module.
fn atoms(
    manifest: &Manifest,
    base_dir: &Path,
    progress: &mut dyn crate::Progress,
) -> Result<AtomMaps> {
    let mut entries: BTreeMap<String, (Option<&str>, PathBuf, Bytes)> = BTreeMap::new();
    for module in &manifest.modules {
        let path = base_dir.join(&module.source);
        let bytes = std::fs::read(&path).map_err(|source| Error::ModuleSource {
            module: module.name.clone(),
            path: path.clone(),
            source,
        })?;
        progress.read_file(&path, bytes.len() as u64);
        entries.insert(
            module.name.clone(),
            (module.kind.as_deref(), path, Bytes::from(bytes)),
        );
    }

    let mut meta = Vec::new();
    let mut atoms = BTreeMap::new();
    for (name, (kind, path, bytes)) in entries {
        let mut atom = vec![
            ("kind", text(atom_kind(&name, kind)?)),
            ("signature", text(atom_signature(&bytes))),
        ];
        // Our extension: native executables for the POSIX runner, annotated with the
        // architecture their ELF header names.
        if kind == Some("elf") {
            atom.push((
                "annotations",
                crate::single::posix_annotation(&path, &bytes)?,
            ));
        } else if let Some(features) = crate::features::detect(&bytes)
            && !features.is_empty()
        {
            let features = features.into_iter().map(text).collect();
            atom.push((
                "annotations",
                map(vec![(
                    "wasm",
                    map(vec![("features", Value::Array(features))]),
                )]),
            ));
        }
        meta.push((text(name.clone()), map(atom)));
        atoms.insert(name, bytes);
    }
    Ok((meta, atoms))
}

fn atom_signature(bytes: &[u8]) -> String {
    webc_container::manifest::atom_signature(&Sha256::digest(bytes).into())
}

fn atom_kind(module: &str, kind: Option<&str>) -> Result<String> {
    let url = match kind {
        None | Some("wasm") => "https://webc.org/kind/wasm",
        Some("tensorflow-SavedModel") => "https://webc.org/kind/tensorflow-SavedModel",
        // Our extension (Wasmer knows no ONNX kind): ONNX models for the ONNX runner.
        Some("onnx") => crate::KIND_ONNX,
        // Ours too: native Linux executables for the POSIX runner.
        Some("elf") => crate::KIND_ELF,
        Some(other) => {
            return Url::parse(other)
                .map(|u| u.as_str().to_owned())
                .map_err(|_| Error::UnknownAtomKind {
                    module: module.to_owned(),
                    kind: other.to_owned(),
                });
        }
    };
    Ok(url.to_owned())
}

/// What a runner name means, as `RunnerKind::from_name`.
enum Runner {
    Wasi,
    Wcgi,
    Wasm4,
    Other(String),
}

impl Runner {
    fn from_name(command: &str, name: &str) -> Result<Self> {
        Ok(match name {
            "wasi" | "wasi@unstable_" | "generic" | WASI_RUNNER => Runner::Wasi,
            "wcgi" | WCGI_RUNNER => Runner::Wcgi,
            "wasm4" | WASM4_RUNNER => Runner::Wasm4,
            other => match Url::parse(other) {
                Ok(url) => Runner::Other(url.as_str().to_owned()),
                Err(_) => match Url::parse(&format!("https://webc.org/runner/{other}")) {
                    Ok(url) => Runner::Other(url.as_str().to_owned()),
                    Err(_) => {
                        return Err(Error::UnknownRunner {
                            command: command.to_owned(),
                            runner: other.to_owned(),
                        });
                    }
                },
            },
        })
    }

    fn uri(&self) -> &str {
        match self {
            Runner::Wasi => WASI_RUNNER,
            Runner::Wcgi => WCGI_RUNNER,
            Runner::Wasm4 => WASM4_RUNNER,
            Runner::Other(url) => url,
        }
    }

    /// `atom` for every runner, plus `wasi` for WASI and WCGI.
    fn annotations(
        &self,
        module: &ModuleReference,
        package: Option<&str>,
        main_args: Option<Vec<String>>,
    ) -> Vec<(Value, Value)> {
        let atom = match module {
            ModuleReference::CurrentPackage { module } => map(vec![("name", text(module.clone()))]),
            ModuleReference::Dependency { dependency, module } => map(vec![
                ("name", text(module.clone())),
                ("dependency", text(dependency.clone())),
            ]),
        };
        let mut out = vec![(text("atom"), atom)];
        if matches!(self, Runner::Wasi | Runner::Wcgi) {
            let mut wasi = vec![("atom", text(module.to_string()))];
            if let Some(package) = package {
                wasi.push(("package", text(package)));
            }
            if let Some(args) = main_args {
                wasi.push((
                    "main-args",
                    Value::Array(args.into_iter().map(text).collect()),
                ));
            }
            out.push((text("wasi"), map(wasi)));
        }
        out
    }
}

fn commands(manifest: &Manifest, base_dir: &Path) -> Result<Vec<(Value, Value)>> {
    let mut out: Vec<(Value, Value)> = Vec::new();
    for command in &manifest.commands {
        let name = command.name();
        let (runner, annotations) = match command {
            Command::V1(cmd) => {
                let runner = match &cmd.module {
                    ModuleReference::CurrentPackage { module } => {
                        let abi = manifest
                            .modules
                            .iter()
                            .find(|m| &m.name == module)
                            .map(|m| m.abi)
                            .ok_or_else(|| Error::UnknownModule {
                                command: name.to_owned(),
                                module: cmd.module.to_string(),
                            })?;
                        Runner::from_name(name, abi.runner_name())?
                    }
                    ModuleReference::Dependency { .. } => Runner::Wasi,
                };
                let main_args = cmd
                    .main_args
                    .as_deref()
                    .map(|a| a.split_whitespace().map(String::from).collect());
                let annotations =
                    runner.annotations(&cmd.module, cmd.package.as_deref(), main_args);
                (runner, annotations)
            }
            Command::V2(cmd) => {
                let runner = Runner::from_name(name, &cmd.runner)?;
                // Wasmer accepts a V2 command naming a module that does not exist and
                // writes a command that cannot run; we reject it.
                if let ModuleReference::CurrentPackage { module } = &cmd.module
                    && !manifest.modules.iter().any(|m| &m.name == module)
                {
                    return Err(Error::UnknownModule {
                        command: name.to_owned(),
                        module: module.clone(),
                    });
                }
                let mut annotations = runner.annotations(&cmd.module, None, None);
                if let Some(Value::Map(custom)) =
                    user_annotations(name, cmd.annotations.as_ref(), base_dir)?
                {
                    for (key, value) in custom {
                        let Value::Text(key) = key else { continue };
                        match annotations
                            .iter_mut()
                            .find(|(k, _)| matches!(k, Value::Text(t) if *t == key))
                        {
                            Some((_, existing)) => {
                                merge(existing, value).map_err(|()| Error::MergeAnnotations {
                                    command: name.to_owned(),
                                    key: key.clone(),
                                })?
                            }
                            None => annotations.push((Value::Text(key), value)),
                        }
                    }
                }
                (runner, annotations)
            }
        };

        if let ModuleReference::Dependency { dependency, .. } = command.module()
            && !manifest.dependencies.contains_key(dependency)
        {
            return Err(Error::UndeclaredDependency {
                command: name.to_owned(),
                dependency: dependency.clone(),
                module: command.module().to_string(),
            });
        }
        if out
            .iter()
            .any(|(k, _)| matches!(k, Value::Text(t) if t == name))
        {
            return Err(Error::DuplicateCommand {
                command: name.to_owned(),
            });
        }
        out.push((
            text(name),
            map(vec![
                ("runner", text(runner.uri())),
                ("annotations", Value::Map(annotations)),
            ]),
        ));
    }
    Ok(out)
}

/// The user's annotations of a V2 command as CBOR (inline TOML, or a JSON/YAML file).
fn user_annotations(
    command: &str,
    annotations: Option<&CommandAnnotations>,
    base_dir: &Path,
) -> Result<Option<Value>> {
    let file = match annotations {
        None => return Ok(None),
        Some(CommandAnnotations::Raw(v)) => return Ok(Some(toml_to_cbor(v))),
        Some(CommandAnnotations::File(file)) => file,
    };
    let path = base_dir.join(&file.file);
    let fail = |message: String| Error::AnnotationsFile {
        command: command.to_owned(),
        path: path.clone(),
        message,
    };
    let contents = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    Ok(Some(match file.kind {
        FileKind::Json => {
            let v: serde_json::Value =
                serde_json::from_str(&contents).map_err(|e| fail(e.to_string()))?;
            json_to_cbor(&v)
        }
        FileKind::Yaml => {
            let v: serde_yaml::Value =
                serde_yaml::from_str(&contents).map_err(|e| fail(e.to_string()))?;
            yaml_to_cbor(&v)
        }
    }))
}

fn toml_to_cbor(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => text(s.clone()),
        toml::Value::Integer(i) => Value::Integer((*i).into()),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => text(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_cbor).collect()),
        toml::Value::Table(t) => Value::Map(
            t.iter()
                .map(|(k, v)| (text(k.clone()), toml_to_cbor(v)))
                .collect(),
        ),
    }
}

fn json_to_cbor(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => number_to_cbor(n.as_i64(), n.as_u64(), n.as_f64()),
        J::String(s) => text(s.clone()),
        J::Array(a) => Value::Array(a.iter().map(json_to_cbor).collect()),
        J::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

fn yaml_to_cbor(v: &serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => number_to_cbor(n.as_i64(), n.as_u64(), n.as_f64()),
        Y::String(s) => text(s.clone()),
        Y::Sequence(s) => Value::Array(s.iter().map(yaml_to_cbor).collect()),
        Y::Mapping(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (yaml_to_cbor(k), yaml_to_cbor(v)))
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_cbor(&t.value),
    }
}

fn number_to_cbor(i: Option<i64>, u: Option<u64>, f: Option<f64>) -> Value {
    match (i, u, f) {
        (Some(i), _, _) => Value::Integer(i.into()),
        (None, Some(u), _) => Value::Integer(u.into()),
        (None, None, Some(f)) => Value::Float(f),
        (None, None, None) => Value::Null,
    }
}

/// Wasmer's `merge_cbor`: maps merge recursively, arrays append, equal primitives are
/// fine, `null` gives way; anything else conflicts.
fn merge(original: &mut Value, addition: Value) -> std::result::Result<(), ()> {
    match (original, addition) {
        (Value::Map(left), Value::Map(right)) => {
            for (k, v) in right {
                match left.iter_mut().find(|(lk, _)| *lk == k) {
                    Some((_, existing)) => merge(existing, v)?,
                    None => left.push((k, v)),
                }
            }
        }
        (Value::Array(left), Value::Array(right)) => left.extend(right),
        (Value::Bool(l), Value::Bool(r)) if *l == r => {}
        (Value::Bytes(l), Value::Bytes(r)) if *l == r => {}
        (Value::Float(l), Value::Float(r)) if *l == r => {}
        (Value::Integer(l), Value::Integer(r)) if *l == r => {}
        (Value::Text(l), Value::Text(r)) if *l == r => {}
        (original @ Value::Null, value) => *original = value,
        (_, Value::Null) => {}
        _ => return Err(()),
    }
    Ok(())
}

fn entrypoint(manifest: &Manifest) -> Option<String> {
    if let Some(e) = manifest.package.as_ref().and_then(|p| p.entrypoint.clone()) {
        return Some(e);
    }
    match manifest.commands.as_slice() {
        [only] => Some(only.name().to_owned()),
        _ => None,
    }
}

fn bindings(manifest: &Manifest, base_dir: &Path) -> Result<Vec<Value>> {
    let uri = |field: &str, path: &Path| -> Result<String> {
        let absolute = base_dir.join(path);
        let relative = absolute
            .strip_prefix(base_dir)
            .map_err(|_| Error::OutsideBaseDir {
                field: field.to_owned(),
                path: path.to_path_buf(),
                base_dir: base_dir.to_path_buf(),
            })?;
        Ok(format!("{METADATA_VOLUME}:/{}", sanitize_path(relative)))
    };
    let mut out = Vec::new();
    for module in &manifest.modules {
        let binding = match &module.bindings {
            None => continue,
            Some(Bindings::Wit(wit)) => map(vec![
                ("name", text("library-bindings")),
                ("kind", text(format!("wit@{}", wit.wit_bindgen))),
                (
                    "annotations",
                    map(vec![(
                        "wit",
                        map(vec![
                            ("exports", text(uri("wit-exports", &wit.wit_exports)?)),
                            ("module", text(module.name.clone())),
                        ]),
                    )]),
                ),
            ]),
            Some(Bindings::Wai(wai)) => {
                let exports = match &wai.exports {
                    Some(p) => text(uri("exports", p)?),
                    None => Value::Null,
                };
                let imports = wai
                    .imports
                    .iter()
                    .map(|p| uri("imports", p).map(text))
                    .collect::<Result<Vec<_>>>()?;
                map(vec![
                    ("name", text("library-bindings")),
                    ("kind", text(format!("wai@{}", wai.wai_version))),
                    (
                        "annotations",
                        map(vec![(
                            "wai",
                            map(vec![
                                ("exports", exports),
                                ("module", text(module.name.clone())),
                                ("imports", Value::Array(imports)),
                            ]),
                        )]),
                    ),
                ])
            }
        };
        out.push(binding);
    }
    Ok(out)
}

/// Files of the `metadata` volume: license file, readme and binding files (absolute).
pub(crate) fn metadata_files(
    manifest: &Manifest,
    base_dir: &Path,
) -> Result<std::collections::BTreeSet<PathBuf>> {
    let mut files = std::collections::BTreeSet::new();
    if let Some(pkg) = &manifest.package {
        if let Some(license) = &pkg.license_file {
            files.insert(base_dir.join(license));
        }
        if let Some(readme) = &pkg.readme {
            files.insert(base_dir.join(readme));
        }
    }
    for module in &manifest.modules {
        let missing = |path: PathBuf| Error::BindingFile {
            module: module.name.clone(),
            path,
        };
        match &module.bindings {
            None => {}
            Some(Bindings::Wit(wit)) => {
                let path = base_dir.join(&wit.wit_exports);
                if !path.exists() {
                    return Err(missing(path));
                }
                files.insert(path);
            }
            Some(Bindings::Wai(wai)) => {
                let mut set = std::collections::BTreeSet::new();
                for relative in wai.exports.iter().chain(&wai.imports) {
                    let path = base_dir.join(relative);
                    if !path.exists() {
                        return Err(missing(path));
                    }
                    set.insert(path);
                }
                for path in &set {
                    // Wasmer reads every WAI file (as UTF-8) while collecting them.
                    std::fs::read_to_string(path).map_err(|e| Error::io(path.clone(), e))?;
                }
                files.extend(set);
            }
        }
    }
    Ok(files)
}
