//! Progress indicators (issue 10 §6): drawn on a terminal only, never on a pipe, silenced by
//! `--quiet`; the first compile of a module shows a spinner driven by the WASI runner's
//! progress events, which never print as log lines.
//!
//! A terminal is a pseudo-terminal made by `script` (util-linux, in every Debian install):
//! everything the command writes to its stdout and stderr comes back on `script`'s stdout.
//! `WEBC_PROGRESS_DELAY_MS=0` makes an indicator appear at once, so the tests do not depend
//! on how long the work takes.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use webc_host::extract::{ExtractOptions, ExtractProgress, extract_with_progress};

const BIN: &str = env!("CARGO_BIN_EXE_webc-host");
const DELAY_ENV: &str = "WEBC_PROGRESS_DELAY_MS";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../container/tests/fixtures")
        .join(name)
}

/// A command line as one `sh` word list.
fn shell_line(args: &[&OsStr]) -> OsString {
    let mut line = OsString::new();
    for (i, a) in std::iter::once(OsStr::new(BIN))
        .chain(args.iter().copied())
        .enumerate()
    {
        if i > 0 {
            line.push(" ");
        }
        let quoted = String::from_utf8(a.as_bytes().to_vec())
            .unwrap()
            .replace('\'', r"'\''");
        line.push(format!("'{quoted}'"));
    }
    line
}

/// The environment every run gets: nothing inherited that changes what is printed.
fn clean(c: &mut Command, tmp: &Path) {
    c.env_remove("WEBC_LOG")
        .env_remove("WEBC_HOST_PLUGINS")
        .env_remove("WEBC_HOST_CACHE")
        .env_remove(DELAY_ENV)
        .env("XDG_DATA_HOME", tmp.join("xdg"))
        .env("TERM", "xterm")
        .stdin(Stdio::null());
}

/// Runs webc-host on a pseudo-terminal (stdin, stdout and stderr); returns what the
/// terminal showed and the exit code.
fn on_terminal(tmp: &Path, args: &[&OsStr], env: &[(&str, &str)]) -> (String, Option<i32>) {
    let mut c = Command::new("script");
    c.arg("-qec").arg(shell_line(args)).arg("/dev/null");
    clean(&mut c, tmp);
    c.envs(env.iter().copied());
    let o = c.output().unwrap_or_else(|e| {
        panic!("cannot run `script` (util-linux) to get a pseudo-terminal: {e}")
    });
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        o.status.code(),
    )
}

/// Runs webc-host with stdout and stderr on pipes.
fn on_pipes(tmp: &Path, args: &[&OsStr], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args);
    clean(&mut c, tmp);
    c.envs(env.iter().copied());
    c.output().unwrap()
}

macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$(::std::convert::AsRef::<::std::ffi::OsStr>::as_ref(&$arg)),*]
    };
}

/// Asserts `text` (a stream on a pipe) has nothing an indicator would draw.
#[track_caller]
fn assert_no_drawing(text: &str, what: &str) {
    for mark in ['\r', '\x1b'] {
        assert!(!text.contains(mark), "{what}: {mark:?} in {text:?}");
    }
    for word in ["extracting", "verifying", "packing", "compiling", "phase="] {
        assert!(!text.contains(word), "{what}: {word:?} in {text:?}");
    }
}

/// A project directory with a module and a volume of a few files.
fn project(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets/sub")).unwrap();
    std::fs::write(
        dir.join("wasmer.toml"),
        "[package]\nname = \"example/p\"\nversion = \"0.1.0\"\n\n\
         [[module]]\nname = \"hello\"\nsource = \"hello.wasm\"\nabi = \"wasi\"\n\n\
         [fs]\n\"/assets\" = \"assets\"\n",
    )
    .unwrap();
    std::fs::copy(fixture("hello.wasm"), dir.join("hello.wasm")).unwrap();
    std::fs::write(dir.join("assets/a.txt"), "a\n").unwrap();
    std::fs::write(dir.join("assets/sub/b.bin"), vec![1u8; 100_000]).unwrap();
}

/// The WASI plugin is built beside the binary (fails saying how to build it).
fn check_wasi_plugin() {
    common::plugin("webc_runner_wasi");
}

#[derive(Default)]
struct Recorder {
    start: Option<(u64, u64)>,
    files: u64,
    bytes: u64,
}

