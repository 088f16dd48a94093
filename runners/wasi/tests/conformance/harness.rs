//! Running one case: fixtures, our runner in-process, the wasmtime CLI (recording), goldens.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ciborium::Value;
use sha2::{Digest as _, Sha256};
use webc_container::write::{Directory, Entry, Writer};
use webc_container::{Container, Version};
use webc_runner_api::{Job, JobSpec, Limits, Outcome, Runner};
use webc_runner_testkit::{Way, both_ways};
use webc_runner_wasi::WasiRunner;
use webc_vfs::{Mode, VfsBuilder};

/// Where the expected output of a case comes from.
#[derive(Debug, Clone, Copy)]
pub enum Golden {
    /// Recorded from `wasmtime run` 48.0.8 on the same program, fixture, args, env and stdin
    /// (`scripts/build-wasi-tests.sh --goldens`).
    Wasmtime,
    /// Ours: we differ from wasmtime on purpose, or wasmtime cannot express the setup. The
    /// reason is written here and in `tests/README.md`. `reference` records wasmtime's
    /// output next to ours (`<case>.wasmtime`) so the difference stays visible.
    Ours {
        reason: &'static str,
        reference: bool,
    },
    /// The golden of another (wasmtime-sourced) case: the same program on a container volume
    /// must print exactly what it prints on a host directory under wasmtime.
    SameAs(&'static str),
}

/// The file tree a case runs on: created fresh for every run, identical for wasmtime and us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    /// No directories.
    None,
    /// An empty writable directory at `/data`.
    Scratch,
    /// `/data` holding `hello.txt`.
    Hello,
    /// `/data` holding the directory-listing tree (`readdir.c`).
    Tree,
    /// `/data` inside a host directory that also holds `secret`, with escaping symlinks.
    Escapes,
    /// `/ro`: a read-only grant; `/vol`: a container volume; both hold `r.txt`, `sub/`.
    ReadOnly,
    /// `/data/big.bin`: 300 000 bytes, byte i = (i * 7 + i / 251) & 0xff.
    Big,
    /// `Big` as a container volume mounted at `/data`.
    BigVolume,
    /// `Hello` as a container volume mounted at `/data` (read-only).
    HelloVolume,
    /// `Tree` as a container volume mounted at `/data` (read-only).
    TreeVolume,
}

/// `wasi` command annotations (Wasmer's `main-args`, `env`, `exec-name`, `cwd`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Annotations {
    pub main_args: &'static [&'static str],
    pub env: &'static [&'static str],
    pub exec_name: Option<&'static str>,
    pub cwd: Option<&'static str>,
}

#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Golden file stem and test name.
    pub name: &'static str,
    /// `tests/programs/<program>.wasm`, or `wat:<name>` for `tests/wat/<name>.wat`.
    pub program: &'static str,
    /// User arguments (after `main-args`).
    pub args: &'static [&'static str],
    /// Granted environment.
    pub env: &'static [(&'static str, &'static str)],
    pub stdin: &'static [u8],
    pub fixture: Fixture,
    pub annotations: Option<Annotations>,
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Wall-time limit.
    pub time: Option<Duration>,
    /// Compare stderr too (otherwise it is only shown on failure).
    pub stderr: bool,
    pub golden: Golden,
}

