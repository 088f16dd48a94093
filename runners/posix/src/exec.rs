//! One job: from the job's annotations, mounts and grants to a [`sandbox::Config`], and from
//! the sandbox's exit to an [`Outcome`].

use std::path::PathBuf;
use std::time::Duration;

use webc_container::elf;
use webc_container::manifest::{CommandAnnotations, PosixAtom};
use webc_runner_api::env::{merge_env, split_env_entry};
use webc_runner_api::{Job, Materialise, MountSource, Outcome, RunnerError};

use crate::sandbox::{self, Bind, Config, Exit, Limits, Network, SandboxError, Stdio};

/// The sandbox layers a user may switch off with `--runner-opt sandbox=…`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Weakened {
    /// `no-pids-limit`: run without a pids cgroup when the host is root.
    pub(crate) no_pids_limit: bool,
}

/// The parsed `--runner-opt` values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) host_libs: bool,
    pub(crate) nproc: Option<u64>,
    pub(crate) nofile: Option<u64>,
    pub(crate) fsize: Option<u64>,
    pub(crate) weakened: Weakened,
}

fn invalid(msg: impl Into<String>) -> RunnerError {
    RunnerError::InvalidJob(msg.into())
}

pub(crate) fn options(pairs: &[(String, String)]) -> Result<Options, RunnerError> {
    let mut o = Options::default();
    let number = |k: &str, v: &str, min: u64| {
        v.parse::<u64>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| invalid(format!("--runner-opt {k}={v}: expected a number >= {min}")))
    };
    for (k, v) in pairs {
        match k.as_str() {
            "host-libs" => {
                o.host_libs = match v.as_str() {
                    "yes" | "true" | "on" => true,
                    "no" | "false" | "off" => false,
                    _ => {
                        return Err(invalid(format!(
                            "--runner-opt host-libs={v}: expected yes or no"
                        )));
                    }
                }
            }
            "nproc" => o.nproc = Some(number(k, v, 1)?),
            "nofile" => o.nofile = Some(number(k, v, 8)?),
            "fsize" => o.fsize = Some(number(k, v, 1)?),
            "sandbox" => {
                for layer in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match layer {
                        "full" => {}
                        "no-pids-limit" => o.weakened.no_pids_limit = true,
                        other => {
                            return Err(invalid(format!(
                                "--runner-opt sandbox={other}: expected full or no-pids-limit \
                                 (see docs/posix.md)"
                            )));
                        }
                    }
                }
            }
            other => {
                return Err(invalid(format!(
                    "unknown --runner-opt {other:?} for the posix runner (known: host-libs, \
                     nproc, nofile, fsize, sandbox)"
                )));
            }
        }
    }
    Ok(o)
}

