//! A test-only runner serving `https://webc-host.test/runner/echo` (a URI no real package
//! uses, so it never competes with real runners). It prints what it received — command,
//! args, env, the atom's size, stdin, and the files named by `cat=PATH` options read through
//! the host file system — and misbehaves on demand (`behave=panic|hang|flood|error|exit:N`)
//! so the host's handling of broken plugins is tested through the real boundary.

use std::time::Duration;

use webc_runner_api::fs::OpenOptions;
use webc_runner_api::{Job, OptionDoc, Outcome, Runner, RunnerError, RunnerInfo, Serves};

/// The URI this runner serves.
pub const URI: &str = "https://webc-host.test/runner/echo";

/// The echo runner.
#[derive(Debug, Default)]
pub struct EchoRunner;

impl Runner for EchoRunner {
    fn info(&self) -> RunnerInfo {
        RunnerInfo {
            name: "test-echo".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "test-only: echoes its job".into(),
            serves: vec![Serves {
                uri: URI.into(),
                versions: "*".into(),
            }],
            atom_kinds: vec!["*".into()],
            priority: 0,
            options: vec![
                OptionDoc {
                    key: "cat".into(),
                    help: "print this guest file (repeatable)".into(),
                },
                OptionDoc {
                    key: "behave".into(),
                    help: "panic | hang | flood | error | exit:N".into(),
                },
            ],
        }
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        tracing::info!(command = job.spec.command.as_str(), "echo runner starting");
        let out = &mut *job.stdout;
        let io = |e: std::io::Error| RunnerError::Other(format!("writing stdout: {e}"));
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
