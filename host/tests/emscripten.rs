//! End-to-end tests of Emscripten programs through the command line: a `wasmer.toml` with
//! `runner = "emscripten"` packed by the real `webc-host pack`, then run by the real
//! `webc-host run`, which loads the Emscripten plugin (`libwebc_runner_emscripten.so`)
//! from beside the binary as a user's build would find it.
//!
//! The programs are the emcc-built ones of `runners/emscripten/tests/programs/`; expected
//! stdout and exit codes are node's, recorded in `runners/emscripten/tests/goldens/`
//! (`<case>.stdout`, `<case>.exit`, the cases in `programs/cases.json`), or written out
//! literally where a test sets up something node's run did not have.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use common::{BIN, code, err, manifest_dir, out};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const URI: &str = "https://webc.org/runner/emscripten";

fn emscripten_tests() -> PathBuf {
    manifest_dir().join("../runners/emscripten/tests")
}

/// An emcc-built program of `runners/emscripten/tests/programs/`.
fn program(name: &str) -> PathBuf {
    let path = emscripten_tests().join(format!("programs/{name}.wasm"));
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// Node's stdout and exit code for a case of `cases.json`.
fn golden(case: &str) -> (String, i32) {
    let dir = emscripten_tests().join("goldens");
    let stdout = std::fs::read_to_string(dir.join(format!("{case}.stdout"))).unwrap();
    let exit = std::fs::read_to_string(dir.join(format!("{case}.exit")))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (stdout, exit)
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A scratch directory: the project, the packed package, the cache.
struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        common::plugin("webc_runner_emscripten");
        Env {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Writes `project/wasmer.toml` (`toml`) with the named programs beside it as
    /// `<name>.wasm`, packs it with `webc-host pack` and returns the package's path.
    fn pack(&self, programs: &[&str], toml: &str) -> PathBuf {
        let project = self.path("project");
        std::fs::create_dir_all(&project).unwrap();
        for name in programs {
            std::fs::copy(program(name), project.join(format!("{name}.wasm"))).unwrap();
        }
        std::fs::write(project.join("wasmer.toml"), toml).unwrap();
        let pkg = self.path("pkg.webc");
        let o = Command::new(BIN)
            .args(["pack", path_str(&project), "-o", path_str(&pkg)])
            .output()
            .unwrap();
        code(&o, 0);
        pkg
    }

    /// `webc-host run --cache-dir <tmp>/cache ARGS`, with nothing inherited that changes
    /// what runs (plugin path, logging).
    fn run(&self, args: &[&str]) -> Output {
        common::isolated_run(self.tmp.path())
            .args(args)
            .output()
            .unwrap()
    }
}

/// One `[[module]]` and one `[[command]]` of the same name on the Emscripten runner.
fn single(name: &str) -> String {
    format!(
        "[package]\nname = \"e2e/{name}\"\nversion = \"0.1.0\"\n\n\
         [[module]]\nname = \"{name}\"\nsource = \"{name}.wasm\"\n\n\
         [[command]]\nname = \"{name}\"\nmodule = \"{name}\"\nrunner = \"emscripten\"\n"
    )
}

/// Runs `args` and checks stdout and the exit code against node's, and a quiet stderr.
#[track_caller]
fn matches_golden(o: &Output, case: &str) {
    let (stdout, exit) = golden(case);
    code(o, exit);
    assert_eq!(out(o), stdout, "{case}: stdout differs from node's");
    assert!(err(o).is_empty(), "{case}: {}", err(o));
}

#[test]
fn pack_writes_the_emscripten_runner_uri_and_the_atom() {
    let env = Env::new();
    let pkg = env.pack(&["hello"], &single("hello"));
    let o = Command::new(BIN)
        .args(["inspect", path_str(&pkg), "--json"])
        .output()
        .unwrap();
    code(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cmd = &v["commands"][0];
    assert_eq!(cmd["name"], "hello");
    assert_eq!(cmd["runner"], URI);
    assert_eq!(cmd["atom"], "hello");
    assert_eq!(
        cmd["annotations"],
        serde_json::json!({ "atom": { "name": "hello" } })
    );
}

#[test]
fn hello_prints_what_node_prints() {
    let env = Env::new();
    let pkg = env.pack(&["hello"], &single("hello"));
    // The entrypoint (the only command), and the command named.
    matches_golden(&env.run(&[path_str(&pkg)]), "hello");
    matches_golden(&env.run(&[path_str(&pkg), "hello"]), "hello");
}

#[test]
fn arguments_and_granted_environment_reach_main() {
    let env = Env::new();
    let pkg = env.pack(&["args_env"], &single("args_env"));
    // `cases.json`'s args_env case: its args and env.
    let o = env.run(&[
        "--env",
        "GREETING=hi there",
        "--env",
        "EMPTY=",
        "--env",
        "WITH_EQUALS=a=b=c",
        "--env",
        "SPACES=  padded  ",
        path_str(&pkg),
        "args_env",
        "first",
        "two words",
        "",
        "ünï",
        "--flag=x",
    ]);
    matches_golden(&o, "args_env");
    // Nothing given: nothing of the host's environment either.
    let o = common::isolated_run(env.tmp.path())
        .arg(&pkg)
        .env("GREETING", "from the host's environment")
        .output()
        .unwrap();
    matches_golden(&o, "args_none");
}

#[test]
fn the_emscripten_annotation_main_args_and_env_are_used() {
    let env = Env::new();
    let toml = "[[module]]\nname = \"args_env\"\nsource = \"args_env.wasm\"\n\n\
        [[command]]\nname = \"preset\"\nmodule = \"args_env\"\nrunner = \"emscripten\"\n\
        annotations = { emscripten = { main-args = [\"first\", \"two words\"], \
        env = [\"GREETING=from the package\", \"EMPTY=\"] } }\n";
    let pkg = env.pack(&["args_env"], toml);
    // main-args come before the user's arguments; a granted variable replaces the
    // package's value of the same name.
    let o = env.run(&[
        "--env",
        "SPACES=  padded  ",
        "--env",
        "GREETING=granted",
        path_str(&pkg),
        "preset",
        "",
        "ünï",
    ]);
    code(&o, 0);
    assert_eq!(
        out(&o),
        "argc=5\n\
         argv[0] non-empty: yes\n\
         argv[1]=[first]\n\
         argv[2]=[two words]\n\
         argv[3]=[]\n\
         argv[4]=[ünï]\n\
         argv[argc] is NULL: yes\n\
         GREETING=[granted]\n\
         EMPTY=[]\n\
         WITH_EQUALS unset\n\
         SPACES=[  padded  ]\n\
         MISSING unset\n"
    );
    // Without grants: the package's env alone.
    let o = env.run(&[path_str(&pkg)]);
    code(&o, 0);
    assert!(
        out(&o).contains("argc=3\n") && out(&o).contains("GREETING=[from the package]\n"),
        "{}",
        out(&o)
    );
}

#[test]
fn exit_codes_are_nodes() {
    let env = Env::new();
    let pkg = env.pack(&["exit_code"], &single("exit_code"));
    for (case, args) in [
        ("exit_42", &["42"][..]),
        ("exit_default", &[][..]),
        ("exit_return_7", &["7", "return"][..]),
        ("exit_300", &["300"][..]),
    ] {
        let mut argv = vec![path_str(&pkg), "exit_code"];
        argv.extend_from_slice(args);
        matches_golden(&env.run(&argv), case);
    }
}

#[test]
fn explain_names_the_emscripten_runner_and_runs_nothing() {
    let env = Env::new();
    let pkg = env.pack(&["hello"], &single("hello"));
    let o = env.run(&["--explain", path_str(&pkg)]);
    code(&o, 0);
    let text = out(&o);
    let runner_line = text
        .lines()
        .find(|l| l.starts_with("runner:"))
        .unwrap_or_else(|| panic!("no runner line:\n{text}"));
    assert!(
        runner_line.contains(&format!("{URI} (emscripten "))
            && runner_line.contains("libwebc_runner_emscripten.so"),
        "{runner_line}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("atom:") && l.contains("hello")),
        "{text}"
    );
    assert!(!text.contains("hello from emscripten"), "{text}");
}

#[test]
fn paths_outside_the_grants_are_denied() {
    let env = Env::new();
    let pkg = env.pack(&["denied"], &single("denied"));
    // Node's answer for a path that does not exist.
    matches_golden(&env.run(&[path_str(&pkg)]), "denied");

    // A file that exists on the host is not there for the guest, by its host path nor
    // under a directory that is not mounted.
    let host = env.path("host");
    std::fs::create_dir_all(&host).unwrap();
    let secret = host.join("secret.txt");
    std::fs::write(&secret, "secret\n").unwrap();
    let enoent = |p: &str| {
        format!(
            "open({p}, O_RDONLY): No such file or directory\n\
             open({p}, O_WRONLY|O_CREAT): No such file or directory\n\
             opendir({p}): No such file or directory\n"
        )
    };
    let o = env.run(&[
        path_str(&pkg),
        "denied",
        path_str(&secret),
        "/data/secret.txt",
    ]);
    code(&o, 0);
    assert_eq!(
        out(&o),
        enoent(path_str(&secret)) + &enoent("/data/secret.txt")
    );

    // Mounted read-only: readable, not writable, and the host file is unchanged.
    let mount = format!("{}:/data:ro", host.display());
    let o = env.run(&[
        "--mount",
        &mount,
        path_str(&pkg),
        "denied",
        "/data/secret.txt",
    ]);
    code(&o, 0);
    assert_eq!(
        out(&o),
        "open(/data/secret.txt, O_RDONLY): opened (unexpected)\n\
         open(/data/secret.txt, O_WRONLY|O_CREAT): Read-only file system\n\
         opendir(/data/secret.txt): Not a directory\n"
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret\n");
}
