//! Argument definitions and helpers shared by the subcommands.

pub mod commands;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use webc_container::Container;

/// Exit code when `verify` found a problem.
pub const EXIT_VERIFY_FAILED: u8 = 1;
/// Exit code for host-side failures: unreadable or malformed package, I/O errors, refusals.
pub const EXIT_HOST_ERROR: u8 = 125;

/// What a subcommand returns: the exit code on success, an error (exit 125) otherwise.
pub type CmdResult = anyhow::Result<ExitCode>;

/// Run, inspect, verify, extract and pack Wasmer webc packages.
#[derive(Debug, clap::Parser)]
#[command(name = "webc-host", version, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 ok, 1 verification failed, 2 usage error, \
                        125 package/host error. Logging: WEBC_LOG=debug (EnvFilter syntax)."
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands (their help text is the doc comment of each `XCommand`).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Run(commands::run::RunCommand),
    Inspect(commands::inspect::InspectCommand),
    Verify(commands::verify::VerifyCommand),
    Extract(commands::extract::ExtractCommand),
    Pack(commands::pack::PackCommand),
    Runners(commands::runners::RunnersCommand),
    Cache(commands::cache::CacheCommand),
    Completions(commands::completions::CompletionsCommand),
}

impl Command {
    /// Runs the chosen subcommand.
    pub fn execute(self) -> CmdResult {
        match self {
            Command::Run(c) => c.execute(),
            Command::Cache(c) => c.execute(),
            Command::Inspect(c) => c.execute(),
            Command::Verify(c) => c.execute(),
            Command::Extract(c) => c.execute(),
            Command::Pack(c) => c.execute(),
            Command::Runners(c) => c.execute(),
            Command::Completions(c) => c.execute(),
        }
    }
}

/// Opens a package file, with errors that say what is wrong with the path first.
pub fn open_package(path: &Path) -> anyhow::Result<Container> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot open {}", path.display()))?;
    if meta.is_dir() {
        bail!("{} is a directory, not a webc package", path.display());
    }
    if meta.len() == 0 {
        bail!("{} is an empty file, not a webc package", path.display());
    }
    Container::open(path).with_context(|| format!("cannot read {}", path.display()))
}

pub use webc_host::extract::human_size;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(3000), "2.9 KiB");
        assert_eq!(human_size(1 << 20), "1.0 MiB");
        assert_eq!(human_size(5 << 30), "5.0 GiB");
    }

    #[test]
    fn arguments_parse() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
