//! Argument definitions and helpers shared by the subcommands.

pub mod commands;
pub mod progress;

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
                        125 package/host error. Logging: WEBC_LOG=debug (EnvFilter syntax). \
                        Progress indicators appear on a terminal only; -q hides them."
)]
pub struct Cli {
    /// Print no progress indicators, notes or warnings on stderr (errors still are).
    #[arg(short, long, global = true)]
    pub quiet: bool,
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
    fn quiet_is_global_but_never_taken_from_a_programs_arguments() {
        use clap::Parser as _;
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|c| c.quiet).ok();
        assert_eq!(parse(&["webc-host", "-q", "verify", "p.webc"]), Some(true));
        assert_eq!(
            parse(&["webc-host", "verify", "--quiet", "p.webc"]),
            Some(true)
        );
        assert_eq!(parse(&["webc-host", "run", "-q", "p.webc"]), Some(true));
        assert_eq!(parse(&["webc-host", "verify", "p.webc"]), Some(false));
        // Right after PKG it is a host option, like `--explain` or `--timeout` there; after
        // COMMAND or `--` everything belongs to the program.
        assert_eq!(parse(&["webc-host", "run", "p.webc", "-q"]), Some(true));
        assert_eq!(
            parse(&["webc-host", "run", "p.webc", "cmd", "-q"]),
            Some(false)
        );
        assert_eq!(
            parse(&["webc-host", "run", "p.webc", "cmd", "--quiet"]),
            Some(false)
        );
        assert_eq!(
            parse(&["webc-host", "run", "p.webc", "--", "-q"]),
            Some(false)
        );
    }

    #[test]
    fn arguments_parse() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
