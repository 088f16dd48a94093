//! Conformance suite of [`webc_runner_emscripten::EmscriptenRunner`], run both ways: linked
//! in, and as its dlopened plugin (`libwebc_runner_emscripten.so`, built by
//! `cargo build --workspace --all-targets`).
//!
//! Every case of `tests/programs/cases.json` runs the committed emcc 3.1.6 `.wasm` through
//! `Runner::run` and compares stdout byte for byte with `goldens/<case>.stdout` (what node
//! printed running the glue) and the exit status with `goldens/<case>.exit` — except where
//! node ends with an uncaught JS exception (`abort`, `assert`, `exceptions_uncaught`): node
//! exits 7 there ("uncaught exception inside the exception handler", an artefact of the
//! glue's `process.on('uncaughtException')` handler rethrowing), while the runner does what
//! the issue asks — `Aborted(<what>)` on stderr and a trap (host exit status 134). Those
//! cases check the golden's 7 is still recorded (so a re-recording that changes it is seen),
//! expect `Outcome::Trap`, and compare the `Aborted(…)` line with the golden stderr's first
//! line where the message is the glue's own.
//!
//! The `fs` cases (`files`, `files_bigint`, `denied`) run in the layout of
//! `tests/README.md`: `/data` a read-only container volume built from `fixtures/data/`,
//! `/ro` a read-only grant of a temp copy of `fixtures/ro/`, `/work` a read-write grant of
//! a temp copy of `fixtures/work/`; nothing else exists. `files` checks EROFS for writes into
//! `/data` and `/ro`; `denied` that a path outside every grant looks absent (ENOENT).

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]
#![allow(clippy::expect_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use webc_container::manifest::{CommandAnnotations, Emscripten};
use webc_container::write::{Directory, Entry, Writer};
use webc_container::{Container, Version};
use webc_runner_api::{Job, JobSpec, Outcome, Runner, RunnerError};
use webc_runner_emscripten::EmscriptenRunner;
use webc_runner_testkit::{Suite, Way, reach};
use webc_vfs::{Mode, Vfs, VfsBuilder};

const PLUGIN: &str = "webc_runner_emscripten";

/// Cases where node's exit status is its uncaught-exception artefact (see the module docs).
const ABORTS: &[&str] = &["abort", "assert", "exceptions_uncaught"];

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
    fs: bool,
    exit: i32,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(tests_dir().join("programs/cases.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_owned(),
            program: c["program"].as_str().unwrap().to_owned(),
            args: c["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            env: c["env"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect(),
            stdin: c["stdin"].as_str().map(str::to_owned),
            fs: c["fs"].as_bool().unwrap(),
            exit: i32::try_from(c["exit"].as_i64().unwrap()).unwrap(),
        })
        .collect()
}

/// The guest file system of the `fs` cases; the temp dirs live as long as this.
struct Layout {
    vfs: Vfs,
    _ro: tempfile::TempDir,
    work: tempfile::TempDir,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn volume_dir(from: &Path, into: &mut Directory, prefix: &str) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}/{}", entry.file_name().to_str().unwrap());
        if entry.file_type().unwrap().is_dir() {
            into.insert(&name, Entry::Dir(Directory::default()), 1_700_000_000)
                .unwrap();
            volume_dir(&entry.path(), into, &name);
        } else {
            let data = std::fs::read(entry.path()).unwrap();
            into.insert(
                &name,
                Entry::File {
                    data: data.into(),
                    modified: 1_700_000_000,
                },
                1_700_000_000,
            )
            .unwrap();
        }
    }
}

fn layout(fs: bool) -> Option<Layout> {
    if !fs {
        return None;
    }
    let fixtures = tests_dir().join("programs/fixtures");
    let mut data = Directory::default();
    volume_dir(&fixtures.join("data"), &mut data, "");
    let bytes = Writer {
        manifest: webc_container::manifest::Manifest::default().to_cbor(),
        volumes: [("/data".to_owned(), data)].into_iter().collect(),
        ..Default::default()
    }
    .to_bytes(Version::V3)
    .unwrap();
    let container = Container::from_bytes(bytes).unwrap();
    let ro = tempfile::tempdir().unwrap();
    copy_dir(&fixtures.join("ro"), ro.path());
    let work = tempfile::tempdir().unwrap();
    copy_dir(&fixtures.join("work"), work.path());
    let vfs = VfsBuilder::new()
        .mount_volume("/data", container.volume("/data").unwrap(), "/")
        .unwrap()
        .grant_dir(ro.path(), "/ro", Mode::ReadOnly)
        .unwrap()
        .grant_dir(work.path(), "/work", Mode::ReadWrite)
        .unwrap()
        .build()
        .unwrap();
    Some(Layout { vfs, _ro: ro, work })
}

