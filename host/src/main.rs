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
    let progress = cli::progress::init(args.quiet);
    init_logging(args.quiet, progress);
    handle_signals();
    let result = args.command.execute();
    if webc_host::interrupt::interrupted() {
        // A signal is ending the process (see `handle_signals`): whatever the command made
        // of its vanished temporaries is not its outcome.
        loop {
            std::thread::park();
        }
    }
    match result {
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
/// `warn`, or `error` with `--quiet`), coloured only when stderr is a terminal. Progress
/// events (target `webc::progress`, also when a plugin's are re-emitted) are never log
/// lines: with `progress`, they drive the CLI's indicators instead.
fn init_logging(quiet: bool, progress: bool) {
    use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
    use tracing_subscriber::util::SubscriberInitExt as _;

    let default = if quiet { "error" } else { "warn" };
    let filter = match std::env::var("WEBC_LOG") {
        Ok(spec) => tracing_subscriber::EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            if !quiet {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: ignoring invalid WEBC_LOG={spec:?}: {e}"
                );
            }
            tracing_subscriber::EnvFilter::new(default)
        }),
        Err(_) => tracing_subscriber::EnvFilter::new(default),
    };
    let log = tracing_subscriber::fmt::layer()
        .with_writer(cli::progress::LogWriter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(tracing_subscriber::filter::FilterExt::and(
            filter,
            cli::progress::NotProgress,
        ));
    let progress = progress.then(|| {
        cli::progress::ProgressLayer::default().with_filter(cli::progress::ProgressLayer::filter())
    });
    tracing_subscriber::registry()
        .with(log)
        .with(progress)
        .init();
}

/// `SIGINT`, `SIGTERM` and `SIGHUP` end the process the way a shell expects (killed by that
/// signal: 130, 143, 129), after removing the temporaries that work in progress registered
/// ([`webc_host::interrupt`]). A dedicated thread waits for them, so the handler does
/// nothing async-signal-unsafe, and whatever another thread is doing (a plugin running
/// guest code, a compile) is simply ended with the process; plugins are never unloaded, so
/// no thread runs unmapped code meanwhile.
fn handle_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            // Without handling, the signals keep their default action: the process still
            // ends, only staging directories may be left behind.
            tracing::warn!(
                "cannot handle signals ({e}); an interrupted extract may leave its staging directory"
            );
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("webc-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                cli::progress::clear_all();
                webc_host::interrupt::remove_all();
                // Resets the default action and raises the signal again: the process ends
                // as killed by it.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                // SAFETY: `_exit` takes any int and never returns; reached only if the
                // default action did not end the process.
                unsafe { libc::_exit(128 + signal) }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the signal thread ({e})");
    }
}

/// Was the failure a write to a closed pipe (`webc-host inspect x | head -1`)?
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
