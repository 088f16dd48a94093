//! `webc-runner-posix` runs native Linux executables — atoms of kind
//! `https://webc.org/kind/elf` — for the runner URI `https://webc.org/runner/posix`: each run is
//! a separate child process executed from a sealed memfd, in fresh user, mount, pid, network,
//! IPC and UTS namespaces on an empty tmpfs root that holds only the command's volumes
//! (materialised by the host and bound read-only), the granted host directories (with their
//! mode), a few `/dev` nodes, its own `/proc` and a size-limited `/tmp`; landlock, a seccomp
//! filter, `PR_SET_NO_NEW_PRIVS`, rlimits and a pids cgroup on top; the wall-time limit kills
//! the whole pid namespace, and the sandbox dies with the host. [`PosixRunner`] is the
//! runner; [`sandbox`] is the sandbox itself, usable on its own. `docs/posix.md` describes
//! every layer.

mod exec;
pub mod sandbox;

use webc_runner_api::{Availability, Job, Outcome, Runner, RunnerError, RunnerInfo};

/// The atom kind accepted: [`webc_container::well_known::KIND_ELF`].
pub use webc_container::well_known::KIND_ELF as ATOM_KIND;
/// The runner URI served (any version): [`webc_container::well_known::RUNNER_POSIX`].
pub use webc_container::well_known::RUNNER_POSIX as URI;

const OPTIONS: [(&str, &str); 5] = [
    (
        "host-libs",
        "yes | no (default): bind the host's /usr, /lib* and /etc/ld.so.cache read-only so a \
         dynamically linked program can run; only for commands that declare posix.host-libs",
    ),
    (
        "nproc",
        "most processes and threads the program may have at once (default 256)",
    ),
    (
        "nofile",
        "most descriptors the program may hold at once (default 1024)",
    ),
    (
        "fsize",
        "largest file in bytes the program may write (RLIMIT_FSIZE: writing past it ends the \
         program with SIGXFSZ, exit 153; default no limit)",
    ),
    (
        "sandbox",
        "full (default) | no-pids-limit: run without a process limit when the host is root \
         and no pids cgroup can be made (weakens the sandbox; docs/posix.md)",
    ),
];

/// The POSIX runner. It holds no state, so one value serves any number of jobs.
#[derive(Debug, Default, Clone, Copy)]
pub struct PosixRunner {
    _private: (),
}

impl PosixRunner {
    /// The runner.
    pub fn new() -> PosixRunner {
        PosixRunner::default()
    }
}

impl Runner for PosixRunner {
    fn info(&self) -> RunnerInfo {
        let info = RunnerInfo::new(
            "posix",
            env!("CARGO_PKG_VERSION"),
            "native Linux executables in a namespace, landlock and seccomp sandbox",
        )
        .serves(URI, "*")
        .atom_kind(ATOM_KIND);
        OPTIONS
            .iter()
            .fold(info, |info, (name, help)| info.option(*name, *help))
    }

    fn availability(&self) -> Availability {
        match sandbox::probe() {
            Ok(_) => Availability::Available,
            Err(e) => Availability::Unavailable(e.to_string()),
        }
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        exec::run(job)
    }
}
