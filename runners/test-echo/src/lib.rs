//! A test-only runner serving `https://webc-host.test/runner/echo` (a URI no real package
//! uses, so it never competes with real runners). It prints what it received — command,
//! args, env, the atom's size, stdin, and the files named by `cat=PATH` options read through
//! the host file system — and misbehaves on demand (`behave=panic|hang|flood|error|exit:N`)
//! so the host's handling of broken plugins is tested through the real boundary.
//! `behave=refuse:NAME` makes the runner called NAME refuse the atom before touching
//! anything and `behave=refuse-late:NAME` after reading stdin (a broken promise), so the
//! host's fallback to the next runner for a URI is tested with [`EchoRunner::named`] copies.

use std::time::Duration;

use webc_runner_api::fs::OpenOptions;
use webc_runner_api::{Job, Outcome, Runner, RunnerError, RunnerInfo};

/// The URI this runner serves.
pub const URI: &str = "https://webc-host.test/runner/echo";

/// The echo runner (called `test-echo`, priority 0).
#[derive(Debug, Default)]
pub struct EchoRunner;

impl EchoRunner {
    /// Another echo runner for the same URI, called `name`, with priority `priority`.
    pub fn named(name: &str, priority: i32) -> NamedEcho {
        NamedEcho {
            name: name.to_owned(),
            priority,
        }
    }
}

impl Runner for EchoRunner {
    fn info(&self) -> RunnerInfo {
        info("test-echo", 0)
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        echo("test-echo", job)
    }
}

/// An echo runner under another name (see [`EchoRunner::named`]).
#[derive(Debug)]
pub struct NamedEcho {
    name: String,
    priority: i32,
}

impl Runner for NamedEcho {
    fn info(&self) -> RunnerInfo {
        info(&self.name, self.priority)
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        echo(&self.name, job)
    }
}

fn info(name: &str, priority: i32) -> RunnerInfo {
    RunnerInfo::new(name, env!("CARGO_PKG_VERSION"), "test-only: echoes its job")
        .serves(URI, "*")
        .atom_kind("*")
        .priority(priority)
        .backend("echo")
        .option("cat", "print this guest file (repeatable)")
        .option(
            "behave",
            "panic | hang | flood | error | exit:N | refuse:NAME | refuse-late:NAME",
        )
}

fn echo(name: &str, job: Job<'_>) -> Result<Outcome, RunnerError> {
    {
        tracing::info!(command = job.spec.command.as_str(), "echo runner starting");
        for (key, value) in &job.spec.options {
            if key == "behave" && value.strip_prefix("refuse:") == Some(name) {
                return Err(RunnerError::Refused(format!("{name} was asked to refuse")));
            }
        }
        let out = &mut *job.stdout;
        let io = |e: std::io::Error| RunnerError::Other(format!("writing stdout: {e}"));
        writeln!(out, "runner={name}").map_err(io)?;
        writeln!(out, "command={}", job.spec.command).map_err(io)?;
        writeln!(out, "atom={} bytes={}", job.spec.atom_name, job.atom.len()).map_err(io)?;
        writeln!(out, "args={:?}", job.spec.args).map_err(io)?;
        for (k, v) in &job.spec.env {
            writeln!(out, "env {k}={v}").map_err(io)?;
        }
        let mut input = String::new();
        job.stdin
            .read_to_string(&mut input)
            .map_err(|e| RunnerError::Other(format!("reading stdin: {e}")))?;
        if job
            .spec
            .options
            .iter()
            .any(|(k, v)| k == "behave" && v.strip_prefix("refuse-late:") == Some(name))
        {
            return Err(RunnerError::Refused(format!(
                "{name} refused after reading stdin"
            )));
        }
        writeln!(out, "stdin={input:?}").map_err(io)?;
        let root = job.fs.preopens().into_iter().next().map(|p| p.handle);
        let mut exit = 0;
        for (key, value) in &job.spec.options {
            match (key.as_str(), value.as_str()) {
                ("cat", path) => {
                    let Some(root) = root else {
                        writeln!(out, "cat {path}: no preopens").map_err(io)?;
                        continue;
                    };
                    let opts = OpenOptions {
                        read: true,
                        follow: true,
                        ..Default::default()
                    };
                    match job.fs.open(root, path.trim_start_matches('/'), opts) {
                        Ok(h) => {
                            let mut buf = vec![0; 1 << 16];
                            let n = job.fs.read(h, &mut buf).unwrap_or(0);
                            let _ = job.fs.close(h);
                            writeln!(out, "cat {path}: {}", String::from_utf8_lossy(&buf[..n]))
                                .map_err(io)?;
                        }
                        Err(e) => writeln!(out, "cat {path}: {e}").map_err(io)?,
                    }
                }
                ("behave", "panic") => panic!("echo runner asked to panic"),
                ("behave", "hang") => loop {
                    std::thread::sleep(Duration::from_secs(3600));
                },
                ("behave", "flood") => loop {
                    out.write_all(&[b'x'; 65536]).map_err(io)?;
                },
                ("behave", "error") => {
                    return Err(RunnerError::CannotExecute("asked to fail".into()));
                }
                ("behave", b) if b.starts_with("refuse:") || b.starts_with("refuse-late:") => {}
                ("behave", b) if b.starts_with("exit:") => {
                    exit = b[5..]
                        .parse()
                        .map_err(|_| RunnerError::InvalidJob(format!("bad exit code {b:?}")))?;
                }
                (k, v) => return Err(RunnerError::InvalidJob(format!("unknown option {k}={v}"))),
            }
        }
        out.flush().map_err(io)?;
        Ok(Outcome::Exit(exit))
    }
}