impl ExtractProgress for Recorder {
    fn start(&mut self, files: u64, bytes: u64) {
        assert!(self.start.is_none(), "start called twice");
        assert_eq!(self.files, 0, "a file was reported before start");
        self.start = Some((files, bytes));
    }
    fn wrote_file(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }
}

#[test]
fn extract_reports_the_plan_then_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let container = webc_container::Container::open(fixture("sample-v3.webc")).unwrap();
    let mut seen = Recorder::default();
    let summary = extract_with_progress(
        &container,
        &tmp.path().join("out"),
        &ExtractOptions::default(),
        &mut seen,
    )
    .unwrap();
    assert_eq!(seen.start, Some((summary.files, summary.bytes)));
    assert_eq!((seen.files, seen.bytes), (summary.files, summary.bytes));
    // The fixture's description: 10 files (atoms included), 1.0 MiB.
    assert_eq!(summary.files, 10);

    // A refusal is found before writing starts: no start, no file.
    let mut seen = Recorder::default();
    let options = ExtractOptions {
        max_output: Some(1),
        ..Default::default()
    };
    let refused = extract_with_progress(&container, &tmp.path().join("out2"), &options, &mut seen);
    assert!(refused.is_err());
    assert_eq!((seen.start, seen.files), (None, 0));
}

#[test]
fn no_indicator_on_a_pipe() {
    check_wasi_plugin();
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    project(&proj);
    let pkg = fixture("sample-v3.webc");
    let cache = tmp.path().join("cache");
    let (out, packed) = (tmp.path().join("out"), tmp.path().join("p.webc"));
    // An indicator would be drawn at once if it were drawn at all.
    let now = [(DELAY_ENV, "0")];
    let runs: [(&str, &[&OsStr]); 4] = [
        ("extract", args!["extract", pkg, out]),
        ("verify", args!["verify", pkg]),
        ("pack", args!["pack", proj, "-o", packed]),
        ("run", args!["run", "--cache-dir", cache, pkg]),
    ];
    for (what, args) in runs {
        let o = on_pipes(tmp.path(), args, &now);
        assert_eq!(o.status.code(), Some(0), "{what}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err, "", "{what}: stderr on a pipe");
        assert_no_drawing(&String::from_utf8_lossy(&o.stdout), what);
    }
}

#[test]
fn progress_events_never_print_as_log_lines() {
    check_wasi_plugin();
    let tmp = tempfile::tempdir().unwrap();
    let pkg = fixture("sample-v3.webc");
    // `info` is the level of progress events; the runner's own debug events still print.
    for (terminal, log) in [
        (false, "info"),
        (false, "webc_runner=debug"),
        (true, "info"),
    ] {
        let cache = tmp.path().join(format!("cache-{terminal}-{log}"));
        let env = [("WEBC_LOG", log), (DELAY_ENV, "0")];
        let args = args!["run", "--cache-dir", cache, pkg];
        let shown = if terminal {
            let (shown, code) = on_terminal(tmp.path(), args, &env);
            assert_eq!(code, Some(0), "{shown}");
            shown
        } else {
            let o = on_pipes(tmp.path(), args, &env);
            assert_eq!(o.status.code(), Some(0), "{o:?}");
            String::from_utf8_lossy(&o.stderr).into_owned()
        };
        for word in ["phase=", "state=", "webc::progress"] {
            assert!(
                !shown.contains(word),
                "WEBC_LOG={log}: {word:?} in {shown:?}"
            );
        }
        if log.contains("debug") {
            // The runner's events are forwarded at this level: the first run compiles.
            assert!(shown.contains("compiled module"), "{shown}");
        }
    }
}

#[test]
fn indicators_appear_on_a_terminal_and_quiet_hides_them() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    project(&proj);
    let pkg = fixture("sample-v3.webc");
    let now = [(DELAY_ENV, "0")];
    let cases: [(&str, &str, Vec<OsString>); 3] = [
        (
            "extract",
            "extracting sample-v3.webc",
            vec!["extract".into(), pkg.clone().into(), "OUT".into()],
        ),
        (
            "verify",
            "verifying sample-v3.webc (1.0 MiB)",
            vec!["verify".into(), pkg.clone().into()],
        ),
        (
            "pack",
            "packing proj",
            vec![
                "pack".into(),
                proj.clone().into(),
                "-o".into(),
                "OUT".into(),
            ],
        ),
    ];
    for (what, text, args) in cases {
        for quiet in [false, true] {
            let out = tmp.path().join(format!("{what}-{quiet}"));
            let mut args: Vec<OsString> = args
                .iter()
                .map(|a| {
                    if a == "OUT" {
                        out.clone().into()
                    } else {
                        a.clone()
                    }
                })
                .collect();
            if quiet {
                args.insert(0, "--quiet".into());
            }
            let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
            let (shown, code) = on_terminal(tmp.path(), &args, &now);
            assert_eq!(code, Some(0), "{what}: {shown}");
            if quiet {
                assert!(!shown.contains(text), "{what} --quiet: {shown:?}");
                assert!(!shown.contains('\x1b'), "{what} --quiet: {shown:?}");
            } else {
                assert!(shown.contains(text), "{what}: no {text:?} in {shown:?}");
            }
            // The command's own output is there either way, after the indicator is gone.
            let last = shown.trim_end().lines().last().unwrap_or_default();
            let result = match what {
                "extract" => "extracted 2 atoms",
                "verify" => "OK, 48 checks passed",
                _ => "wrote ",
            };
            assert!(last.contains(result), "{what}: {last:?}");
        }
    }
}

