//! The `webc-host` command line: parses arguments, installs logging, runs one subcommand
//! and turns its outcome into an exit code (see `docs/cli.md`):
//! 0 success, 1 `verify` found a problem, 2 usage error, 125 the package could not be
//! opened, an I/O error, or another host-side failure. A closed stdout exits 0 silently.

mod cli;

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_logging();
    match args.command.execute() {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Nothing sensible is left to do if stderr is gone too.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            ExitCode::from(cli::EXIT_HOST_ERROR)
        }
    }
}

/// `tracing` events go to stderr, filtered by `WEBC_LOG` (`EnvFilter` syntax, default
/// `warn`), coloured only when stderr is a terminal.
fn init_logging() {
    let filter = match std::env::var("WEBC_LOG") {
        Ok(spec) => tracing_subscriber::EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            let _ = writeln!(
                std::io::stderr(),
                "warning: ignoring invalid WEBC_LOG={spec:?}: {e}"
            );
            tracing_subscriber::EnvFilter::new("warn")
        }),
        Err(_) => tracing_subscriber::EnvFilter::new("warn"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Was the failure a write to a closed pipe (`webc-host inspect x | head -1`)?
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
