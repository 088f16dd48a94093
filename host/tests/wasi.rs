//! End-to-end tests of WASI programs: the real `webc-host` binary loading the real WASI
//! plugin (`libwebc_runner_wasi.so`, found beside the binary as a user's build would find
//! it; `cargo build -p webc-runner-wasi-plugin` puts it there) and running C programs
//! compiled to wasm32-wasi (`host/tests/wasi-programs/`, rebuilt by
//! `scripts/build-wasi-tests.sh`).
//!
//! Expected outputs are written out literally from the files each test puts in its package:
//! nothing is compared against the runner's own earlier output.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use common::{BIN, code, err, fixture, manifest_dir, out};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bytes::Bytes;
use ciborium::Value;
use sha2::{Digest as _, Sha256};
use webc_container::Version;
use webc_container::manifest::{
    AtomMeta, Command as Cmd, CommandAnnotations, FsMapping, KIND_WASM, Manifest,
    PackageAnnotations, Wasi, atom_signature,
};
use webc_container::write::{Directory, Entry, Writer};

/// What the runner logs (its crate docs) at debug level; the host re-emits plugin events
/// under the target `webc_runner` (with a `plugin` field naming the plugin's module).
const LOG_COMPILED: &str = "compiled module";
const LOG_HIT: &str = "precompiled module cache hit";
const LOG_REJECTED: &str = "precompiled artifact rejected";

