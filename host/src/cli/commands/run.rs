//! `webc-host run [OPTIONS] PKG [COMMAND [ARGS...]]`: run a command of a package.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use webc_host::permissions::{self, Grants};
use webc_host::registry::{DiscoveryOptions, Preferences, RunnerPreference};
use webc_host::run::{EXIT_TIMEOUT, Host, Notes, Package, RunOptions, Stdio, outcome_exit_code};

use crate::cli::CmdResult;

/// Run a command of a package through the runner plugin that serves it.
///
/// PKG is a .webc file, a directory with a wasmer.toml (packed in memory), or a bare .wasm
/// module (run as a one-command WASI package). Host options go before PKG; everything after
/// COMMAND is passed to the program verbatim. `run PKG -- ARGS...` passes ARGS to the
/// default command (the manifest's entrypoint, or the only command).
///
/// Exit code: the program's. Host-side failures: 125 bad package, permission refused or
/// plugin failure; 126 the runner cannot execute the atom; 127 no such command or runner;
/// 124 time limit; 134 the guest trapped or aborted.
#[derive(Debug, clap::Args)]
pub struct RunCommand {
    /// Mount a host directory (default mode rw; a package's `permissions` may restrict it).
    #[arg(long = "mount", value_name = "HOST:GUEST[:ro|rw]")]
    mounts: Vec<String>,
    /// Pass an environment variable (K alone passes the host's value).
    #[arg(long = "env", value_name = "K=V|K")]
    env: Vec<String>,
    /// Allow a network address.
    #[arg(long = "allow-net", value_name = "connect:HOST:PORT|listen:HOST:PORT")]
    net: Vec<String>,
    /// Memory limit, e.g. 256MiB (default 4GiB).
    #[arg(long, value_name = "SIZE")]
    memory: Option<String>,
    /// Wall-time limit, e.g. 30s, 500ms, 2m (default: none).
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Size of the program's private /tmp (held in memory), e.g. 64MiB (default 256MiB).
    #[arg(long = "tmp-size", value_name = "SIZE")]
    tmp_size: Option<String>,
    /// Use runner NAME for runner URI (see `webc-host runners`), e.g. onnx=onnx-tract.
    #[arg(long = "runner", value_name = "URI=NAME")]
    runner: Vec<String>,
    /// A runner-specific option (each runner documents its keys).
    #[arg(long = "runner-opt", value_name = "KEY=VALUE")]
    runner_opts: Vec<String>,
    /// An extra plugin directory, searched first (repeatable).
    #[arg(long = "plugins", value_name = "DIR")]
    plugins: Vec<PathBuf>,
    /// Cache directory (default: WEBC_HOST_CACHE, $XDG_CACHE_HOME/webc-host, ~/.cache/webc-host).
    #[arg(long = "cache-dir", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Print what would run (command, atom, runner, declared vs granted permissions) and exit.
    #[arg(long)]
    explain: bool,
    /// The package.
    #[arg(value_name = "PKG")]
    package: PathBuf,
    /// The command, then its arguments (or `-- ARGS...` for the default command).
    #[arg(
        value_name = "COMMAND [ARGS]...",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<String>,
}

/// Remembers whether a write failed because the reader went away.
struct PipeWatch<W> {
    inner: W,
    broken: Arc<AtomicBool>,
}

impl<W: std::io::Write> std::io::Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                self.broken.store(true, Ordering::Relaxed);
            }
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                self.broken.store(true, Ordering::Relaxed);
            }
        })
    }
}

/// The process's standard input, read straight from descriptor 0 (no buffer of our own:
/// the runner buffers) with the run's deadline: a read still blocked when the time limit
/// passes fails with [`std::io::ErrorKind::TimedOut`], which runners report as the time
/// limit (exit 124) — the limit holds for a program blocked on input as for one computing.
struct Stdin {
    deadline: Option<std::time::Instant>,
}