#[test]
fn first_compile_shows_a_spinner_on_a_terminal() {
    check_wasi_plugin();
    let tmp = tempfile::tempdir().unwrap();
    let pkg = fixture("sample-v3.webc");
    let cache = tmp.path().join("cache");
    let now = [(DELAY_ENV, "0")];
    let run = |quiet: bool| {
        let mut args = args!["run", "--cache-dir", cache, pkg].to_vec();
        if quiet {
            args.insert(0, OsStr::new("-q"));
        }
        let (shown, code) = on_terminal(tmp.path(), &args, &now);
        assert_eq!(code, Some(0), "{shown}");
        assert!(shown.contains("hello"), "the program's output: {shown:?}");
        shown
    };
    // -q: compiled, silently.
    let quiet = run(true);
    assert!(!quiet.contains("compiling"), "{quiet:?}");
    std::fs::remove_dir_all(&cache).unwrap();
    // The atom `hello` of the fixture is 154 bytes.
    let first = run(false);
    assert!(first.contains("compiling hello (154 B)"), "{first:?}");
    // The spinner is cleared before the program writes.
    let hello = first.rfind("hello").unwrap();
    assert!(first.rfind("compiling").unwrap() < hello, "{first:?}");
    // Precompiled now: nothing to show.
    let again = run(false);
    assert!(!again.contains("compiling"), "{again:?}");
}

#[test]
fn quick_work_stays_silent_on_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = fixture("sample-v3.webc");
    // The default delay (300 ms): verifying a 1 MiB package takes a few milliseconds.
    let started = Instant::now();
    let (shown, code) = on_terminal(tmp.path(), args!["verify", pkg], &[]);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{shown}");
    if took < Duration::from_millis(250) {
        assert!(!shown.contains("verifying"), "{shown:?}");
        assert!(!shown.contains('\x1b'), "{shown:?}");
    }
}

#[test]
fn quiet_keeps_errors_and_drops_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = fixture("sample-v3.webc");
    let bad_log = [("WEBC_LOG", "webc_host=nonsense-level")];
    let loud = on_pipes(tmp.path(), args!["verify", pkg], &bad_log);
    assert!(
        String::from_utf8_lossy(&loud.stderr).contains("warning: ignoring invalid WEBC_LOG"),
        "{loud:?}"
    );
    let quiet = on_pipes(tmp.path(), args!["-q", "verify", pkg], &bad_log);
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    // After the subcommand too, and errors still print.
    let missing = tmp.path().join("missing.webc");
    let failed = on_pipes(tmp.path(), args!["verify", "--quiet", missing], &[]);
    assert_eq!(failed.status.code(), Some(125));
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.starts_with("error: cannot open"), "{err}");
}

#[test]
fn quiet_before_the_package_keeps_the_programs_arguments() {
    check_wasi_plugin();
    let tmp = tempfile::tempdir().unwrap();
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi-programs/tool.wasm");
    let cache = tmp.path().join("cache");
    for quiet in ["-q", "--quiet"] {
        let o = on_pipes(
            tmp.path(),
            args!["run", quiet, "--cache-dir", cache, tool, "--", "args", "-x"],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{quiet}: {o:?}");
        let out = String::from_utf8_lossy(&o.stdout);
        let argv: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(argv, ["args", "-x"], "{quiet}: {out:?}");
    }
}
