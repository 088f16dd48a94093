//! WASI conformance suite for [`webc_runner_wasi::WasiRunner`], run both ways: linked in,
//! and as its dlopened plugin library (`webc_runner_testkit::both_ways`; build it first with
//! `cargo build -p webc-runner-wasi-plugin`).
//!
//! Each case runs a C program (`tests/programs/*.c`, compiled to the committed `.wasm` by
//! `scripts/build-wasi-tests.sh`) or a WAT module (`tests/wat/*.wat`) through
//! `Runner::run`, once per way, with a `webc_vfs` namespace that mirrors the wasmtime setup of its golden
//! (the same fixture tree granted at the same guest paths), and compares the outcome and
//! stdout (and stderr where asked) with `tests/goldens/<case>.out`. Goldens come from
//! `wasmtime run` 48.0.8 where our semantics agree (`scripts/build-wasi-tests.sh --goldens`
//! re-records them); the others are ours, each with its reason in `cases.rs` and
//! `tests/README.md`. Other tests here check that the committed binaries match their
//! sources and that every preview1 function (and the `wasi_unstable` layouts) is exercised.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]
#![allow(clippy::expect_used, reason = "tests fail loudly on unexpected errors")]

#[path = "conformance/cases.rs"]
mod cases;
#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/sources.rs"]
mod sources;

use std::collections::BTreeSet;

use cases::CASES;
use harness::{Case, Golden};

fn case(name: &str) -> &'static Case {
    CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case named {name} in cases.rs"))
}

/// One `#[test]` per case, named after it.
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                harness::check(case(stringify!($name)));
            }
        )*
        const TESTED: &[&str] = &[$(stringify!($name)),*];
    };
}

cases! {
    args_basic, env_granted, env_none, manifest_args_env, env_override,
    clocks, clocks_cputime, clocks_badclock, random, sched_yield,
    poll_sleep, poll_errors, poll_fds, poll_stdin_eof, poll_stdin_empty,
    proc_exit_0, proc_exit_42, proc_exit_125, proc_exit_255, proc_return_7, proc_exit_flush,
    proc_deep_exit, proc_trap, proc_abort,
    sock, stdio, stdio_empty_stdin,
    fd_rw, fd_filestat, fd_fdstat, fd_syncflags, fd_dirs, fd_badfd, fd_stdio, fd_renumber,
    fd_prestat, fd_allocate, fd_rights, fd_append_pwrite, fd_badenum, fd_truncate_ro, fd_huge,
    readdir_list, readdir_cookies, readdir_small, readdir_errors, readdir_libc,
    read_big, volume_read_big, volume_readdir_list, volume_readdir_cookies, volume_readdir_small, volume_readdir_errors,
    volume_readdir_libc, volume_wat_readdir_tiny, volume_wat_p0_layouts, volume_wat_p1_layouts,
    path_oflags, path_fdflags, path_syncflags, path_lookup, path_mkdir, path_filestat, path_link,
    path_readlink, path_rmdir, path_rename, path_symlink, path_unlink, path_rmdir_slash,
    path_unlink_slash, path_nofollow_dir,
    preopens_default, preopens_cwd,
    deny_symlink_escapes, deny_dotdot, deny_absolute, deny_outside_mounts,
    deny_readonly_grant, deny_volume_writes, deny_memory_limit,
    deny_time_limit_loop, deny_time_limit_sleep, deny_time_limit_read,
    wat_p0_layouts, wat_p0_poll, wat_p1_layouts, wat_efault, wat_ilseq, wat_badflags, wat_readdir_tiny, wat_proc_raise,
    wat_misaligned, wat_dotdot_fd, wat_open_dir_write, wat_symlink_slash,
}

/// Every case has a test and a golden; every golden belongs to a case; reference outputs
/// exist only for cases whose golden is ours.
#[test]
fn cases_tests_and_goldens_correspond() {
    let cases: BTreeSet<&str> = CASES.iter().map(|c| c.name).collect();
    assert_eq!(cases.len(), CASES.len(), "duplicate case names");
    let tested: BTreeSet<&str> = TESTED.iter().copied().collect();
    assert_eq!(
        cases.symmetric_difference(&tested).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "cases without a test fn (or tests without a case): add them to `cases!`"
    );
    let dir = harness::tests_dir().join("goldens");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let (stem, ext) = name.rsplit_once('.').unwrap();
        let case = CASES.iter().find(|c| c.name == stem);
        match (ext, case) {
            ("out", Some(_)) => {}
            (
                "wasmtime",
                Some(Case {
                    golden:
                        Golden::Ours {
                            reference: true, ..
                        },
                    ..
                }),
            ) => {}
            _ => {
                panic!("{name}: no case it belongs to (or a reference file for a wasmtime golden)")
            }
        }
    }
    for c in CASES {
        let golden = match c.golden {
            Golden::SameAs(other) => {
                assert!(
                    matches!(case(other).golden, Golden::Wasmtime),
                    "{}: same_as must name a wasmtime-sourced case",
                    c.name
                );
                other
            }
            _ => c.name,
        };
        assert!(
            harness::golden_path(golden, "out").exists(),
            "{}: golden missing",
            c.name
        );
    }
}

/// Re-records the goldens from wasmtime (run by `scripts/build-wasi-tests.sh --goldens`;
/// `WASI_RECORD_ONLY=a,b` limits it to some cases). For our own goldens it records
/// wasmtime's output as `<case>.wasmtime` for reference, and with `WASI_BOOTSTRAP_OURS=1`
/// writes a missing `<case>.out` from our runner, to be reviewed by hand before committing.
#[test]
#[ignore = "records goldens with the wasmtime CLI; run by scripts/build-wasi-tests.sh --goldens"]
fn record_goldens() {
    if std::env::var_os("WASI_RECORD_GOLDENS").is_none() {
        eprintln!("set WASI_RECORD_GOLDENS=1 (scripts/build-wasi-tests.sh --goldens)");
        return;
    }
    let only: Option<Vec<String>> = std::env::var("WASI_RECORD_ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let bootstrap = std::env::var_os("WASI_BOOTSTRAP_OURS").is_some();
    std::fs::create_dir_all(harness::tests_dir().join("goldens")).unwrap();
    for c in CASES {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == c.name))
        {
            continue;
        }
        match c.golden {
            Golden::Wasmtime => {
                let run = harness::run_wasmtime(c);
                let path = harness::golden_path(c.name, "out");
                std::fs::write(&path, harness::render(&harness::header(c), &run, c.stderr))
                    .unwrap();
                eprintln!("recorded {} ({})", path.display(), run.outcome);
            }
            Golden::SameAs(_) => {}
            Golden::Ours { reference, .. } => {
                if reference {
                    let run = harness::run_wasmtime(c);
                    let path = harness::golden_path(c.name, "wasmtime");
                    let header = format!(
                        "# {}: what wasmtime 48.0.8 prints (reference only; the expected output is {}.out)\n",
                        c.name, c.name
                    );
                    std::fs::write(&path, harness::render(&header, &run, true)).unwrap();
                    eprintln!("recorded reference {}", path.display());
                }
                let out = harness::golden_path(c.name, "out");
                if bootstrap && !out.exists() {
                    let run = harness::run_ours(c);
                    std::fs::write(&out, harness::render(&harness::header(c), &run, c.stderr))
                        .unwrap();
                    eprintln!("BOOTSTRAPPED {} from our runner: review it", out.display());
                }
            }
        }
    }
}
