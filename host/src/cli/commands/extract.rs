//! `webc-host extract PKG DIR`: write atoms and volumes to disk.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use webc_host::extract::{ExtractOptions, extract_with_progress};

use crate::cli::progress::ExtractProgress;
use crate::cli::{CmdResult, human_size, open_package};

/// Write a package's atoms and volumes to a directory.
///
/// Atoms go to DIR/atoms/NAME, volumes to DIR/volumes/VOLUME/...
/// Volume names map to directories by dropping leading `/` (`/assets` → `assets`,
/// `atom` → `atom`); names that cannot be mapped safely are refused. Entries or symlinks
/// that would land outside DIR are refused, as is content that does not match its recorded
/// hash; on any refusal nothing is extracted. Files are written to a temporary file, fsynced
/// and renamed, and get the package's modification times (v3).
///
/// DIR is created if missing. A non-empty DIR is refused unless --force is given; then the
/// atoms and volume directories the package provides are replaced and everything else in
/// DIR is left alone.
///
/// Before anything is written the whole package is checked: directory records shared
/// between entries and nesting deeper than 256 levels are refused (as by inspect and
/// verify), and the bytes it would write must fit the output budget: 16 × the package's
/// size, at least 1 GiB, unless --max-output says otherwise (file ranges may overlap, so a
/// small package can describe gigabytes of files).
#[derive(Debug, clap::Args)]
pub struct ExtractCommand {
    /// The .webc file.
    #[arg(value_name = "PKG")]
    package: PathBuf,
    /// Destination directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Extract only this volume (repeatable; exact name as `inspect` shows it).
    #[arg(long = "volume", value_name = "NAME")]
    volumes: Vec<String>,
    /// Do not extract the atoms.
    #[arg(long, conflicts_with = "atoms_only")]
    no_atoms: bool,
    /// Extract only the atoms, no volumes.
    #[arg(long, conflicts_with = "volumes")]
    atoms_only: bool,
    /// Extract into a non-empty DIR, replacing what the package provides.
    #[arg(long, short = 'f')]
    force: bool,
    /// Write at most this much file content (e.g. 8GiB; default: 16 × the package's size,
    /// at least 1 GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_max_output)]
    max_output: Option<u64>,
}

fn parse_max_output(text: &str) -> Result<u64, String> {
    webc_host::permissions::parse_size(text)
}

impl ExtractCommand {
    /// Runs the command.
    pub fn execute(self) -> CmdResult {
        let container = open_package(&self.package)?;
        if !self.force {
            match std::fs::read_dir(&self.dir) {
                Ok(mut entries) => {
                    if entries.next().is_some() {
                        bail!(
                            "{} is not empty (use --force to replace the atoms and volumes \
                             the package provides and keep everything else)",
                            self.dir.display()
                        );
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                    bail!("{} exists and is not a directory", self.dir.display())
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", self.dir.display()));
                }
            }
        }
        let options = ExtractOptions {
            atoms: !self.no_atoms,
            volumes: if self.atoms_only {
                Some(Vec::new())
            } else if self.volumes.is_empty() {
                None
            } else {
                Some(self.volumes.clone())
            },
            max_output: self.max_output,
        };
        // A bar of the bytes written, on a terminal, once the package has been checked.
        let mut bar = ExtractProgress::new(&self.package);
        let summary = extract_with_progress(&container, &self.dir, &options, &mut bar);
        drop(bar);
        let summary = summary.with_context(|| {
            format!(
                "cannot extract {} to {}",
                self.package.display(),
                self.dir.display()
            )
        })?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "extracted {} atoms and {} volumes to {}: {} files ({}), {} dirs, {} symlinks",
            summary.atoms,
            summary.volumes,
            self.dir.display(),
            summary.files,
            human_size(summary.bytes),
            summary.dirs,
            summary.symlinks
        )?;
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}
