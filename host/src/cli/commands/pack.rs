//! `webc-host pack DIR [-o OUT.webc]`: build a package as `wasmer package build` would;
//! `webc-host pack --onnx MODEL.onnx [-o OUT.webc]`: wrap an ONNX model;
//! `webc-host pack --posix BIN [-o OUT.webc]`: wrap a native Linux executable.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use crate::cli::progress::{Indicator, PackProgress, short_name};
use crate::cli::{CmdResult, human_size};

/// Build a webc v3 package from a directory holding a wasmer.toml, an ONNX model or a native executable.
///
/// From a directory: produces the bytes `wasmer package build` writes from the same files
/// and modification times. With --onnx: a package whose one command, `infer`, runs the
/// model with the ONNX runner (`webc-host run MODEL.webc infer < input.json`). With
/// --posix: a package whose one command, named after the file, runs the executable with the
/// POSIX runner in its sandbox (`webc-host run BIN.webc -- ARGS`).
///
/// Like `wasmer package build`: without -o the package is written into the current
/// directory under the name Wasmer picks (`namespace-name-version.webc`); -o naming an
/// existing directory puts that file name there. An existing output file is refused
/// unless --force. The output is written atomically (temporary file, fsync, rename).
#[derive(Debug, clap::Args)]
pub struct PackCommand {
    /// Directory holding wasmer.toml.
    #[arg(
        value_name = "DIR",
        required_unless_present_any = ["onnx", "posix"],
        conflicts_with_all = ["onnx", "posix"]
    )]
    dir: Option<PathBuf>,
    /// Package this ONNX model instead (atom named after the file, command `infer`; the
    /// default output is `<model name>.webc`).
    #[arg(long, value_name = "MODEL.onnx", conflicts_with = "posix")]
    onnx: Option<PathBuf>,
    /// Package this native Linux executable instead (command and atom named after the
    /// file, its architecture read from the ELF header; the default output is
    /// `<name>.webc`).
    #[arg(long, value_name = "BIN")]
    posix: Option<PathBuf>,
    /// Where to write the package (a file, or an existing directory).
    #[arg(short = 'o', long = "output", value_name = "OUT.webc")]
    output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

impl PackCommand {
    /// Runs the command.
    pub fn execute(self) -> CmdResult {
        // A spinner on a terminal: files and bytes read, then writing.
        let (package, source, spinner) = match (&self.onnx, &self.dir) {
            (None, _) if let Some(bin) = &self.posix => {
                let spinner = Indicator::spinner(format!("packing {}", short_name(bin)));
                (
                    webc_pack::Package::from_posix(bin)
                        .with_context(|| format!("cannot pack {}", bin.display()))?,
                    bin,
                    spinner,
                )
            }
            (Some(model), _) => {
                let spinner = Indicator::spinner(format!("packing {}", short_name(model)));
                (
                    webc_pack::Package::from_onnx(model)
                        .with_context(|| format!("cannot pack {}", model.display()))?,
                    model,
                    spinner,
                )
            }
            (None, Some(dir)) => {
                let mut progress = PackProgress::new(dir);
                (
                    webc_pack::Package::from_dir_with_progress(dir, &mut progress)
                        .with_context(|| format!("cannot pack {}", dir.display()))?,
                    dir,
                    progress.indicator,
                )
            }
            (None, None) => {
                anyhow::bail!("nothing to pack: give a directory, --onnx MODEL or --posix BIN")
            }
        };
        spinner.set_message(format!(
            "packing {}: writing the package",
            short_name(source)
        ));
        let bytes = package
            .to_bytes()
            .with_context(|| format!("cannot pack {}", source.display()))?;
        let out_path = match &self.output {
            Some(o) if o.is_dir() => o.join(&package.file_name),
            Some(o) => o.clone(),
            None => PathBuf::from(&package.file_name),
        };
        if out_path.exists() && !self.force {
            anyhow::bail!(
                "{} already exists (use --force to replace it)",
                out_path.display()
            );
        }
        webc_container::write::write_atomic(&out_path, &bytes)
            .with_context(|| format!("cannot write {}", out_path.display()))?;
        drop(spinner);
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "wrote {} ({}, sha256:{})",
            out_path.display(),
            human_size(bytes.len() as u64),
            hex::encode(Sha256::digest(&bytes))
        )?;
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}