impl Case {
    pub const fn new(name: &'static str, program: &'static str) -> Case {
        Case {
            name,
            program,
            args: &[],
            env: &[],
            stdin: b"",
            fixture: Fixture::None,
            annotations: None,
            memory: None,
            time: None,
            stderr: false,
            golden: Golden::Wasmtime,
        }
    }
    pub const fn args(mut self, args: &'static [&'static str]) -> Case {
        self.args = args;
        self
    }
    pub const fn env(mut self, env: &'static [(&'static str, &'static str)]) -> Case {
        self.env = env;
        self
    }
    pub const fn stdin(mut self, stdin: &'static [u8]) -> Case {
        self.stdin = stdin;
        self
    }
    pub const fn fixture(mut self, fixture: Fixture) -> Case {
        self.fixture = fixture;
        self
    }
    pub const fn annotations(mut self, a: Annotations) -> Case {
        self.annotations = Some(a);
        self
    }
    pub const fn memory(mut self, bytes: u64) -> Case {
        self.memory = Some(bytes);
        self
    }
    pub const fn time(mut self, t: Duration) -> Case {
        self.time = Some(t);
        self
    }
    pub const fn stderr(mut self) -> Case {
        self.stderr = true;
        self
    }
    pub const fn ours(mut self, reason: &'static str) -> Case {
        self.golden = Golden::Ours {
            reason,
            reference: true,
        };
        self
    }
    /// Expected: the golden of case `other`.
    pub const fn same_as(mut self, other: &'static str) -> Case {
        self.golden = Golden::SameAs(other);
        self
    }
    /// Ours, and wasmtime cannot run the setup at all (no reference output).
    pub const fn ours_only(mut self, reason: &'static str) -> Case {
        self.golden = Golden::Ours {
            reason,
            reference: false,
        };
        self
    }

    /// argv\[0\]: the exec name if the annotations set one, else the command (program) name.
    pub fn argv0(&self) -> &'static str {
        self.annotations
            .and_then(|a| a.exec_name)
            .unwrap_or_else(|| self.command())
    }

    fn command(&self) -> &'static str {
        self.program.strip_prefix("wat:").unwrap_or(self.program)
    }
}

/// How a run ended and what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub outcome: String,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The module's bytes: a committed `.wasm`, or a `.wat` compiled with the `wat` crate after
/// the lines `;;@prelude` and `;;@data_dir` are replaced by `tests/wat/prelude.inc` (shared
/// print helpers) and `tests/wat/dir.inc` (opening `/data`).
pub fn module(program: &str) -> Vec<u8> {
    if let Some(name) = program.strip_prefix("wat:") {
        let path = tests_dir().join("wat").join(format!("{name}.wat"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let prelude = std::fs::read_to_string(tests_dir().join("wat/prelude.inc"))
            .expect("tests/wat/prelude.inc");
        let dir =
            std::fs::read_to_string(tests_dir().join("wat/dir.inc")).expect("tests/wat/dir.inc");
        let text = text
            .replace(";;@prelude", &prelude)
            .replace(";;@data_dir", &dir);
        wat::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    } else {
        let path = tests_dir().join("programs").join(format!("{program}.wasm"));
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run scripts/build-wasi-tests.sh to build the programs)",
                path.display()
            )
        })
    }
}

/// A host directory mounted in the guest.
#[derive(Debug)]
pub struct Mount {
    pub host: PathBuf,
    pub guest: &'static str,
    pub mode: Mode,
}

/// A fixture on disk (and in a container, for volumes); removed when dropped.
pub struct Tree {
    _dir: tempfile::TempDir,
    pub mounts: Vec<Mount>,
    /// A container and the volume (named like its mount point) mounted from it.
    pub volume: Option<(Container, &'static str)>,
}

fn write(path: &Path, content: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, content).expect("write fixture");
}

fn symlink(target: &str, at: &Path) {
    std::os::unix::fs::symlink(target, at).expect("symlink fixture");
}

fn volume_file(dir: &mut Directory, path: &str, content: &str) {
    dir.insert(
        path,
        Entry::File {
            data: content.as_bytes().to_vec().into(),
            modified: 1_700_000_000,
        },
        1_700_000_000,
    )
    .expect("volume entry");
}

fn volume_dir(dir: &mut Directory, path: &str) {
    dir.insert(path, Entry::Dir(Directory::default()), 1_700_000_000)
        .expect("volume entry");
}

/// A webc v3 container holding `volume` under the name `name`.
fn container(name: &str, volume: Directory) -> Container {
    let w = Writer {
        manifest: webc_container::manifest::Manifest::default().to_cbor(),
        volumes: [(name.to_owned(), volume)].into_iter().collect(),
        ..Default::default()
    };
    let bytes = w.to_bytes(Version::V3).expect("write container");
    Container::from_bytes(bytes).expect("open container")
}