impl std::io::Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(deadline) = self.deadline {
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "time limit reached while reading standard input",
                    ));
                }
                let mut fd = libc::pollfd {
                    fd: 0,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // Whole milliseconds, rounded up so the wait never ends just short of the
                // deadline (which would spin), capped to what poll takes.
                let ms = i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX);
                // SAFETY: `fd` is one valid pollfd and the count is 1.
                let n = unsafe { libc::poll(&mut fd, 1, ms) };
                if n < 0 {
                    let e = std::io::Error::last_os_error();
                    if e.kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(e);
                }
                if n > 0 {
                    // Readable, at end of file, hung up or in error: read() tells which.
                    break;
                }
            }
        }
        loop {
            // SAFETY: `buf` is valid for `buf.len()` writable bytes; descriptor 0 is ours.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n.unsigned_abs());
            }
            let e = std::io::Error::last_os_error();
            // A closed descriptor 0 reads as empty, as Rust's own `stdin()` does.
            if e.raw_os_error() == Some(libc::EBADF) {
                return Ok(0);
            }
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl RunCommand {
    fn grants(&self) -> anyhow::Result<Grants> {
        let mut g = Grants::default();
        for m in &self.mounts {
            g.mounts.push(permissions::parse_mount(m)?);
        }
        for e in &self.env {
            g.env.push(permissions::parse_env(e)?);
        }
        for n in &self.net {
            let (listen, addr) = permissions::parse_net(n)?;
            if listen {
                &mut g.listen
            } else {
                &mut g.connect
            }
            .push(addr);
        }
        if let Some(m) = &self.memory {
            g.memory = Some(
                permissions::parse_size(m).map_err(|r| anyhow::anyhow!("invalid --memory: {r}"))?,
            );
        }
        if let Some(t) = &self.tmp_size {
            g.tmp = Some(
                permissions::parse_size(t)
                    .map_err(|r| anyhow::anyhow!("invalid --tmp-size: {r}"))?,
            );
        }
        if let Some(t) = &self.timeout {
            g.time = Some(
                permissions::parse_duration(t)
                    .map_err(|r| anyhow::anyhow!("invalid --timeout: {r}"))?,
            );
        }
        Ok(g)
    }

    /// Runs the command.
    pub fn execute(self) -> CmdResult {
        match self.go() {
            Ok(code) => Ok(code),
            Err(e) => {
                let code = e
                    .downcast_ref::<webc_host::Error>()
                    .map_or(webc_host::run::EXIT_HOST, |r| r.exit_code());
                let _ = writeln!(std::io::stderr(), "error: {e:#}");
                Ok(ExitCode::from(code))
            }
        }
    }

    fn go(self) -> anyhow::Result<ExitCode> {
        let grants = self.grants()?;
        let mut preferences = Preferences::new();
        for r in &self.runner {
            let p: RunnerPreference = r.parse()?;
            preferences.prefer(&p.uri, &p.runner)?;
        }
        let mut runner_options = Vec::new();
        for o in &self.runner_opts {
            let (k, v) = o
                .split_once('=')
                .with_context(|| format!("invalid --runner-opt {o:?}: expected KEY=VALUE"))?;
            runner_options.push((k.to_owned(), v.to_owned()));
        }
        // `run PKG -- ARGS`: clap keeps the `--` in `rest` only when it separates; detect it
        // from the raw arguments.
        let (command, args) = split_command(&self.rest, dash_dash_after_package());
        let options = RunOptions {
            command,
            args,
            grants,
            preferences,
            runner_options,
            // `note: …` on stderr, like the CLI's warnings silenced by `--quiet` (which
            // lowers the log level to errors) and `WEBC_LOG=error`.
            notes: Notes::to(|text| {
                if tracing::enabled!(tracing::Level::WARN) {
                    let _ = writeln!(std::io::stderr(), "note: {text}");
                }
            }),
            // The run thread below passes this process's stdin, stdout and stderr, with
            // nothing buffered before the run.
            process_stdio: true,
        };

        let discovery = DiscoveryOptions {
            plugin_dirs: self.plugins.clone(),
            ..Default::default()
        };
        let mut builder = Host::builder().discovery(discovery);
        if let Some(dir) = &self.cache_dir {
            builder = builder.cache_dir(dir);
        }
        let host = builder.build()?;
        let package = Package::open(&self.package)?;
        let plan = host.plan(&package, &options)?;
        if self.explain {
            let order = host.fallback_order(&package, &options, &plan)?;
            print_explain(&plan, &order)?;
            return Ok(ExitCode::SUCCESS);
        }
        let limit = plan.effective.limits.time;

        // The run happens on its own thread so the time limit holds even if a runner never
        // returns: past the limit (plus a grace period for the runner's own enforcement) the
        // CLI reports the timeout and exits; the runner thread dies with the process.
        let broken = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let watch = Arc::clone(&broken);
        let deadline = limit.map(|l| std::time::Instant::now() + l);
        std::thread::Builder::new()
            .name("webc-run".into())
            .spawn(move || {
                let mut stdin = Stdin { deadline };
                let mut stdout = PipeWatch {
                    inner: std::io::stdout(),
                    broken: watch,
                };
                let mut stderr = std::io::stderr();
                let stdio = Stdio {
                    stdin: &mut stdin,
                    stdout: &mut stdout,
                    stderr: &mut stderr,
                };
                let result = host.run_plan(&package, &options, &plan, stdio);
                let _ = stdout.flush();
                let _ = tx.send(result);
            })
            .context("cannot start the run thread")?;
        let result = match limit {
            Some(limit) => match rx.recv_timeout(limit + Duration::from_secs(2)) {
                Ok(r) => r,
                Err(_) => {
                    let _ = std::io::stdout().flush();
                    let _ = writeln!(
                        std::io::stderr(),
                        "error: time limit of {limit:?} exceeded; the program was stopped"
                    );
                    exit_now(EXIT_TIMEOUT);
                }
            },
            None => rx.recv().context("the run thread ended without a result")?,
        };
        match result {
            Ok(outcome) => {
                if outcome == webc_runner_api::Outcome::Timeout {
                    let _ = writeln!(std::io::stderr(), "error: time limit exceeded");
                }
                Ok(ExitCode::from(outcome_exit_code(outcome)))
            }
            // A closed stdout is not an error (`webc-host run … | head -1`).
            Err(_) if broken.load(Ordering::Relaxed) => Ok(ExitCode::SUCCESS),
            Err(e) => Err(e.into()),
        }
    }
}