struct Ran {
    result: Result<Outcome, RunnerError>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run(
    runner: &dyn Runner,
    atom: &[u8],
    command: &str,
    args: &[String],
    env: &[(String, String)],
    stdin: &[u8],
    fs: &Vfs,
) -> Ran {
    let spec = JobSpec {
        command: command.to_owned(),
        runner_uri: webc_runner_emscripten::URI.to_owned(),
        atom_name: "main".to_owned(),
        atom_kind: webc_runner_emscripten::ATOM_KIND.to_owned(),
        args: args.to_vec(),
        env: env.to_vec(),
        ..JobSpec::default()
    };
    run_spec(runner, spec, atom, stdin, fs)
}

fn run_spec(runner: &dyn Runner, spec: JobSpec, atom: &[u8], stdin: &[u8], fs: &Vfs) -> Ran {
    let mut stdin = stdin;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let result = runner.run(Job {
        host: &webc_runner_api::NoHostServices,
        spec,
        atom,
        fs,
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
    });
    Ran {
        result,
        stdout,
        stderr,
    }
}

/// `malloc_grow` with a memory limit of `limit` bytes.
fn run_limited(runner: &dyn Runner, atom: &[u8], limit: u64, fs: &Vfs) -> Ran {
    let spec = JobSpec {
        command: "malloc_grow".to_owned(),
        runner_uri: webc_runner_emscripten::URI.to_owned(),
        atom_kind: webc_runner_emscripten::ATOM_KIND.to_owned(),
        limits: webc_runner_api::Limits {
            memory: Some(limit),
            time: None,
        },
        ..JobSpec::default()
    };
    run_spec(runner, spec, atom, b"", fs)
}

fn golden(case: &str, ext: &str) -> Vec<u8> {
    let path = tests_dir().join("goldens").join(format!("{case}.{ext}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn program(name: &str) -> Vec<u8> {
    std::fs::read(tests_dir().join("programs").join(format!("{name}.wasm"))).unwrap()
}

/// What is left in `/work` after a run, sorted.
fn work_left(layout: &Layout) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(layout.work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn check_case(case: &Case, runner: &dyn Runner) {
    let atom = program(&case.program);
    let stdin = case
        .stdin
        .as_ref()
        .map(|f| std::fs::read(tests_dir().join("programs").join(f)).unwrap())
        .unwrap_or_default();
    let layout = layout(case.fs);
    let empty = VfsBuilder::new().build().unwrap();
    let fs = layout.as_ref().map_or(&empty, |l| &l.vfs);
    let ran = run(
        runner,
        &atom,
        &case.program,
        &case.args,
        &case.env,
        &stdin,
        fs,
    );
    let stderr = String::from_utf8_lossy(&ran.stderr);
    let want = golden(&case.name, "stdout");
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&want),
        "{}: stdout differs (stderr: {stderr}, outcome {:?})",
        case.name,
        ran.result
    );
    assert_eq!(ran.stdout, want, "{}: stdout bytes differ", case.name);
    let golden_exit: i32 = String::from_utf8(golden(&case.name, "exit"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        golden_exit, case.exit,
        "{}: cases.json and golden disagree",
        case.name
    );
    if ABORTS.contains(&case.name.as_str()) {
        assert_eq!(
            golden_exit, 7,
            "{}: node's artefact exit status changed",
            case.name
        );
        assert_eq!(
            ran.result,
            Ok(Outcome::Trap),
            "{}: an abort is a trap (exit 134); stderr: {stderr}",
            case.name
        );
        let line = stderr.lines().next().unwrap_or_default();
        assert!(
            line.starts_with("Aborted("),
            "{}: stderr {stderr:?}",
            case.name
        );
        if case.name != "exceptions_uncaught" {
            let node = String::from_utf8(golden(&case.name, "stderr")).unwrap();
            assert_eq!(
                Some(line),
                node.lines().next(),
                "{}: abort message",
                case.name
            );
        }
    } else {
        assert_eq!(
            ran.result,
            Ok(Outcome::Exit(golden_exit)),
            "{}: exit status; stderr: {stderr}",
            case.name
        );
    }
    if let Some(l) = &layout {
        // The program cleans up after itself: only the fixture is left in /work.
        assert_eq!(
            work_left(l),
            ["existing.txt"],
            "{}: /work afterwards",
            case.name
        );
    }
}

const NOT_EMSCRIPTEN: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")))"#;

const UNKNOWN_IMPORT: &str = r#"(module
  (import "env" "foo" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main") (param i32 i32) (result i32) (i32.const 0))
  (func (export "stackSave") (result i32) (i32.const 0))
  (func (export "stackRestore") (param i32))
  (func (export "stackAlloc") (param i32) (result i32) (i32.const 0)))"#;

/// [`UNKNOWN_IMPORT`] recording its toolchain in a `producers` section, as later emcc does.
const UNKNOWN_IMPORT_WITH_PRODUCERS: &str = r#"(module
  (@producers (processed-by "emscripten" "3.1.50") (processed-by "clang" "18.0.0"))
  (import "env" "foo" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main") (param i32 i32) (result i32) (i32.const 0))
  (func (export "stackSave") (result i32) (i32.const 0))
  (func (export "stackRestore") (param i32))
  (func (export "stackAlloc") (param i32) (result i32) (i32.const 0)))"#;

/// A minimal Emscripten-shaped module in later emcc's export spelling, returning 3 from
/// `main` after writing the two bytes of argv\[1\] to stdout.
const LATER_NAMES: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "_emscripten_memcpy_js" (func (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $sp (mut i32) (i32.const 4096))
  (func (export "main") (param $argc i32) (param $argv i32) (result i32) (local $s i32)
    (local.set $s (i32.load offset=4 (local.get $argv)))
    (i32.store (i32.const 8192) (local.get $s))
    (i32.store (i32.const 8196) (i32.const 2))
    (drop (call $fd_write (i32.const 1) (i32.const 8192) (i32.const 1) (i32.const 8200)))
    (i32.const 3))
  (func (export "emscripten_stack_get_current") (result i32) (global.get $sp))
  (func (export "_emscripten_stack_restore") (param i32) (global.set $sp (local.get 0)))
  (func (export "_emscripten_stack_alloc") (param i32) (result i32)
    (global.set $sp (i32.and (i32.sub (global.get $sp) (local.get 0)) (i32.const -16)))
    (global.get $sp)))"#;

/// Memory fixed at one page (no `ALLOW_MEMORY_GROWTH`): `main` asks `emscripten_resize_heap`
/// for more, which the glue answers with `abort("OOM")`.
const FIXED_MEMORY: &str = r#"(module
  (import "env" "emscripten_resize_heap" (func $resize (param i32) (result i32)))
  (memory (export "memory") 1 1)
  (func (export "main") (param i32 i32) (result i32)
    (drop (call $resize (i32.const 131072)))
    (i32.const 0))
  (func (export "stackSave") (result i32) (i32.const 0))
  (func (export "stackRestore") (param i32))
  (func (export "stackAlloc") (param i32) (result i32) (i32.const 1024)))"#;

/// The `*at` family, the working directory and `dup`, in the `fs` layout: `main` records
/// each syscall's result (and a few fields it wrote) as i32s and writes them to stdout.
/// (A piece of a [`recording_module`].)
const AT_CALLS: &str = r#"  (import "env" "__syscall_getcwd" (func $getcwd (param i32 i32) (result i32)))
  (import "env" "__syscall_chdir" (func $chdir (param i32) (result i32)))
  (import "env" "__syscall_openat" (func $openat (param i32 i32 i32 i32) (result i32)))
  (import "env" "__syscall_fstat64" (func $fstat (param i32 i32) (result i32)))
  (import "env" "__syscall_dup" (func $dup (param i32) (result i32)))
  (import "env" "__syscall_dup3" (func $dup3 (param i32 i32 i32) (result i32)))
  (import "env" "__syscall_mkdirat" (func $mkdirat (param i32 i32 i32) (result i32)))
  (import "env" "__syscall_renameat" (func $renameat (param i32 i32 i32 i32) (result i32)))
  (import "env" "__syscall_unlinkat" (func $unlinkat (param i32 i32 i32) (result i32)))
  (import "env" "__syscall_newfstatat" (func $fstatat (param i32 i32 i32 i32) (result i32)))
  (import "env" "__syscall_lstat64" (func $lstat (param i32 i32) (result i32)))
  (import "env" "__syscall_readlinkat" (func $readlinkat (param i32 i32 i32 i32) (result i32)))
  (import "env" "__syscall_pipe" (func $pipe (param i32) (result i32)))
  (data (i32.const 100) "work\00")
  (data (i32.const 110) "existing.txt\00")
  (data (i32.const 130) "d\00")
  (data (i32.const 140) "/work/e\00")
  (data (i32.const 150) "e\00")
  (data (i32.const 160) "../data/input.txt\00")
  (data (i32.const 180) "/data\00")
  (data (i32.const 190) "/data/x\00")
  (data (i32.const 200) "nope\00")
  (func (export "main") (param i32 i32) (result i32) (local $fd i32)
    (call $rec (call $getcwd (i32.const 1000) (i32.const 100)))
    (call $rec (call $chdir (i32.const 100)))
    (call $rec (call $getcwd (i32.const 1000) (i32.const 100)))
    (call $rec (i32.load (i32.const 1000)))
    (local.set $fd (call $openat (i32.const -100) (i32.const 110) (i32.const 0) (i32.const 0)))
    (call $rec (local.get $fd))
    (call $rec (call $fstat (local.get $fd) (i32.const 2000)))
    (call $rec (i32.load (i32.const 2040)))
    (call $rec (call $dup (local.get $fd)))
    (call $rec (call $dup3 (local.get $fd) (local.get $fd) (i32.const 0)))
    (call $rec (call $mkdirat (i32.const -100) (i32.const 130) (i32.const 493)))
    (call $rec (call $renameat (i32.const -100) (i32.const 130) (i32.const -100) (i32.const 140)))
    (call $rec (call $unlinkat (i32.const -100) (i32.const 150) (i32.const 512)))
    (call $rec (call $unlinkat (i32.const -100) (i32.const 110) (i32.const 7)))
    (call $rec (call $fstatat (i32.const -100) (i32.const 160) (i32.const 2000) (i32.const 0)))
    (call $rec (i32.load (i32.const 2040)))
    (call $rec (call $lstat (i32.const 180) (i32.const 2000)))
    (call $rec (i32.and (i32.load (i32.const 2012)) (i32.const 61440)))
    (call $rec (call $readlinkat (i32.const -100) (i32.const 110) (i32.const 3000) (i32.const 10)))
    (call $rec (call $mkdirat (i32.const -100) (i32.const 190) (i32.const 0)))
    (call $rec (call $pipe (i32.const 4000)))
    (call $rec (call $chdir (i32.const 200)))
"#;

/// `readlink`, `symlink`, `symlinkat` and `poll` in the `fs` layout: `main` records each
/// result (and the `revents` poll wrote) as i32s on stdout.
/// (A piece of a [`recording_module`].)
const LINK_POLL: &str = r#"  (import "env" "__syscall_symlink" (func $symlink (param i32 i32) (result i32)))
  (import "env" "__syscall_symlinkat" (func $symlinkat (param i32 i32 i32) (result i32)))
  (import "env" "__syscall_readlink" (func $readlink (param i32 i32 i32) (result i32)))
  (import "env" "__syscall_unlinkat" (func $unlinkat (param i32 i32 i32) (result i32)))
  (import "env" "__syscall_poll" (func $poll (param i32 i32 i32) (result i32)))
  (data (i32.const 100) "existing.txt\00")
  (data (i32.const 120) "/work/link\00")
  (data (i32.const 140) "/data/link\00")
  (data (i32.const 160) "work/link2\00")
  (func (export "main") (param i32 i32) (result i32)
    (call $rec (call $symlink (i32.const 100) (i32.const 120)))
    (call $rec (call $readlink (i32.const 120) (i32.const 3000) (i32.const 64)))
    (call $rec (i32.load (i32.const 3000)))
    (call $rec (call $readlink (i32.const 120) (i32.const 3100) (i32.const 4)))
    (call $rec (call $symlink (i32.const 100) (i32.const 120)))
    (call $rec (call $symlink (i32.const 100) (i32.const 140)))
    (call $rec (call $symlinkat (i32.const 100) (i32.const -100) (i32.const 160)))
    (call $rec (call $readlink (i32.const 100) (i32.const 3000) (i32.const 64)))
    (call $rec (call $unlinkat (i32.const -100) (i32.const 120) (i32.const 0)))
    (call $rec (call $unlinkat (i32.const -100) (i32.const 160) (i32.const 0)))
    ;; poll: stdout for POLLOUT, fd 77 (not open) asking POLLIN|POLLNVAL, fd -1 asking POLLIN
    (i64.store (i32.const 2000) (i64.const 0x0000000400000001))
    (i64.store (i32.const 2008) (i64.const 0x000000210000004d))
    (i64.store (i32.const 2016) (i64.const 0x00000001ffffffff))
    (call $rec (call $poll (i32.const 2000) (i32.const 3) (i32.const -1)))
    (call $rec (i32.load16_u (i32.const 2006)))
    (call $rec (i32.load16_u (i32.const 2014)))
    (call $rec (i32.load16_u (i32.const 2022)))
"#;

/// emcc 2.x's syscall names (`__sys_*`) in the `fs` layout: recorded like [`AT_CALLS`].
/// (A piece of a [`recording_module`].)
const EMCC2_NAMES: &str = r#"  (import "env" "__sys_getcwd" (func $getcwd (param i32 i32) (result i32)))
  (import "env" "__sys_open" (func $open (param i32 i32 i32) (result i32)))
  (import "env" "__sys_fstat64" (func $fstat (param i32 i32) (result i32)))
  (import "env" "__sys_access" (func $access (param i32 i32) (result i32)))
  (import "env" "__sys_fstatat64" (func $fstatat (param i32 i32 i32 i32) (result i32)))
  (data (i32.const 100) "work/existing.txt\00")
  (data (i32.const 130) "work/missing\00")
  (func (export "main") (param i32 i32) (result i32) (local $fd i32)
    (call $rec (call $getcwd (i32.const 1000) (i32.const 100)))
    (local.set $fd (call $open (i32.const 100) (i32.const 0) (i32.const 0)))
    (call $rec (local.get $fd))
    (call $rec (call $fstat (local.get $fd) (i32.const 2000)))
    (call $rec (i32.load (i32.const 2040)))
    (call $rec (call $access (i32.const 100) (i32.const 4)))
    (call $rec (call $access (i32.const 130) (i32.const 0)))
    (call $rec (call $fstatat (i32.const -100) (i32.const 100) (i32.const 2000) (i32.const 0)))
"#;

/// An emcc 2.x syscall imported with a signature that is not the one this runner defines.
const EMCC2_WRONG_SIGNATURE: &str = r#"(module
  (import "env" "__sys_open" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main") (param i32 i32) (result i32) (i32.const 0))
  (func (export "stackSave") (result i32) (i32.const 0))
  (func (export "stackRestore") (param i32))
  (func (export "stackAlloc") (param i32) (result i32) (i32.const 0)))"#;

/// A recording module: `piece` holds the module's own imports, data segments and the start
/// of `main` (`(func (export "main") (param i32 i32) (result i32) …` calling `$rec` with each
/// result); this adds `fd_write`, the memory, `$rec`, the end of `main` (the recorded i32s
/// written to stdout, exit 0) and the stack exports an Emscripten module needs.
fn recording_module(piece: &str) -> String {
    let split = piece
        .find("  (func (export \"main\")")
        .expect("the piece defines main");
    let (head, main) = piece.split_at(split);
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
{head}  (memory (export "memory") 1)
  (global $out (mut i32) (i32.const 5000))
  (func $rec (param i32)
    (i32.store (global.get $out) (local.get 0))
    (global.set $out (i32.add (global.get $out) (i32.const 4))))
{main}
    (i32.store (i32.const 4900) (i32.const 5000))
    (i32.store (i32.const 4904) (i32.sub (global.get $out) (i32.const 5000)))
    (drop (call $fd_write (i32.const 1) (i32.const 4900) (i32.const 1) (i32.const 4910)))
    (i32.const 0))
  (func (export "stackSave") (result i32) (i32.const 0))
  (func (export "stackRestore") (param i32))
  (func (export "stackAlloc") (param i32) (result i32) (i32.const 4096)))"#
    )
}

/// Runs a WAT module that records syscall results as i32s on stdout (in the `fs` layout);
/// returns them, checking the module exited 0.
fn recorded(runner: &dyn Runner, piece: &str, layout: &Layout) -> Vec<i32> {
    let atom = wat::parse_str(recording_module(piece)).unwrap();
    let ran = run_module(runner, &atom, &layout.vfs);
    assert_eq!(ran.result, Ok(Outcome::Exit(0)));
    ran.stdout
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Runs `atom` as command `prog` without arguments, environment or stdin.
fn run_module(runner: &dyn Runner, atom: &[u8], fs: &Vfs) -> Ran {
    run(runner, atom, "prog", &[], &[], b"", fs)
}

/// `invoke_*` of signatures no emcc test program has: i64 and f64 parameters and results.
/// `main` returns 0 when the call went through, the longjmp was caught (zero result,
/// `setThrew(1, 0)`, stack pointer restored), else the number of the failed check; with an
/// argument, the invoked function traps instead, which no trampoline catches. With two,
/// it loops forever (for the time limit).
const INVOKE_ANY: &str = r#"(module
  (import "env" "invoke_ddji" (func $invoke_add (param i32 i64 f64) (result f64)))
  (import "env" "invoke_ji" (func $invoke_throw (param i32) (result i64)))
  (import "env" "invoke_v" (func $invoke_v (param i32)))
  (import "env" "_emscripten_throw_longjmp" (func $longjmp))
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 4 funcref)
  (elem (i32.const 1) $add $throw $trap)
  (global $sp (mut i32) (i32.const 4096))
  (global $threw (mut i32) (i32.const 0))
  (func $add (param i64 f64) (result f64) (f64.add (f64.convert_i64_s (local.get 0)) (local.get 1)))
  (func $throw (result i64)
    (global.set $sp (i32.sub (global.get $sp) (i32.const 64)))
    (call $longjmp)
    (i64.const 99))
  (func $trap (unreachable))
  (func (export "setThrew") (param i32 i32)
    (if (i32.eqz (global.get $threw)) (then (global.set $threw (local.get 0)))))
  (func (export "main") (param $argc i32) (param i32) (result i32) (local $sp0 i32)
    (if (i32.eq (local.get $argc) (i32.const 3)) (then (loop $l (br $l))))
    (if (i32.eq (local.get $argc) (i32.const 2)) (then (call $invoke_v (i32.const 3))))
    (if (f64.ne (call $invoke_add (i32.const 1) (i64.const 2) (f64.const 3.5)) (f64.const 5.5))
      (then (return (i32.const 1))))
    (local.set $sp0 (global.get $sp))
    (if (i64.ne (call $invoke_throw (i32.const 2)) (i64.const 0)) (then (return (i32.const 2))))
    (if (i32.ne (global.get $threw) (i32.const 1)) (then (return (i32.const 3))))
    (if (i32.ne (global.get $sp) (local.get $sp0)) (then (return (i32.const 4))))
    (i32.const 0))
  (func (export "stackSave") (result i32) (global.get $sp))
  (func (export "stackRestore") (param i32) (global.set $sp (local.get 0)))
  (func (export "stackAlloc") (param i32) (result i32)
    (global.set $sp (i32.and (i32.sub (global.get $sp) (local.get 0)) (i32.const -16)))
    (global.get $sp)))"#;

fn refused(runner: &dyn Runner, wat: &str) -> String {
    let atom = wat::parse_str(wat).unwrap();
    let empty = VfsBuilder::new().build().unwrap();
    let ran = run_module(runner, &atom, &empty);
    assert!(ran.stdout.is_empty() && ran.stderr.is_empty());
    match ran.result {
        Err(RunnerError::CannotExecute(msg)) => {
            assert!(!msg.contains('\n'), "one line: {msg:?}");
            msg
        }
        other => panic!("expected CannotExecute, got {other:?}"),
    }
}

fn main() {
    let mut suite = Suite::new();
    let runner: Arc<dyn Runner> = Arc::new(EmscriptenRunner::default());
    for case in cases() {
        for way in Way::ALL {
            let (case, runner) = (case.clone(), Arc::clone(&runner));
            suite.test(format!("{}::{way}", case.name), move || {
                let r = reach(way, runner, PLUGIN);
                check_case(&case, &*r);
            });
        }
    }
    for way in Way::ALL {
        let r = Arc::clone(&runner);
        suite.test(format!("refuses_a_wasi_module::{way}"), move || {
            let msg = refused(&*reach(way, r, PLUGIN), NOT_EMSCRIPTEN);
            assert!(
                msg.contains("not an Emscripten module: no `main` export")
                    && msg.contains("use runner wasi"),
                "{msg}"
            );
        });
        let r = Arc::clone(&runner);
        suite.test(format!("refuses_an_unknown_import::{way}"), move || {
            let msg = refused(&*reach(way, r, PLUGIN), UNKNOWN_IMPORT);
            assert!(msg.ends_with("env.foo: (i32, i32) -> i32"), "{msg}");
            assert!(!msg.contains("built by"), "{msg}");
        });
        let r = Arc::clone(&runner);
        suite.test(format!("refusal_names_the_recorded_toolchain::{way}"), move || {
            let msg = refused(&*reach(way, r, PLUGIN), UNKNOWN_IMPORT_WITH_PRODUCERS);
            assert!(
                msg.ends_with(
                    "env.foo: (i32, i32) -> i32 (the module was built by emscripten 3.1.50, clang 18.0.0)"
                ),
                "{msg}"
            );
        });
        let r = Arc::clone(&runner);
        suite.test(format!("later_emcc_export_names::{way}"), move || {
            let atom = wat::parse_str(LATER_NAMES).unwrap();
            let empty = VfsBuilder::new().build().unwrap();
            let r = reach(way, r, PLUGIN);
            let ran = run(&*r, &atom, "prog", &["hi".to_owned()], &[], b"", &empty);
            assert_eq!(ran.result, Ok(Outcome::Exit(3)));
            assert_eq!(ran.stdout, b"hi");
        });
    }
    for way in Way::ALL {
        let r = Arc::clone(&runner);
        suite.test(
            format!("memory_limit_makes_malloc_fail::{way}"),
            move || {
                let r = reach(way, r, PLUGIN);
                let empty = VfsBuilder::new().build().unwrap();
                let spec_limit = 48 << 20;
                let atom = program("malloc_grow");
                let ran = run_limited(&*r, &atom, spec_limit, &empty);
                let stdout = String::from_utf8(ran.stdout).unwrap();
                // 16 MiB at start, 48 MiB allowed: the 1 MiB chunks run out after about 30.
                assert!(stdout.starts_with("malloc failed at chunk "), "{stdout}");
                let chunk: u32 = stdout["malloc failed at chunk ".len()..]
                    .trim()
                    .parse()
                    .unwrap();
                assert!((20..48).contains(&chunk), "{chunk}");
                assert_eq!(ran.result, Ok(Outcome::Exit(1)));
            },
        );
        let r = Arc::clone(&runner);
        suite.test(format!("fixed_memory_aborts_with_oom::{way}"), move || {
            let atom = wat::parse_str(FIXED_MEMORY).unwrap();
            let empty = VfsBuilder::new().build().unwrap();
            let ran = run_module(&*reach(way, r, PLUGIN), &atom, &empty);
            assert_eq!(ran.result, Ok(Outcome::Trap));
            assert_eq!(String::from_utf8(ran.stderr).unwrap(), "Aborted(OOM)\n");
        });
    }
    for way in Way::ALL {
        let r = Arc::clone(&runner);
        suite.test(format!("at_syscalls_cwd_dup::{way}"), move || {
            let layout = layout(true).unwrap();
            let got = recorded(&*reach(way, r, PLUGIN), AT_CALLS, &layout);
            let want = [
                2,                            // getcwd "/" (length with NUL)
                0,                            // chdir work
                6,                            // getcwd "/work"
                i32::from_le_bytes(*b"/wor"), // its bytes
                5,                            // openat AT_FDCWD existing.txt
                0,                            // fstat64
                12,                           // st_size
                6,                            // dup
                -28,                          // dup3 onto itself: EINVAL
                0,                            // mkdirat d
                0,                            // renameat d -> /work/e
                0,                            // unlinkat e AT_REMOVEDIR
                -28,                          // unlinkat bad flags: EINVAL
                0,                            // newfstatat ../data/input.txt
                41,                           // st_size
                0,                            // lstat64 /data
                0o040000,                     // S_IFDIR
                -28,                          // readlinkat of a file: EINVAL
                -69,                          // mkdirat in the volume: EROFS
                -52,                          // pipe: ENOSYS
                -44,                          // chdir nope: ENOENT
            ];
            assert_eq!(got, want);
            assert_eq!(work_left(&layout), ["existing.txt"]);
        });
    }
    for way in Way::ALL {
        let r = Arc::clone(&runner);
        suite.test(format!("emcc2_syscall_names::{way}"), move || {
            let layout = layout(true).unwrap();
            let got = recorded(&*reach(way, r, PLUGIN), EMCC2_NAMES, &layout);
            let want = [
                2,   // getcwd "/" (length with NUL)
                5,   // open work/existing.txt: the first free descriptor
                0,   // fstat64
                12,  // st_size
                0,   // access R_OK
                -44, // access of a missing file: ENOENT
                0,   // fstatat64 (3.x newfstatat)
            ];
            assert_eq!(got, want);
        });
        let r = Arc::clone(&runner);
        suite.test(
            format!("emcc2_name_with_another_signature_is_refused::{way}"),
            move || {
                let msg = refused(&*reach(way, r, PLUGIN), EMCC2_WRONG_SIGNATURE);
                assert!(msg.contains("__sys_open"), "{msg}");
                assert!(!msg.contains('\n'), "{msg}");
            },
        );
    }
    for way in Way::ALL {
        let r = Arc::clone(&runner);
        suite.test(format!("links_and_poll::{way}"), move || {
            let layout = layout(true).unwrap();
            let got = recorded(&*reach(way, r, PLUGIN), LINK_POLL, &layout);
            let want = [
                0,                            // symlink existing.txt at /work/link
                12,                           // readlink: the target's length, no NUL
                i32::from_le_bytes(*b"exis"), // its bytes
                4,                            // readlink into 4 bytes: truncated
                -20,                          // symlink again: EEXIST
                -69,                          // symlink in the volume: EROFS
                0,                            // symlinkat AT_FDCWD work/link2
                -44,                          // readlink of a missing path: ENOENT
                0,                            // unlink /work/link
                0,                            // unlink work/link2
                2,                            // poll: two entries with events
                4,                            // stdout: POLLOUT
                0x20,                         // fd 77: POLLNVAL
                0,                            // fd -1: nothing asked for applies
            ];
            assert_eq!(got, want);
            assert_eq!(work_left(&layout), ["existing.txt"]);
        });
    }
    for way in Way::ALL {
        let r = Arc::clone(&runner);
        suite.test(format!("annotation_main_args_and_env::{way}"), move || {
            let r = reach(way, r, PLUGIN);
            let annotations = CommandAnnotations {
                emscripten: Some(Emscripten {
                    atom: Some("main".to_owned()),
                    env: Some(vec![
                        "GREETING=from manifest".to_owned(),
                        "EMPTY".to_owned(),
                    ]),
                    main_args: Some(vec!["first".to_owned()]),
                    ..Emscripten::default()
                }),
                ..CommandAnnotations::default()
            };
            let mut cbor = Vec::new();
            ciborium::into_writer(&annotations.to_cbor_value(), &mut cbor).unwrap();
            let spec = JobSpec {
                command: "args_env".to_owned(),
                annotations: cbor,
                args: vec!["two words".to_owned()],
                // A granted variable replaces the manifest's.
                env: vec![("EMPTY".to_owned(), "granted".to_owned())],
                ..JobSpec::default()
            };
            let empty = VfsBuilder::new().build().unwrap();
            let ran = run_spec(&*r, spec, &program("args_env"), b"", &empty);
            assert_eq!(ran.result, Ok(Outcome::Exit(0)));
            let stdout = String::from_utf8(ran.stdout).unwrap();
            for line in [
                "argc=3\n",
                "argv[1]=[first]\n",
                "argv[2]=[two words]\n",
                "GREETING=[from manifest]\n",
                "EMPTY=[granted]\n",
            ] {
                assert!(stdout.contains(line), "{line:?} in {stdout}");
            }
        });
    }
    for way in Way::ALL {
        let r = Arc::clone(&runner);
        suite.test(format!("invoke_of_any_signature::{way}"), move || {
            let r = reach(way, r, PLUGIN);
            let atom = wat::parse_str(INVOKE_ANY).unwrap();
            let empty = VfsBuilder::new().build().unwrap();
            let ran = run_module(&*r, &atom, &empty);
            assert_eq!(ran.result, Ok(Outcome::Exit(0)));
            // A trap is not an exception: it passes through the trampoline.
            let args = ["trap".to_owned()];
            let ran = run(&*r, &atom, "prog", &args, &[], b"", &empty);
            assert_eq!(ran.result, Ok(Outcome::Trap));
            let stderr = String::from_utf8(ran.stderr).unwrap();
            assert!(
                stderr.starts_with("error: the program trapped: "),
                "{stderr}"
            );
            // The time limit holds inside Emscripten programs too.
            let spec = JobSpec {
                command: "prog".to_owned(),
                args: vec!["loop".to_owned(), "forever".to_owned()],
                limits: webc_runner_api::Limits {
                    memory: None,
                    time: Some(std::time::Duration::from_millis(300)),
                },
                ..JobSpec::default()
            };
            let ran = run_spec(&*r, spec, &atom, b"", &empty);
            assert_eq!(ran.result, Ok(Outcome::Timeout));
        });
    }
    suite.test("every_case_has_goldens", || {
        let cases = cases();
        assert_eq!(cases.len(), 23);
        for c in &cases {
            assert!(
                tests_dir()
                    .join(format!("goldens/{}.stdout", c.name))
                    .is_file()
            );
            assert!(
                tests_dir()
                    .join(format!("goldens/{}.exit", c.name))
                    .is_file()
            );
        }
    });
    suite.run()
}