fn big_content() -> Vec<u8> {
    (0..300_000usize)
        .map(|i| ((i * 7 + i / 251) & 0xff) as u8)
        .collect()
}

pub fn build_fixture(fixture: Fixture) -> Tree {
    let dir = tempfile::Builder::new()
        .prefix("wasi-conformance-")
        .tempdir()
        .expect("tempdir");
    let root = dir.path().to_owned();
    let data = root.join("data");
    let mut mounts = Vec::new();
    let mut volume = None;
    let rw = |host: PathBuf, guest| Mount {
        host,
        guest,
        mode: Mode::ReadWrite,
    };
    match fixture {
        Fixture::None => {}
        Fixture::Scratch => {
            std::fs::create_dir(&data).expect("mkdir");
            mounts.push(rw(data, "/data"));
        }
        Fixture::Hello => {
            write(&data.join("hello.txt"), "hello, poll\n");
            mounts.push(rw(data, "/data"));
        }
        Fixture::Tree => {
            write(&data.join("a.txt"), "alpha\n");
            write(&data.join("b.txt"), "");
            write(&data.join("dir/inner.txt"), "inner\n");
            std::fs::create_dir(data.join("dir/nested")).expect("mkdir");
            std::fs::create_dir(data.join("empty")).expect("mkdir");
            symlink("a.txt", &data.join("link"));
            write(
                &data.join("a_rather_long_file_name_0123456789_abcdefghijklmnopqrstuvwxyz.txt"),
                "long\n",
            );
            for i in 0..50 {
                write(&data.join(format!("many/f{i:02}")), &format!("{i}\n"));
            }
            mounts.push(rw(data, "/data"));
        }
        Fixture::Escapes => {
            write(&root.join("secret"), "TOP SECRET\n");
            write(&data.join("f.txt"), "inside\n");
            std::fs::create_dir(data.join("sub")).expect("mkdir");
            symlink("../secret", &data.join("esc"));
            symlink("/etc/passwd", &data.join("abs"));
            symlink("../../secret", &data.join("sub/subesc"));
            symlink("f.txt", &data.join("ok"));
            symlink("loop", &data.join("loop"));
            mounts.push(rw(data, "/data"));
        }
        Fixture::ReadOnly => {
            let ro = root.join("ro");
            write(&ro.join("r.txt"), "read me\n");
            std::fs::create_dir(ro.join("sub")).expect("mkdir");
            mounts.push(Mount {
                host: ro,
                guest: "/ro",
                mode: Mode::ReadOnly,
            });
            let mut vol = Directory::default();
            volume_file(&mut vol, "/r.txt", "read me\n");
            volume_dir(&mut vol, "/sub");
            volume = Some((container("/vol", vol), "/vol"));
        }
        Fixture::Big => {
            std::fs::create_dir(&data).expect("mkdir");
            std::fs::write(data.join("big.bin"), big_content()).expect("write fixture");
            mounts.push(rw(data, "/data"));
        }
        Fixture::BigVolume => {
            let mut vol = Directory::default();
            vol.insert(
                "/big.bin",
                Entry::File {
                    data: big_content().into(),
                    modified: 1_700_000_000,
                },
                1_700_000_000,
            )
            .expect("volume entry");
            volume = Some((container("/data", vol), "/data"));
        }
        Fixture::HelloVolume => {
            let mut vol = Directory::default();
            volume_file(&mut vol, "/hello.txt", "hello, poll\n");
            volume = Some((container("/data", vol), "/data"));
        }
        Fixture::TreeVolume => {
            let mut vol = Directory::default();
            volume_file(&mut vol, "/a.txt", "alpha\n");
            volume_file(&mut vol, "/b.txt", "");
            volume_file(&mut vol, "/dir/inner.txt", "inner\n");
            volume_dir(&mut vol, "/dir/nested");
            volume_dir(&mut vol, "/empty");
            vol.insert(
                "/link",
                Entry::Symlink {
                    target: "a.txt".into(),
                    modified: 1_700_000_000,
                },
                1_700_000_000,
            )
            .expect("volume entry");
            volume_file(
                &mut vol,
                "/a_rather_long_file_name_0123456789_abcdefghijklmnopqrstuvwxyz.txt",
                "long\n",
            );
            for i in 0..50 {
                volume_file(&mut vol, &format!("/many/f{i:02}"), &format!("{i}\n"));
            }
            volume = Some((container("/data", vol), "/data"));
        }
    }
    Tree {
        _dir: dir,
        mounts,
        volume,
    }
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).expect("cbor");
    out
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn annotations_cbor(a: Option<Annotations>) -> Vec<u8> {
    let Some(a) = a else {
        return cbor(&Value::Map(vec![]));
    };
    let mut wasi = Vec::new();
    wasi.push((text("atom"), text("main")));
    if !a.main_args.is_empty() {
        wasi.push((
            text("main-args"),
            Value::Array(a.main_args.iter().map(|s| text(s)).collect()),
        ));
    }
    if !a.env.is_empty() {
        wasi.push((
            text("env"),
            Value::Array(a.env.iter().map(|s| text(s)).collect()),
        ));
    }
    if let Some(e) = a.exec_name {
        wasi.push((text("exec-name"), text(e)));
    }
    if let Some(c) = a.cwd {
        wasi.push((text("cwd"), text(c)));
    }
    cbor(&Value::Map(vec![(text("wasi"), Value::Map(wasi))]))
}

