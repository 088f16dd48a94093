//! `wasmer.toml` as `wasmer-config` 0.704.2 deserializes it.
//!
//! The shapes (which keys exist, their types, untagged command/annotation variants, what is
//! ignored) follow `wasmer_config::package::Manifest` so that the same files are accepted
//! and rejected; unknown keys are ignored, as there.

use std::path::PathBuf;

use indexmap::IndexMap;
use semver::{Version, VersionReq};
use serde::{Deserialize, de::Error as _};
use toml_wasmer as toml;

/// The whole file.
#[derive(Debug, Deserialize)]
pub(crate) struct Manifest {
    pub package: Option<Package>,
    #[serde(default)]
    pub dependencies: IndexMap<String, VersionReq>,
    #[serde(default)]
    pub fs: IndexMap<String, PathBuf>,
    #[serde(default, rename = "module")]
    pub modules: Vec<Module>,
    #[serde(default, rename = "command")]
    pub commands: Vec<Command>,
}

/// `[package]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Package {
    pub name: Option<String>,
    pub version: Option<Version>,
    #[allow(
        dead_code,
        reason = "type-checked only: Wasmer strips it from the container"
    )]
    pub description: Option<String>,
    pub license: Option<String>,
    #[serde(rename = "license-file")]
    pub license_file: Option<PathBuf>,
    pub readme: Option<PathBuf>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    /// Deprecated; type-checked only.
    #[serde(rename = "wasmer-extra-flags")]
    #[allow(
        dead_code,
        reason = "parsed so that a wrongly typed value is rejected as by Wasmer"
    )]
    pub wasmer_extra_flags: Option<String>,
    /// Deprecated; type-checked only.
    #[serde(rename = "disable-command-rename", default)]
    #[allow(
        dead_code,
        reason = "parsed so that a wrongly typed value is rejected as by Wasmer"
    )]
    pub disable_command_rename: bool,
    /// Deprecated; type-checked only.
    #[serde(rename = "rename-commands-to-raw-command-name", default)]
    #[allow(
        dead_code,
        reason = "parsed so that a wrongly typed value is rejected as by Wasmer"
    )]
    pub rename_commands_to_raw_command_name: bool,
    pub entrypoint: Option<String>,
    #[serde(default)]
    pub private: bool,
}

/// `abi` of a module; only used to pick the runner of a V1 command.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub(crate) enum Abi {
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "wasi")]
    Wasi,
    #[serde(rename = "wasm4")]
    Wasm4,
}

impl Abi {
    /// The runner name a V1 command gets (`none` is spelt `generic`).
    pub fn runner_name(self) -> &'static str {
        match self {
            Abi::None => "generic",
            Abi::Wasi => "wasi",
            Abi::Wasm4 => "wasm4",
        }
    }
}

/// `[[module]]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Module {
    pub name: String,
    pub source: PathBuf,
    #[serde(default)]
    pub abi: Abi,
    #[serde(default)]
    pub kind: Option<String>,
    #[allow(
        dead_code,
        reason = "parsed so that a wrongly typed value is rejected as by Wasmer"
    )]
    pub interfaces: Option<IndexMap<String, String>>,
    pub bindings: Option<Bindings>,
    #[allow(
        dead_code,
        reason = "parsed so that a wrongly typed value is rejected as by Wasmer"
    )]
    pub annotations: Option<UserAnnotations>,
}

/// `[module.annotations]` (not written to the container by Wasmer).
#[derive(Debug, Deserialize)]
pub(crate) struct UserAnnotations {
    #[allow(
        dead_code,
        reason = "parsed so that a wrongly typed value is rejected as by Wasmer"
    )]
    pub suggested_compiler_optimizations: SuggestedCompilerOptimizations,
}

/// `[module.annotations.suggested_compiler_optimizations]`.
#[derive(Debug, Deserialize)]
pub(crate) struct SuggestedCompilerOptimizations {
    #[allow(
        dead_code,
        reason = "parsed so that a wrongly typed value is rejected as by Wasmer"
    )]
    pub pass_params: Option<bool>,
}

/// `module.bindings`: WIT or WAI, told apart by which version key is present.
#[derive(Debug)]
pub(crate) enum Bindings {
    Wit(WitBindings),
    Wai(WaiBindings),
}

impl<'de> Deserialize<'de> for Bindings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(deserializer)?;
        let keys = ["wit-bindgen", "wai-version"];
        let [wit, wai] = keys.map(|key| value.get(key).is_some());
        match (wit, wai) {
            (true, false) => WitBindings::deserialize(value)
                .map(Bindings::Wit)
                .map_err(D::Error::custom),
            (false, true) => WaiBindings::deserialize(value)
                .map(Bindings::Wai)
                .map_err(D::Error::custom),
            _ => Err(D::Error::custom(format!(
                "expected one of \"{}\" to be provided, but not both",
                keys.join("\" or \"")
            ))),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct WitBindings {
    pub wit_bindgen: Version,
    pub wit_exports: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct WaiBindings {
    pub wai_version: Version,
    pub exports: Option<PathBuf>,
    #[serde(default)]
    pub imports: Vec<PathBuf>,
}

/// `[[command]]`: the V1 form is tried first and rejects unknown keys, as in Wasmer.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Command {
    V1(CommandV1),
    V2(CommandV2),
}

impl Command {
    pub fn name(&self) -> &str {
        match self {
            Command::V1(c) => &c.name,
            Command::V2(c) => &c.name,
        }
    }

    pub fn module(&self) -> &ModuleReference {
        match self {
            Command::V1(c) => &c.module,
            Command::V2(c) => &c.module,
        }
    }
}

/// Deprecated command form: the runner comes from the module's `abi`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommandV1 {
    pub name: String,
    pub module: ModuleReference,
    pub main_args: Option<String>,
    pub package: Option<String>,
}

/// Current command form.
#[derive(Debug, Deserialize)]
pub(crate) struct CommandV2 {
    pub name: String,
    pub module: ModuleReference,
    pub runner: String,
    pub annotations: Option<CommandAnnotations>,
}

/// Command annotations: a file reference, or anything else taken verbatim.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum CommandAnnotations {
    File(FileCommandAnnotations),
    Raw(toml::Value),
}

#[derive(Debug, Deserialize)]
pub(crate) struct FileCommandAnnotations {
    pub file: PathBuf,
    pub kind: FileKind,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) enum FileKind {
    #[serde(rename = "yaml")]
    Yaml,
    #[serde(rename = "json")]
    Json,
}

/// `module = "name"` or `module = "dependency:name"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ModuleReference {
    CurrentPackage { module: String },
    Dependency { dependency: String, module: String },
}

impl<'de> Deserialize<'de> for ModuleReference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = String::deserialize(deserializer)?;
        match repr.split_once(':') {
            Some((_, module)) if module.contains(':') => Err(D::Error::custom("Invalid format")),
            Some((dependency, module)) => Ok(ModuleReference::Dependency {
                dependency: dependency.to_owned(),
                module: module.to_owned(),
            }),
            None => Ok(ModuleReference::CurrentPackage { module: repr }),
        }
    }
}

impl std::fmt::Display for ModuleReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModuleReference::CurrentPackage { module } => f.write_str(module),
            ModuleReference::Dependency { dependency, module } => {
                write!(f, "{dependency}:{module}")
            }
        }
    }
}

/// Parses the manifest text; errors carry the 1-based line and column.
pub(crate) fn parse(path: &std::path::Path, text: &str) -> crate::Result<Manifest> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_col(text, span.start))
            .unwrap_or((0, 0));
        crate::Error::Toml {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim_end().to_owned(),
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