/// Ends the process at once, without running exit handlers: the runner thread is still
/// inside a plugin, and unwinding the process around it (atexit handlers, library
/// destructors) can crash. Standard streams were flushed by the caller.
fn exit_now(code: u8) -> ! {
    // SAFETY: `_exit` takes any int and never returns; skipping atexit handlers is the point.
    unsafe { libc::_exit(i32::from(code)) }
}

/// Was PKG directly followed by `--` on the command line?
fn dash_dash_after_package() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let Some(run) = args.iter().position(|a| a == "run") else {
        return false;
    };
    // Options before PKG take a value unless they are flags.
    const FLAGS: [&str; 3] = ["--explain", "--quiet", "-q"];
    let mut i = run + 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            return false;
        }
        if a.starts_with("--") || a == "-q" {
            i += if FLAGS.contains(&a.as_str()) || a.contains('=') {
                1
            } else {
                2
            };
            continue;
        }
        // `a` is PKG.
        return args.get(i + 1).is_some_and(|n| n == "--");
    }
    false
}

fn split_command(rest: &[String], dash_dash: bool) -> (Option<String>, Vec<String>) {
    if dash_dash {
        let args = rest.strip_prefix(&["--".to_owned()]).unwrap_or(rest);
        return (None, args.to_vec());
    }
    match rest.split_first() {
        Some((c, args)) => (Some(c.clone()), args.to_vec()),
        None => (None, Vec::new()),
    }
}

fn print_explain(
    plan: &webc_host::run::Plan,
    order: &[webc_host::registry::Selected],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "command:  {}", plan.command)?;
    writeln!(
        out,
        "runner:   {} ({} {}, from {}{})",
        plan.runner_uri,
        plan.selected.info.name,
        plan.selected.info.version,
        plan.selected.source,
        if plan.selected.pinned {
            "; pinned: no fallback"
        } else {
            ""
        }
    )?;
    for next in order.iter().skip(1) {
        writeln!(
            out,
            "then:     {} {}, from {} (if the runners before refuse the atom)",
            next.info.name, next.info.version, next.source
        )?;
    }
    writeln!(out, "atom:     {} ({})", plan.atom, plan.atom_kind)?;
    match &plan.declared {
        None => writeln!(
            out,
            "declared: no `permissions` annotation: user grants apply as given"
        )?,
        Some(d) => writeln!(out, "declared: {}", serde_json::to_string(d)?)?,
    }
    let e = &plan.effective;
    for m in &e.mounts {
        writeln!(
            out,
            "granted:  mount {} at {} ({})",
            m.host.display(),
            m.guest,
            m.mode.as_str()
        )?;
    }
    for (k, _) in &e.env {
        writeln!(out, "granted:  env {k}")?;
    }
    for c in &e.network.connect {
        writeln!(out, "granted:  net connect {c}")?;
    }
    for l in &e.network.listen {
        writeln!(out, "granted:  net listen {l}")?;
    }
    for n in &e.not_granted {
        writeln!(out, "absent:   {n} (declared, not granted)")?;
    }
    let mem = e
        .limits
        .memory
        .map_or("none".to_owned(), |m| format!("{m} bytes"));
    let time = e
        .limits
        .time
        .map_or("none".to_owned(), |t| format!("{t:?}"));
    writeln!(
        out,
        "limits:   memory {mem}, time {time}, /tmp {} bytes",
        e.tmp_size
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_command;

    #[test]
    fn command_and_args() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            split_command(&s(&["cmd", "-x", "--", "y"]), false),
            (Some("cmd".into()), s(&["-x", "--", "y"]))
        );
        assert_eq!(split_command(&s(&["--", "a"]), true), (None, s(&["a"])));
        assert_eq!(split_command(&s(&["a"]), true), (None, s(&["a"])));
        assert_eq!(split_command(&[], false), (None, vec![]));
    }
}