/// Runs a case through [`WasiRunner`] in-process.
pub fn run_ours(case: &Case) -> Run {
    run_with(case, &WasiRunner::default())
}

/// Runs a case through `runner`: the static [`WasiRunner`] or its dlopened plugin.
pub fn run_with(case: &Case, runner: &dyn Runner) -> Run {
    let atom = module(case.program);
    let tree = build_fixture(case.fixture);
    let mut b = VfsBuilder::new();
    if let Some((c, guest)) = &tree.volume {
        b = b
            .mount_volume(guest, c.volume(guest).expect("volume"), "/")
            .expect("mount volume");
    }
    for m in &tree.mounts {
        b = b.grant_dir(&m.host, m.guest, m.mode).expect("grant");
    }
    let vfs = b.build().expect("vfs");
    let spec = JobSpec {
        command: case.command().to_owned(),
        runner_uri: "https://webc.org/runner/wasi".to_owned(),
        atom_name: "main".to_owned(),
        atom_kind: "https://webc.org/kind/wasm".to_owned(),
        atom_sha256: hex::encode(Sha256::digest(&atom)),
        annotations: annotations_cbor(case.annotations),
        atom_annotations: cbor(&Value::Map(vec![])),
        args: case.args.iter().map(|s| (*s).to_owned()).collect(),
        env: case
            .env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        limits: Limits {
            memory: case.memory,
            time: case.time,
        },
        ..Default::default()
    };
    let mut stdin = case.stdin;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let job = Job {
        host: &webc_runner_api::NoHostServices,
        spec,
        atom: &atom,
        fs: &vfs,
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let outcome = match runner.run(job) {
        Ok(Outcome::Exit(n)) => format!("exit {n}"),
        Ok(Outcome::Trap) => "trap".to_owned(),
        Ok(Outcome::Timeout) => "timeout".to_owned(),
        Err(e) => format!("runner error: {e}"),
    };
    Run {
        outcome,
        stdout,
        stderr,
    }
}

/// `$WASMTIME`, or `wasmtime` from `PATH` (scripts/build-wasi-tests.sh sets `WASMTIME`).
pub fn wasmtime_path() -> PathBuf {
    std::env::var_os("WASMTIME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("wasmtime"))
}

/// Runs a case with the wasmtime CLI: `--dir HOST::GUEST` per mount (wasmtime's CLI grants
/// are always read-write), `--env` for the annotations' and the granted env, argv\[0\] via
/// `--argv0`, `main-args` before the user args.
pub fn run_wasmtime(case: &Case) -> Run {
    let tree = build_fixture(case.fixture);
    let tmp = tempfile::tempdir().expect("tempdir");
    let module_path = if case.program.starts_with("wat:") {
        let p = tmp.path().join("module.wasm");
        std::fs::write(&p, module(case.program)).expect("write module");
        p
    } else {
        tests_dir()
            .join("programs")
            .join(format!("{}.wasm", case.program))
    };
    let mut cmd = Command::new(wasmtime_path());
    cmd.arg("run").arg("--argv0").arg(case.argv0());
    // No cache: nothing from earlier runs.
    cmd.arg("-C").arg("cache=n");
    for m in &tree.mounts {
        cmd.arg("--dir")
            .arg(format!("{}::{}", m.host.display(), m.guest));
    }
    let a = case.annotations.unwrap_or_default();
    for e in a.env {
        cmd.arg("--env").arg(e);
    }
    for (k, v) in case.env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    if let Some(m) = case.memory {
        cmd.arg("-W").arg(format!("max-memory-size={m}"));
    }
    if let Some(t) = case.time {
        cmd.arg("-W").arg(format!("timeout={}ms", t.as_millis()));
    }
    cmd.arg(&module_path);
    cmd.args(a.main_args).args(case.args);
    // A host variable that must not reach the guest (wasmtime passes none by default).
    cmd.env("SECRET_TOKEN", "leaked");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn wasmtime (set WASMTIME)");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(case.stdin).expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("wasmtime");
    // Temporary paths would make the reference files differ on every recording.
    let stderr = String::from_utf8_lossy(&out.stderr)
        .replace(&module_path.display().to_string(), "<module>")
        .into_bytes();
    let outcome = match out.status.code() {
        // The CLI exits 128+SIGABRT on a trap (and on its timeout, which is a trap).
        Some(134) => "trap".to_owned(),
        Some(n) => format!("exit {n}"),
        None => format!("killed: {}", out.status),
    };
    Run {
        outcome,
        stdout: out.stdout,
        stderr,
    }
}

pub fn golden_path(name: &str, ext: &str) -> PathBuf {
    tests_dir().join("goldens").join(format!("{name}.{ext}"))
}

/// `<header>\noutcome: O\n--- stdout N bytes\n<stdout>[\n--- stderr M bytes\n<stderr>]`.
pub fn render(header: &str, run: &Run, with_stderr: bool) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(format!("outcome: {}\n", run.outcome).as_bytes());
    out.extend_from_slice(format!("--- stdout {} bytes\n", run.stdout.len()).as_bytes());
    out.extend_from_slice(&run.stdout);
    if with_stderr {
        out.extend_from_slice(format!("\n--- stderr {} bytes\n", run.stderr.len()).as_bytes());
        out.extend_from_slice(&run.stderr);
    }
    out
}

/// Parses a golden: comment lines (`#`), then what [`render`] wrote.
pub fn parse(bytes: &[u8]) -> Result<Run, String> {
    let mut rest = bytes;
    let line = |rest: &mut &[u8]| -> Result<String, String> {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("unterminated header line")?;
        let l = String::from_utf8(rest[..end].to_vec()).map_err(|e| e.to_string())?;
        *rest = &rest[end + 1..];
        Ok(l)
    };
    let mut l = line(&mut rest)?;
    while l.starts_with('#') {
        l = line(&mut rest)?;
    }
    let outcome = l
        .strip_prefix("outcome: ")
        .ok_or(format!("expected `outcome: `, got {l:?}"))?
        .to_owned();
    let take = |rest: &mut &[u8], l: &str, what: &str| -> Result<Vec<u8>, String> {
        let n: usize = l
            .strip_prefix(&format!("--- {what} "))
            .and_then(|s| s.strip_suffix(" bytes"))
            .ok_or(format!("expected `--- {what} N bytes`, got {l:?}"))?
            .parse()
            .map_err(|e| format!("{e}"))?;
        if rest.len() < n {
            return Err(format!("{what}: {n} bytes announced, {} left", rest.len()));
        }
        let v = rest[..n].to_vec();
        *rest = &rest[n..];
        Ok(v)
    };
    let l = line(&mut rest)?;
    let stdout = take(&mut rest, &l, "stdout")?;
    let mut stderr = Vec::new();
    if !rest.is_empty() {
        if rest[0] != b'\n' {
            return Err("garbage after stdout".into());
        }
        rest = &rest[1..];
        let l = line(&mut rest)?;
        stderr = take(&mut rest, &l, "stderr")?;
        if !rest.is_empty() {
            return Err("garbage after stderr".into());
        }
    }
    Ok(Run {
        outcome,
        stdout,
        stderr,
    })
}

pub fn header(case: &Case) -> String {
    match case.golden {
        Golden::Wasmtime => format!(
            "# {}: recorded from wasmtime 48.0.8 by scripts/build-wasi-tests.sh --goldens\n",
            case.name
        ),
        Golden::Ours { reason, .. } => format!("# {}: ours ({reason})\n", case.name),
        Golden::SameAs(other) => format!("# {}: see {other}\n", case.name),
    }
}

/// A readable line diff (the first differing lines, with context).
pub fn diff(expected: &[u8], actual: &[u8]) -> String {
    let e: Vec<&str> = std::str::from_utf8(expected)
        .unwrap_or("<binary>")
        .lines()
        .collect();
    let a: Vec<&str> = std::str::from_utf8(actual)
        .unwrap_or("<binary>")
        .lines()
        .collect();
    let mut out = String::new();
    let mut shown = 0;
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            out.push_str(&format!(
                "  line {}:\n    expected: {}\n    actual:   {}\n",
                i + 1,
                x.map_or("<none>".to_owned(), |s| format!("{s:?}")),
                y.map_or("<none>".to_owned(), |s| format!("{s:?}"))
            ));
            shown += 1;
            if shown == 8 {
                out.push_str("  …\n");
                break;
            }
        }
    }
    if out.is_empty() && expected != actual {
        out.push_str("  (differ only in line endings or trailing bytes)\n");
    }
    out
}