/// Is `addr` (`host:port`, `host`, `[v6]:port`, a bare IPv6 address) on the loopback
/// interface? Anything it cannot read is not.
fn is_loopback(addr: &str) -> bool {
    let ip = |h: &str| {
        h == "localhost"
            || h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    if ip(addr) {
        return true;
    }
    match addr.rsplit_once(':') {
        Some((host, port))
            if !host.is_empty() && port.chars().all(|c| c.is_ascii_digit() || c == '*') =>
        {
            ip(host)
        }
        _ => false,
    }
}

fn cannot(atom: &str, reason: impl std::fmt::Display) -> RunnerError {
    RunnerError::CannotExecute(format!("atom {atom:?}: {reason}"))
}

pub(crate) fn run(job: Job<'_>) -> Result<Outcome, RunnerError> {
    let spec = &job.spec;
    let atom_name = spec.atom_name.as_str();
    let opts = options(&spec.options)?;
    let annotations = CommandAnnotations::from_cbor(&spec.annotations)
        .map_err(|e| invalid(format!("command annotations: {e}")))?;
    let posix = annotations.posix.clone().unwrap_or_default();
    let atom_annotations: Option<ciborium::Value> = if spec.atom_annotations.is_empty() {
        None
    } else {
        Some(
            ciborium::from_reader::<ciborium::Value, _>(spec.atom_annotations.as_slice())
                .map_err(|e| invalid(format!("atom annotations: {e}")))?,
        )
    };
    let declared =
        PosixAtom::from_annotations(atom_annotations.as_ref()).map_err(|e| cannot(atom_name, e))?;

    // What the atom is, before anything is set up.
    let info = elf::inspect(job.atom).map_err(|e| cannot(atom_name, e))?;
    let here = std::env::consts::ARCH;
    if info.arch != here {
        return Err(cannot(
            atom_name,
            format!(
                "an ELF executable for {}; this machine is {here}",
                info.arch
            ),
        ));
    }
    if let Some(d) = &declared
        && d.arch != info.arch
    {
        return Err(cannot(
            atom_name,
            format!(
                "its posix.arch annotation says {} but its ELF header says {}",
                d.arch, info.arch
            ),
        ));
    }
    let declares_host_libs = posix.host_libs == Some(true);
    if opts.host_libs && !declares_host_libs {
        return Err(invalid(
            "--runner-opt host-libs=yes: the command does not declare posix.host-libs, so \
             the host's libraries cannot be granted to it",
        ));
    }
    if let Some(interp) = &info.interpreter
        && !opts.host_libs
    {
        let how = if declares_host_libs {
            "grant them with --runner-opt host-libs=yes"
        } else {
            "the command does not declare posix.host-libs (link it statically, e.g. with \
             musl-gcc -static)"
        };
        return Err(cannot(
            atom_name,
            format!(
                "dynamically linked (interpreter {interp}) and the sandbox has no host \
                 libraries: {how}"
            ),
        ));
    }

    // The file system: volumes materialised and bound read-only, grants with their mode,
    // a private tmpfs for /tmp.
    let mut mounts = Vec::new();
    let mut tmp_size = None;
    for m in &spec.mounts {
        match &m.source {
            MountSource::Volume { volume, path } => {
                let root = job.host.materialise(&Materialise::Volume(volume.clone()))?;
                let host: PathBuf = root.join(path.trim_start_matches('/'));
                mounts.push(Bind {
                    host,
                    guest: m.guest.clone(),
                    writable: false,
                });
            }
            MountSource::Host { path } => mounts.push(Bind {
                host: path.clone(),
                guest: m.guest.clone(),
                writable: m.writable,
            }),
            MountSource::Tmp { size } => tmp_size = Some(*size),
            other => {
                return Err(RunnerError::Other(format!(
                    "mount {}: unsupported source {other:?}",
                    m.guest
                )));
            }
        }
    }

    let package_env: Vec<(String, String)> = posix
        .env
        .iter()
        .flatten()
        .map(|e| split_env_entry(e))
        .collect();
    let env = merge_env(&package_env, &spec.env);
    let args = posix
        .main_args
        .iter()
        .flatten()
        .cloned()
        .chain(spec.args.iter().cloned())
        .collect();
    let network = {
        let all: Vec<&String> = spec
            .network
            .connect
            .iter()
            .chain(&spec.network.listen)
            .collect();
        if all.is_empty() {
            Network::None
        } else if all.iter().all(|a| is_loopback(a)) {
            Network::Loopback
        } else {
            Network::Host
        }
    };
    let defaults = Limits::default();
    let config = Config {
        exe: job.atom.to_vec(),
        argv0: posix
            .exec_name
            .clone()
            .unwrap_or_else(|| spec.command.clone()),
        args,
        env,
        cwd: posix.cwd.clone().unwrap_or_else(|| "/".to_owned()),
        mounts,
        tmp_size,
        host_libs: opts.host_libs,
        network,
        limits: Limits {
            memory: spec.limits.memory,
            cpu: spec.limits.time.map(|t| t + Duration::from_secs(1)),
            nproc: opts.nproc.unwrap_or(defaults.nproc),
            nofile: opts.nofile.unwrap_or(defaults.nofile),
            fsize: opts.fsize,
            wall: spec.limits.time,
        },
        tty: spec.process_stdio && stdin_is_a_terminal(),
        allow_no_pids_limit: opts.weakened.no_pids_limit,
    };
    let stdio = if spec.process_stdio {
        // Nothing of ours is buffered in them, but flush anyway before the guest writes
        // to the same descriptors.
        let _ = job.stdout.flush();
        let _ = job.stderr.flush();
        Stdio::Inherit
    } else {
        Stdio::Streams {
            stdin: Some(job.stdin),
            stdout: job.stdout,
            stderr: job.stderr,
        }
    };
    tracing::debug!(
        atom = atom_name,
        ?network,
        host_libs = opts.host_libs,
        "starting the sandbox"
    );
    match sandbox::run(&config, stdio) {
        Ok(Exit::Code(code)) => Ok(Outcome::Exit(code)),
        Ok(Exit::Signal(sig)) => Ok(Outcome::Exit(128 + sig)),
        Ok(Exit::TimedOut) => Ok(Outcome::Timeout),
        Err(SandboxError::Exec(reason)) => Err(cannot(atom_name, reason)),
        Err(SandboxError::Unavailable(reason)) => Err(RunnerError::Unavailable(reason)),
        Err(SandboxError::Config(reason)) => Err(invalid(reason)),
        Err(e) => Err(RunnerError::Other(e.to_string())),
    }
}

fn stdin_is_a_terminal() -> bool {
    // SAFETY: isatty only inspects descriptor 0.
    unsafe { libc::isatty(0) == 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses() {
        for a in [
            "127.0.0.1:80",
            "localhost:8080",
            "[::1]:1",
            "127.1.2.3",
            "::1",
        ] {
            assert!(is_loopback(a), "{a}");
        }
        for a in [
            "10.0.0.1:80",
            "example.org:443",
            "0.0.0.0:80",
            "[2001:db8::1]:1",
        ] {
            assert!(!is_loopback(a), "{a}");
        }
    }

    #[test]
    fn options_are_checked() {
        let o = |k: &str, v: &str| options(&[(k.to_owned(), v.to_owned())]);
        assert!(o("host-libs", "yes").unwrap().host_libs);
        assert!(o("host-libs", "maybe").is_err());
        assert!(o("nproc", "0").is_err());
        assert_eq!(o("fsize", "4096").unwrap().fsize, Some(4096));
        assert!(o("fsize", "1k").is_err());
        assert!(
            o("sandbox", "no-pids-limit")
                .unwrap()
                .weakened
                .no_pids_limit
        );
        assert!(o("sandbox", "none").is_err());
        assert!(o("colour", "red").is_err());
    }
}
