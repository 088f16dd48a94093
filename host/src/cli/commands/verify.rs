//! `webc-host verify PKG`: recompute every hash the package records.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::progress::{Indicator, short_name};
use crate::cli::{CmdResult, EXIT_VERIFY_FAILED, human_size, open_package};

/// Check every hash and structural promise a package makes.
///
/// Index spans and padding, section checksums, atom signatures, file, symlink and
/// directory hashes: whatever the container's version records (v1 records little).
///
/// Prints each failure as `failed: ENTRY (offset N): REASON`, then any notes about what
/// could not be checked, then a summary line. Exits 0 when every check passed, 1 when
/// any failed, 125 when the package cannot be opened at all.
#[derive(Debug, clap::Args)]
pub struct VerifyCommand {
    /// The .webc file.
    #[arg(value_name = "PKG")]
    package: PathBuf,
}

impl VerifyCommand {
    /// Runs the command.
    pub fn execute(self) -> CmdResult {
        let container = open_package(&self.package)?;
        let spinner = Indicator::spinner(format!(
            "verifying {} ({})",
            short_name(&self.package),
            human_size(container.as_bytes().len() as u64)
        ));
        let report = container.verify();
        drop(spinner);
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for failure in &report.failures {
            writeln!(out, "failed: {failure}")?;
        }
        for note in &report.notes {
            writeln!(out, "note: {note}")?;
        }
        let checks = |n: usize| format!("{n} check{}", if n == 1 { "" } else { "s" });
        if report.is_ok() {
            writeln!(
                out,
                "{}: OK, {} passed (webc {})",
                self.package.display(),
                checks(report.passed),
                container.version()
            )?;
        } else {
            writeln!(
                out,
                "{}: FAILED, {} passed, {} failed (webc {})",
                self.package.display(),
                checks(report.passed),
                report.failures.len(),
                container.version()
            )?;
        }
        out.flush()?;
        Ok(if report.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_VERIFY_FAILED)
        })
    }
}