/// Runs a case through our runner both ways — the statically linked [`WasiRunner`], then its
/// plugin library `libwebc_runner_wasi.so` through the ABI boundary — and compares each run
/// with the golden; a failure names the way(s) that failed.
pub fn check(case: &Case) {
    let path = match case.golden {
        Golden::SameAs(other) => golden_path(other, "out"),
        _ => golden_path(case.name, "out"),
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\n(wasmtime goldens: scripts/build-wasi-tests.sh --goldens)",
            path.display()
        )
    });
    let expected = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let failed: Vec<String> = both_ways(Arc::new(WasiRunner::default()), "webc_runner_wasi")
        .into_iter()
        .filter_map(|(way, runner)| compare(case, way, &expected, &run_with(case, &*runner)))
        .collect();
    if !failed.is_empty() {
        panic!(
            "case {} ({}) does not match {}:\n{}",
            case.name,
            match case.golden {
                Golden::Wasmtime => "golden from wasmtime",
                Golden::Ours { .. } => "our golden",
                Golden::SameAs(_) => "wasmtime's golden of the host-directory case",
            },
            path.display(),
            failed.join("\n"),
        );
    }
}

/// What differs between `expected` and the run `way` (None: nothing).
fn compare(case: &Case, way: Way, expected: &Run, actual: &Run) -> Option<String> {
    let mut problems = String::new();
    if expected.outcome != actual.outcome {
        problems.push_str(&format!(
            "outcome: expected `{}`, actual `{}`\n",
            expected.outcome, actual.outcome
        ));
    }
    if expected.stdout != actual.stdout {
        problems.push_str(&format!(
            "stdout differs:\n{}",
            diff(&expected.stdout, &actual.stdout)
        ));
    }
    if case.stderr && expected.stderr != actual.stderr {
        problems.push_str(&format!(
            "stderr differs:\n{}",
            diff(&expected.stderr, &actual.stderr)
        ));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "=== through the {way} runner{}:\n{problems}--- our stdout ({way}):\n{}\n--- our stderr ({way}):\n{}",
            match way {
                Way::Static => " (WasiRunner linked in)",
                Way::Plugin => " (libwebc_runner_wasi.so, dlopened)",
            },
            String::from_utf8_lossy(&actual.stdout),
            String::from_utf8_lossy(&actual.stderr),
        )
    })
}