/// A compiled test program from `host/tests/wasi-programs/`.
fn program(name: &str) -> PathBuf {
    let path = manifest_dir().join(format!("tests/wasi-programs/{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-wasi-tests.sh",
        path.display()
    );
    path
}

/// The WASI plugin is built beside the binary (fails saying how to build it).
fn check_plugin() {
    common::plugin("webc_runner_wasi");
}

/// A scratch directory with its own cache and plugin-data dirs.
struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        check_plugin();
        Env {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    /// `webc-host run --cache-dir <tmp>/cache ARGS`, with nothing inherited that changes
    /// what runs (plugin path, logging).
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::isolated_run(self.tmp.path());
        c.args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// The same, with the runner plugins' debug log on stderr.
    fn run_logged(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .env("WEBC_LOG", "webc_runner=debug")
            .output()
            .unwrap()
    }
}

/// A failure the host reports (no panic, no signal): a non-zero exit code and an `error:`
/// line.
#[track_caller]
fn clear_failure(o: &Output) {
    let status = o.status.code();
    assert!(
        matches!(status, Some(c) if c != 0 && c != 101),
        "status {:?}\n--- stderr\n{}",
        o.status,
        err(o)
    );
    assert!(err(o).contains("error:"), "{}", err(o));
    assert!(!err(o).contains("panicked"), "{}", err(o));
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

// ---------------------------------------------------------------------------------------
// The fixtures

#[test]
fn fixtures_print_what_their_module_prints() {
    let env = Env::new();
    // hello.wat writes "hello\n" with one fd_write; every fixture carries it as atom "hello".
    for name in [
        "sample-v1.webc",
        "sample-v2.webc",
        "sample-v3.webc",
        "sample-v3-nosymlinks.webc",
    ] {
        let pkg = fixture(name);
        let o = env.run(&[path_str(&pkg), "hello"]);
        code(&o, 0);
        assert_eq!(out(&o), "hello\n", "{name}\n{}", err(&o));
        // The entrypoint is `hello` too.
        let o = env.run(&[path_str(&pkg)]);
        code(&o, 0);
        assert_eq!(out(&o), "hello\n", "{name}");
    }
    // The fixture's module on its own, as a bare module.
    let o = env.run(&[path_str(&fixture("hello.wasm"))]);
    code(&o, 0);
    assert_eq!(out(&o), "hello\n");
}

// ---------------------------------------------------------------------------------------
// A package program: argv, env, cwd, volumes — the same on v3 and v2

const INSPECT_ENV: [&str; 2] = ["GREETING=hello there", "EMPTY="];
const MAIN_ARGS: [&str; 2] = ["--from-manifest", "two words"];

/// The files of the package's `/data` volume: (path, content).
const DATA_FILES: [(&str, &str); 5] = [
    ("hello.txt", "hello from the volume\n"),
    ("empty.txt", ""),
    ("nested/a.txt", "a\n"),
    ("nested/deeper/b.txt", "deep b\n"),
    ("nested/ünïcödé.txt", "unicode name\n"),
];

/// Writes a `wasmer.toml` project for `inspect.wasm` in `dir`, with `/data` and (when
/// `links`) a `/links` volume holding symlinks, and returns the project directory.
fn inspect_project(dir: &Path, links: bool) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("data/nested/empty-dir")).unwrap();
    for (path, content) in DATA_FILES {
        let p = project.join("data").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    std::fs::copy(program("inspect"), project.join("inspect.wasm")).unwrap();
    let mut fs_table = String::from("[fs]\n\"/data\" = \"data\"\n");
    if links {
        let l = project.join("links");
        std::fs::create_dir_all(l.join("sub")).unwrap();
        std::fs::write(l.join("target.txt"), "reached through a link\n").unwrap();
        std::os::unix::fs::symlink("target.txt", l.join("link")).unwrap();
        std::os::unix::fs::symlink("../target.txt", l.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("sub", l.join("dir-link")).unwrap();
        fs_table.push_str("\"/links\" = \"links\"\n");
    }
    let env_list: Vec<String> = INSPECT_ENV.iter().map(|e| format!("{e:?}")).collect();
    let args_list: Vec<String> = MAIN_ARGS.iter().map(|a| format!("{a:?}")).collect();
    std::fs::write(
        project.join("wasmer.toml"),
        format!(
            "[package]\nname = \"e2e/inspect\"\nversion = \"0.1.0\"\n\n{fs_table}\n\
             [[module]]\nname = \"inspect\"\nsource = \"inspect.wasm\"\nabi = \"wasi\"\n\n\
             [[command]]\nname = \"inspect\"\nmodule = \"inspect\"\nrunner = \"wasi\"\n\
             annotations = {{ wasi = {{ env = [{}], main-args = [{}], cwd = \"/data\", exec-name = \"inspect-bin\" }} }}\n",
            env_list.join(", "),
            args_list.join(", "),
        ),
    )
    .unwrap();
    project
}

/// The v3 package as `wasmer package build` would write it: `webc-host pack`.
fn inspect_v3(env: &Env) -> PathBuf {
    let project = inspect_project(env.tmp.path(), true);
    let pkg = env.path("inspect-v3.webc");
    let o = Command::new(BIN)
        .args(["pack", path_str(&project), "-o", path_str(&pkg)])
        .output()
        .unwrap();
    code(&o, 0);
    pkg
}

/// The same program and `/data` files as webc v2, laid out as Wasmer's v2 writer does:
/// one `atom` volume with the mapped directory nested at its host path, an `fs` mapping
/// with `host_path`, and Wasmer's `wasi@unstable_` runner URI.
fn inspect_v2(env: &Env) -> PathBuf {
    let wasm = std::fs::read(program("inspect")).unwrap();
    let mut atom_volume = Directory::default();
    for (path, content) in DATA_FILES {
        atom_volume
            .insert(
                &format!("/data/{path}"),
                Entry::File {
                    data: Bytes::from_static(content.as_bytes()),
                    modified: 0,
                },
                0,
            )
            .unwrap();
    }
    atom_volume
        .insert(
            "/data/nested/empty-dir",
            Entry::Dir(Directory::default()),
            0,
        )
        .unwrap();
    let wasi = Wasi {
        atom: "inspect".into(),
        env: Some(INSPECT_ENV.iter().map(|s| s.to_string()).collect()),
        main_args: Some(MAIN_ARGS.iter().map(|s| s.to_string()).collect()),
        cwd: Some("/data".into()),
        exec_name: Some("inspect-bin".into()),
        ..Default::default()
    };
    let mut annotations = CommandAnnotations {
        wasi: Some(wasi),
        ..Default::default()
    };
    annotations
        .extra
        .insert("atom", Value::Map(vec![(t("name"), t("inspect"))]));
    let manifest = Manifest {
        package: Some(PackageAnnotations {
            fs: Some(vec![FsMapping {
                from: None,
                volume_name: "atom".into(),
                host_path: Some("/data".into()),
                mount_path: "/data".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        atoms: Some(
            [(
                "inspect".to_owned(),
                AtomMeta {
                    kind: KIND_WASM.into(),
                    signature: atom_signature(&Sha256::digest(&wasm).into()),
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
        ),
        commands: Some(
            [(
                "inspect".to_owned(),
                Cmd {
                    runner: "https://webc.org/runner/wasi@unstable_".into(),
                    annotations,
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
        ),
        entrypoint: Some("inspect".into()),
        ..Default::default()
    };
    let w = Writer {
        manifest: manifest.to_cbor(),
        atoms: [("inspect".to_owned(), Bytes::from(wasm))]
            .into_iter()
            .collect(),
        volumes: [
            ("atom".to_owned(), atom_volume),
            ("metadata".to_owned(), Directory::default()),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    let pkg = env.path("inspect-v2.webc");
    w.write_to(Version::V2, &pkg).unwrap();
    pkg
}

/// What both packages are asked to do, and what they must print.
const COMMON_ARGS: [&str; 17] = [
    "user arg",
    "ls:/data",
    "ls:/data/nested",
    "stat:/data/hello.txt",
    "stat:/data/nested",
    "cat:/data/nested/deeper/b.txt",
    "cat:/data/nested/ünïcödé.txt",
    "cat:/data/empty.txt",
    // `wasi.cwd` (/data) is the directory preopened as `.` (fd 3).
    "at3:hello.txt",
    "at3:nested/a.txt",
    // `..` moves in the guest's namespace, whose root is the top: never out to the host.
    "at3:../../etc/passwd",
    // wasi-libc resolves relative paths against its preopen table, where `/` (fd 4) wins:
    // the runner's documented choice, so absolute paths are always right.
    "cat:data/nested/a.txt",
    // Volumes are read-only and nothing else of the host is there.
    "cat:/data/missing.txt",
    "write:/data/new.txt",
    "stat:/etc/passwd",
    // The private /tmp is writable.
    "write:/tmp/new.txt",
    "cat:/tmp/new.txt",
];

fn common_expected(extra_env: &[&str]) -> String {
    let mut s = String::new();
    let argv: Vec<&str> = ["inspect-bin"]
        .into_iter()
        .chain(MAIN_ARGS)
        .chain(COMMON_ARGS)
        .collect();
    s.push_str(&format!("argc={}\n", argv.len()));
    for (i, a) in argv.iter().enumerate() {
        s.push_str(&format!("argv[{i}]={a}\n"));
    }
    let mut env: Vec<&str> = INSPECT_ENV.iter().chain(extra_env).copied().collect();
    env.sort();
    for e in env {
        s.push_str(&format!("env {e}\n"));
    }
    // wasi-libc keeps its own working directory ("/" at start: there is no WASI call to
    // ask for it); `wasi.cwd` is the preopen `.`.
    s.push_str("cwd=/\npreopen 3 .\npreopen 4 /\n");
    s.push_str(
        "ls /data:\n\
         \x20 empty.txt file 0\n\
         \x20 hello.txt file 22\n\
         \x20 nested dir\n\
         ls /data/nested:\n\
         \x20 a.txt file 2\n\
         \x20 deeper dir\n\
         \x20 empty-dir dir\n\
         \x20 ünïcödé.txt file 13\n\
         stat /data/hello.txt: file 22\n\
         stat /data/nested: dir\n\
         cat /data/nested/deeper/b.txt: deep b\n\
         cat /data/nested/ünïcödé.txt: unicode name\n\
         cat /data/empty.txt: \n\
         at3 hello.txt: hello from the volume\n\
         at3 nested/a.txt: a\n\
         at3 ../../etc/passwd: error: Operation not permitted\n\
         cat data/nested/a.txt: a\n\
         cat /data/missing.txt: error: No such file or directory\n\
         write /data/new.txt: error: Operation not permitted\n\
         stat /etc/passwd: error: No such file or directory\n\
         write /tmp/new.txt: ok\n\
         cat /tmp/new.txt: written\n",
    );
    s
}

#[test]
fn a_package_program_sees_argv_env_cwd_and_volumes_on_v3_and_v2() {
    let env = Env::new();
    let v3 = inspect_v3(&env);
    let v2 = inspect_v2(&env);
    // The project directory itself, packed in memory by `run`.
    let project = env.path("project");
    let want = common_expected(&[]);
    let mut outputs = Vec::new();
    for pkg in [&v3, &v2, &project] {
        let mut args = vec![path_str(pkg), "inspect"];
        args.extend(COMMON_ARGS);
        let o = env
            .cmd(&args)
            // Not granted, so the program must not see it.
            .env("WEBC_E2E_SECRET", "s3cret")
            .output()
            .unwrap();
        // Three of the operations fail on purpose: exit status 1.
        code(&o, 1);
        assert_eq!(out(&o), want, "{}\n--- stderr\n{}", pkg.display(), err(&o));
        outputs.push(out(&o));
    }
    assert_eq!(outputs[0], outputs[1], "v3 and v2 differ");
    assert_eq!(outputs[0], outputs[2], "the .webc and its directory differ");

    // Granted host variables are added to the manifest's: by name (the host's value) or
    // with a value.
    for pkg in [&v3, &v2] {
        let mut args = vec![
            "--env",
            "WEBC_E2E_SECRET",
            "--env",
            "GIVEN=1",
            path_str(pkg),
            "inspect",
        ];
        args.extend(COMMON_ARGS);
        let o = env
            .cmd(&args)
            .env("WEBC_E2E_SECRET", "s3cret")
            .output()
            .unwrap();
        code(&o, 1);
        assert_eq!(
            out(&o),
            common_expected(&["WEBC_E2E_SECRET=s3cret", "GIVEN=1"]),
            "{}",
            pkg.display()
        );
    }
}

#[test]
fn symlinks_in_a_v3_volume() {
    let env = Env::new();
    let v3 = inspect_v3(&env);
    let o = env.run(&[
        path_str(&v3),
        "inspect",
        "ls:/",
        "ls:/links",
        "ls:/links/sub",
        "readlink:/links/link",
        "cat:/links/link",
        "cat:/links/sub/up",
        "cat:/links/dir-link/up",
        "stat:/links/link",
        "stat:/links/dir-link",
        "readlink:/links/target.txt",
    ]);
    code(&o, 1);
    let text = out(&o);
    let body = text.split_once("preopen 4 /\n").unwrap().1;
    assert_eq!(
        body,
        "ls /:\n\
         \x20 data dir\n\
         \x20 links dir\n\
         \x20 tmp dir\n\
         ls /links:\n\
         \x20 dir-link symlink -> sub\n\
         \x20 link symlink -> target.txt\n\
         \x20 sub dir\n\
         \x20 target.txt file 23\n\
         ls /links/sub:\n\
         \x20 up symlink -> ../target.txt\n\
         readlink /links/link: target.txt\n\
         cat /links/link: reached through a link\n\
         cat /links/sub/up: reached through a link\n\
         cat /links/dir-link/up: reached through a link\n\
         stat /links/link: file 23\n\
         stat /links/dir-link: dir\n\
         readlink /links/target.txt: error: Invalid argument\n",
        "{text}\n--- stderr\n{}",
        err(&o)
    );
}

// ---------------------------------------------------------------------------------------
// Bare modules: `webc-host run prog.wasm -- ARGS`

#[test]
fn a_bare_module_gets_its_arguments() {
    let env = Env::new();
    let tool = program("tool");
    let o = env.run(&[path_str(&tool), "--", "args", "a", "b c", "--flag", ""]);
    code(&o, 0);
    let text = out(&o);
    let lines: Vec<&str> = text.split('\n').collect();
    // argv[0] is the program's name (the command the module became).
    assert_eq!(lines[0], "tool", "{text}");
    assert_eq!(
        &lines[1..],
        ["args", "a", "b c", "--flag", "", ""],
        "{text}"
    );
}

#[test]
fn exit_codes_pass_through() {
    let env = Env::new();
    let tool = program("tool");
    for (n, want) in [("0", 0), ("3", 3), ("42", 42), ("255", 255)] {
        let o = env.run(&[path_str(&tool), "--", "exit", n]);
        code(&o, want);
        assert!(err(&o).is_empty(), "{}", err(&o));
    }
    // A usage error of the program itself is just its exit code.
    let o = env.run(&[path_str(&tool)]);
    code(&o, 64);
    assert!(err(&o).starts_with("usage: tool"), "{}", err(&o));
}

#[test]
fn a_trap_exits_134_with_the_message_on_stderr() {
    let env = Env::new();
    let o = env.run(&[path_str(&program("tool")), "--", "trap"]);
    code(&o, 134);
    // What the program wrote before trapping is not lost.
    assert_eq!(out(&o), "about to trap\n");
    assert!(err(&o).contains("unreachable"), "{}", err(&o));
}

#[test]
fn the_time_limit_stops_an_endless_loop_with_124() {
    let env = Env::new();
    let o = env.run(&["--timeout", "1s", path_str(&program("tool")), "--", "loop"]);
    code(&o, 124);
    assert!(err(&o).contains("time limit"), "{}", err(&o));
}

#[test]
fn fuel_stops_an_endless_loop_as_a_trap() {
    let env = Env::new();
    let o = env.run(&[
        "--runner-opt",
        "fuel=100000",
        path_str(&program("tool")),
        "--",
        "loop",
    ]);
    code(&o, 134);
    assert!(err(&o).contains("fuel"), "{}", err(&o));
    // Runner options are checked.
    let o = env.run(&["--runner-opt", "fuel=lots", path_str(&program("tool"))]);
    clear_failure(&o);
    assert!(err(&o).contains("fuel"), "{}", err(&o));
}

#[test]
fn the_memory_limit_makes_malloc_fail() {
    let env = Env::new();
    let tool = program("tool");
    let o = env.run(&[path_str(&tool), "--", "alloc", "64"]);
    code(&o, 0);
    assert_eq!(out(&o), "allocated 64 MiB\n");
    let o = env.run(&["--memory", "16MiB", path_str(&tool), "--", "alloc", "64"]);
    code(&o, 2);
    assert_eq!(out(&o), "malloc failed\n");
    // Within the limit it still works.
    let o = env.run(&["--memory", "16MiB", path_str(&tool), "--", "alloc", "4"]);
    code(&o, 0);
    assert_eq!(out(&o), "allocated 4 MiB\n");
}

#[test]
fn a_memory_limit_below_the_initial_memory_refuses_to_start() {
    let env = Env::new();
    // tool.wasm starts with more than one 64 KiB page (its stack alone is 64 KiB).
    let o = env.run(&[
        "--memory",
        "64KiB",
        path_str(&program("tool")),
        "--",
        "args",
    ]);
    clear_failure(&o);
    assert!(out(&o).is_empty(), "{}", out(&o));
    assert!(err(&o).contains("memory"), "{}", err(&o));
}

#[test]
fn mounts_read_only_and_read_write() {
    let env = Env::new();
    let tool = program("tool");
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("in.txt"), "from the host\n").unwrap();

    let ro = format!("{}:/data:ro", host.display());
    let o = env.run(&["--mount", &ro, path_str(&tool), "--", "cat", "/data/in.txt"]);
    code(&o, 0);
    assert_eq!(out(&o), "from the host\n");
    // A write through a read-only mount fails with EPERM and leaves the host untouched.
    let o = env.run(&[
        "--mount",
        &ro,
        path_str(&tool),
        "--",
        "write",
        "/data/new.txt",
        "x",
    ]);
    code(&o, 1);
    assert_eq!(
        err(&o),
        "write /data/new.txt: error: Operation not permitted\n"
    );
    assert!(!host.join("new.txt").exists());
    let o = env.run(&[
        "--mount",
        &ro,
        path_str(&tool),
        "--",
        "write",
        "/data/in.txt",
        "x",
    ]);
    code(&o, 1);
    assert_eq!(
        std::fs::read_to_string(host.join("in.txt")).unwrap(),
        "from the host\n"
    );

    // Read-write (explicit, and the default mode): the file appears on the host.
    for (mount, file) in [
        (format!("{}:/out:rw", host.display()), "new.txt"),
        (format!("{}:/out", host.display()), "default.txt"),
    ] {
        let guest = format!("/out/{file}");
        let o = env.run(&[
            "--mount",
            &mount,
            path_str(&tool),
            "--",
            "write",
            &guest,
            "written by the guest",
        ]);
        code(&o, 0);
        assert_eq!(
            std::fs::read_to_string(host.join(file)).unwrap(),
            "written by the guest"
        );
    }
}

#[test]
fn nothing_of_the_host_is_visible_unless_mounted() {
    let env = Env::new();
    let tool = program("tool");
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("in.txt"), "from the host\n").unwrap();
    std::fs::write(env.path("outside.txt"), "secret outside the mount\n").unwrap();
    std::os::unix::fs::symlink(env.path("outside.txt"), host.join("abs-escape")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", host.join("rel-escape")).unwrap();

    // The host path itself means nothing to the guest.
    let inside = host.join("in.txt");
    let o = env.run(&[path_str(&tool), "--", "cat", path_str(&inside)]);
    code(&o, 1);
    assert_eq!(
        err(&o),
        format!(
            "cat {}: error: No such file or directory\n",
            inside.display()
        )
    );
    // Symlinks in a mounted directory cannot lead out of it.
    let mount = format!("{}:/data:ro", host.display());
    for link in [
        "/data/abs-escape",
        "/data/rel-escape",
        "/data/../outside.txt",
    ] {
        let o = env.run(&["--mount", &mount, path_str(&tool), "--", "cat", link]);
        code(&o, 1);
        assert!(out(&o).is_empty(), "{link}: {}", out(&o));
        assert!(
            err(&o).starts_with(&format!("cat {link}: error: ")),
            "{link}: {}",
            err(&o)
        );
    }
}

#[test]
fn stdin_is_streamed_to_the_program() {
    let env = Env::new();
    let input: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut child = env
        .cmd(&[path_str(&program("tool")), "--", "stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feed = input.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&feed).unwrap());
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    code(&o, 0);
    assert!(o.stdout == input, "{} bytes back", o.stdout.len());
}

#[test]
fn legacy_wasi_unstable_imports_work_with_their_own_layouts() {
    let env = Env::new();
    let o = env.run(&[path_str(&program("preview0"))]);
    code(&o, 7);
    // The same as `wasmtime run` prints for this program.
    assert_eq!(
        out(&o),
        "hello from wasi_unstable\n\
         seek end-3: errno 0 offset 7\n\
         seek set+2: errno 0 offset 2\n\
         filestat: errno 0 filetype 4 nlink 1 size 10\n"
    );
}

#[test]
fn an_unknown_import_is_refused_naming_it() {
    let env = Env::new();
    let o = env.run(&[path_str(&program("unknown-import"))]);
    code(&o, 126);
    assert!(out(&o).is_empty(), "{}", out(&o));
    assert!(
        err(&o).contains("env") && err(&o).contains("webc_nope"),
        "{}",
        err(&o)
    );
}

#[test]
fn malformed_modules_are_clear_errors() {
    let env = Env::new();
    let valid = std::fs::read(program("tool")).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("magic-only.wasm", b"\0asm".to_vec()),
        ("garbage.wasm", {
            let mut b = b"\0asm\x01\0\0\0".to_vec();
            b.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
            b
        }),
        ("wrong-version.wasm", b"\0asm\x0d\0\x01\0".to_vec()),
        ("truncated.wasm", valid[..valid.len() / 2].to_vec()),
    ];
    for (name, bytes) in cases {
        let path = env.path(name);
        std::fs::write(&path, bytes).unwrap();
        let o = env.run(&[path_str(&path)]);
        clear_failure(&o);
        code(&o, 126);
        assert!(out(&o).is_empty(), "{name}: {}", out(&o));
    }
}

// ---------------------------------------------------------------------------------------
// The precompiled cache

/// Every file below `dir`.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// The cached artifact of `wasm`: the one file under the WASI runner's cache directory
/// whose path names the module's SHA-256.
fn artifact_of(env: &Env, wasm: &Path) -> PathBuf {
    let sha = hex::encode(Sha256::digest(std::fs::read(wasm).unwrap()));
    let dir = env.cache().join("artifacts/wasi");
    let hits: Vec<PathBuf> = files_below(&dir)
        .into_iter()
        .filter(|p| path_str(p).contains(&sha))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "one artifact for {sha} in {:?}",
        files_below(&dir)
    );
    hits.into_iter().next().unwrap()
}

/// Log lines of the WASI runner that mention `what`.
fn log_lines(o: &Output, what: &str) -> usize {
    err(o)
        .lines()
        .filter(|l| l.contains(what) && (what != LOG_COMPILED || !l.contains("precompiled module")))
        .count()
}

#[test]
fn the_second_run_uses_the_precompiled_module() {
    let env = Env::new();
    let tool = program("tool");
    let args = [path_str(&tool), "--", "args", "x"];

    let first = env.run_logged(&args);
    code(&first, 0);
    assert_eq!(out(&first), "tool\nargs\nx\n");
    assert_eq!(log_lines(&first, LOG_COMPILED), 1, "{}", err(&first));
    assert_eq!(log_lines(&first, LOG_HIT), 0, "{}", err(&first));
    let artifact = artifact_of(&env, &tool);

    let second = env.run_logged(&args);
    code(&second, 0);
    assert_eq!(out(&second), "tool\nargs\nx\n");
    assert_eq!(log_lines(&second, LOG_HIT), 1, "{}", err(&second));
    assert_eq!(log_lines(&second, LOG_COMPILED), 0, "{}", err(&second));

    // Artifacts are private to the user.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&artifact).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");

    // Without logging, a cached run prints nothing but the program's output.
    let quiet = env.run(&args);
    code(&quiet, 0);
    assert!(err(&quiet).is_empty(), "{}", err(&quiet));
}

#[test]
fn a_corrupted_artifact_is_rejected_and_recompiled() {
    let env = Env::new();
    let tool = program("tool");
    let args = [path_str(&tool), "--", "args", "x"];
    code(&env.run(&args), 0);
    let artifact = artifact_of(&env, &tool);
    let good = std::fs::read(&artifact).unwrap();

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let corruptions: Vec<(&str, Vec<u8>)> = vec![
        ("one flipped byte", flipped),
        ("truncated", good[..good.len() / 3].to_vec()),
        ("empty", Vec::new()),
        ("not an artifact", b"\x7fELF not really".to_vec()),
    ];
    for (what, bytes) in corruptions {
        std::fs::write(&artifact, &bytes).unwrap();
        let o = env.run_logged(&args);
        code(&o, 0);
        assert_eq!(out(&o), "tool\nargs\nx\n", "{what}");
        assert_eq!(log_lines(&o, LOG_REJECTED), 1, "{what}: {}", err(&o));
        assert_eq!(log_lines(&o, LOG_COMPILED), 1, "{what}: {}", err(&o));
        assert_eq!(log_lines(&o, LOG_HIT), 0, "{what}: {}", err(&o));
        // The recompiled module replaced it: the next run hits again.
        let o = env.run_logged(&args);
        code(&o, 0);
        assert_eq!(log_lines(&o, LOG_HIT), 1, "{what}: {}", err(&o));
    }
}

#[test]
fn another_modules_artifact_is_never_run_in_its_place() {
    let env = Env::new();
    let tool = program("tool");
    let inspect = program("inspect");
    code(&env.run(&[path_str(&tool), "--", "args"]), 0);
    code(&env.run(&[path_str(&inspect)]), 0);
    let tool_artifact = artifact_of(&env, &tool);
    let inspect_artifact = artifact_of(&env, &inspect);
    // A valid artifact, but of another module, under tool's name.
    std::fs::copy(&inspect_artifact, &tool_artifact).unwrap();
    let o = env.run_logged(&[path_str(&tool), "--", "args", "x"]);
    code(&o, 0);
    assert_eq!(out(&o), "tool\nargs\nx\n", "{}", err(&o));
    assert_eq!(log_lines(&o, LOG_REJECTED), 1, "{}", err(&o));
}

#[test]
fn cache_off_compiles_every_time_and_stores_nothing() {
    let env = Env::new();
    let tool = program("tool");
    for _ in 0..2 {
        let o = env.run_logged(&["--runner-opt", "cache=off", path_str(&tool), "--", "args"]);
        code(&o, 0);
        assert_eq!(log_lines(&o, LOG_COMPILED), 1, "{}", err(&o));
        assert_eq!(log_lines(&o, LOG_HIT), 0, "{}", err(&o));
    }
    assert!(
        files_below(&env.cache().join("artifacts")).is_empty(),
        "{:?}",
        files_below(&env.cache())
    );
}

#[test]
fn packages_use_the_cache_too() {
    let env = Env::new();
    let pkg = fixture("sample-v3.webc");
    let first = env.run_logged(&[path_str(&pkg), "hello"]);
    code(&first, 0);
    assert_eq!(log_lines(&first, LOG_COMPILED), 1, "{}", err(&first));
    // The same atom in another package (v2) shares the artifact: it is keyed by content.
    let second = env.run_logged(&[path_str(&fixture("sample-v2.webc")), "hello"]);
    code(&second, 0);
    assert_eq!(out(&second), "hello\n");
    assert_eq!(log_lines(&second, LOG_HIT), 1, "{}", err(&second));
}

/// Wasmer's own `cowsay` package (v2, `wasi_unstable` imports), as shipped in the test data
/// of the `webc` crate the container tests depend on: found through `cargo metadata`
/// (offline, for this platform only: packages of other platforms, e.g. Windows-only
/// dependencies of clap, are never downloaded by a Linux build).
fn wasmer_cowsay() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .unwrap();
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names the host triple");
    let o = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(manifest_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "cargo metadata: {}", err(&o));
    let meta: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let webc = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "webc" && p["version"] == "12.0.1")
        .expect("the webc 12.0.1 dev-dependency");
    let manifest = PathBuf::from(webc["manifest_path"].as_str().unwrap());
    manifest.parent().unwrap().join("tests/cowsay.webc")
}

#[test]
fn wasmers_cowsay_package_runs() {
    let env = Env::new();
    let pkg = wasmer_cowsay();
    let pkg = pkg.to_str().unwrap();
    let o = env.run(&[pkg, "cowsay", "hello", "from", "webc-host"]);
    code(&o, 0);
    assert_eq!(
        out(&o),
        concat!(
            " ______________________\n",
            "< hello from webc-host >\n",
            " ----------------------\n",
            "        \\   ^__^\n",
            "         \\  (oo)\\_______\n",
            "            (__)\\       )\\/\\\n",
            "               ||----w |\n",
            "                ||     ||\n",
        )
    );
    // Its other command, and the message from stdin.
    let mut child = env
        .cmd(&[pkg, "cowthink"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"moo").unwrap();
    let o = child.wait_with_output().unwrap();
    code(&o, 0);
    assert!(
        out(&o).starts_with(" _____\n( moo )\n -----\n        o   ^__^"),
        "{}",
        out(&o)
    );
}
