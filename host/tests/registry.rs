//! The runner registry with real plugins: discovery order, the executable-directory filter,
//! refused directories, the metadata cache, every load error quarantined one by one while
//! the echo plugin beside them keeps working, static registration, and `webc-host runners`.
//!
//! The echo plugin is the workspace's `libwebc_runner_test_echo.so` (`scripts/test.sh`
//! builds it first); the misbehaving plugins in `tests/plugins/` (their own workspace) are
//! built by this test binary, once. A missing plugin fails the tests; nothing is skipped.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use webc_host::registry::{
    DirStatus, DiscoveryOptions, Entry, Origin, Preferences, Registry, Source, Status,
};
use webc_runner_api::abi::{INTERFACE_MAJOR, INTERFACE_VERSION, LoadError, LoadedRunner};

use common::{BIN, ECHO_URI};

const ANY_KIND: &str = "https://webc.org/kind/wasm";

fn echo_plugin() -> PathBuf {
    common::plugin("webc_runner_test_echo")
}

/// Builds `tests/plugins/` (once per test binary) and returns its output directory.
fn bad_plugins() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/plugins");
        let target = root.join("target");
        let out = Command::new(env!("CARGO"))
            .arg("build")
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building the test plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(env!("CARGO"))
            .arg("build")
            .arg("--manifest-path")
            .arg(root.join("older-minor/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building the interface-1.0 test plugin failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("debug")
    })
}

fn bad_plugin(name: &str) -> PathBuf {
    let path = bad_plugins().join(format!("libwebc_test_{name}.so"));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A real system library that is not a plugin: libm from the directory libc was loaded from.
fn system_library() -> PathBuf {
    let maps = fs::read_to_string("/proc/self/maps").unwrap();
    let libc = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("/libc.so"))
        .expect("libc is mapped");
    let libm = Path::new(libc).parent().unwrap().join("libm.so.6");
    assert!(libm.exists(), "{} not found", libm.display());
    libm
}

/// Sets a file's or directory's mode (plugin files and directories must not be writable by
/// group or others, whatever the umask the tests run under).
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A private (0700) directory with copies (0755) of the given files.
fn plugin_dir(files: &[(&str, &Path)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, src) in files {
        fs::copy(src, dir.path().join(name)).unwrap();
        chmod(&dir.path().join(name), 0o755);
    }
    dir
}

fn text_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    chmod(&p, 0o644);
    p
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A FIFO at `path` (made, never opened).
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

/// The registry does not remember a plugin changed less than 100 ms ago (its `ctime` could
/// stay the same through a second change): wait that out where a test expects a warm cache.
fn settle() {
    std::thread::sleep(Duration::from_millis(150));
}

/// Inode timestamps move with the kernel's clock tick (a few ms): wait one out, so a change
/// made next gets a new `ctime`.
fn tick() {
    std::thread::sleep(Duration::from_millis(30));
}

fn entry_at<'a>(r: &'a Registry, file: &str) -> &'a Entry {
    r.entries()
        .iter()
        .find(|e| match e.source() {
            Source::Plugin { path, .. } => path.file_name().unwrap() == file,
            Source::Static => false,
        })
        .unwrap_or_else(|| panic!("no entry for {file}: {:?}", r.entries()))
}

fn quarantine_of(r: &Registry, file: &str) -> String {
    match entry_at(r, file).check() {
        Status::Quarantined(why) => why,
        other => panic!("{file} is {other}, expected quarantined"),
    }
}

#[test]
fn each_load_error_directly() {
    let dir = tempfile::tempdir().unwrap();
    let junk = text_file(dir.path(), "junk.so", "not a library\n");
    let missing = dir.path().join("missing.so");
    assert!(matches!(
        LoadedRunner::load(&missing),
        Err(LoadError::Open { .. })
    ));
    assert!(matches!(
        LoadedRunner::load(&junk),
        Err(LoadError::Open { .. })
    ));
    let libm = dir.path().join("libm.so");
    fs::copy(system_library(), &libm).unwrap();
    assert!(matches!(
        LoadedRunner::load(&libm),
        Err(LoadError::NotAPlugin { .. })
    ));
    match LoadedRunner::load(&bad_plugin("wrong_version")) {
        Err(LoadError::Version {
            expected, found, ..
        }) => {
            assert_eq!(expected, INTERFACE_VERSION);
            assert_eq!(found, "99.0.0");
        }
        other => panic!("wrong_version: {other:?}"),
    }
    match LoadedRunner::load(&bad_plugin("wrong_layout")) {
        Err(LoadError::Layout {
            expected, summary, ..
        }) => {
            assert_eq!(expected, INTERFACE_VERSION);
            eprintln!("layout summary: {summary}");
            assert!(
                summary.len() > 20,
                "a summary that says something: {summary:?}"
            );
        }
        other => panic!("wrong_layout: {other:?}"),
    }
    for name in ["init_error", "bad_info"] {
        assert!(
            matches!(
                LoadedRunner::load(&bad_plugin(name)),
                Err(LoadError::Info { .. })
            ),
            "{name}"
        );
    }
    assert!(LoadedRunner::load(&echo_plugin()).is_ok());
}

#[test]
fn every_bad_plugin_is_quarantined_and_the_echo_plugin_still_works() {
    let libm = system_library();
    let (wv, wl, ie, bi) = (
        bad_plugin("wrong_version"),
        bad_plugin("wrong_layout"),
        bad_plugin("init_error"),
        bad_plugin("bad_info"),
    );
    let echo = echo_plugin();
    let dir = plugin_dir(&[
        ("a-wrong-version.so", &wv),
        ("b-wrong-layout.so", &wl),
        ("c-init-error.so", &ie),
        ("d-bad-info.so", &bi),
        ("e-libm.so", &libm),
        ("f-echo.so", &echo),
    ]);
    text_file(dir.path(), "g-junk.so", "#!/bin/sh\necho not a library\n");
    text_file(dir.path(), "ignored.txt", "not a candidate");
    let r = Registry::discover(&DiscoveryOptions::only([dir.path()]));

    assert_eq!(r.entries().len(), 7, "{:?}", r.entries());
    assert_eq!(
        quarantine_of(&r, "a-wrong-version.so"),
        format!(
            "built for runner interface 99.0.0, this host speaks {INTERFACE_VERSION}: \
             rebuild it against a webc-runner-api of interface {INTERFACE_MAJOR}"
        )
    );
    assert!(quarantine_of(&r, "b-wrong-layout.so").starts_with(
        "incompatible runner interface layout: built against a modified webc-runner-api"
    ));
    let why = quarantine_of(&r, "c-init-error.so");
    assert!(
        why.starts_with("failed to describe itself: info() panicked: init-error test plugin"),
        "{why}"
    );
    let why = quarantine_of(&r, "d-bad-info.so");
    assert!(why.starts_with("failed to describe itself: "), "{why}");
    assert_eq!(
        quarantine_of(&r, "e-libm.so"),
        "not a webc-host runner plugin (it exports no runner root module)"
    );
    assert_eq!(
        quarantine_of(&r, "g-junk.so"),
        "cannot dlopen it: not a shared library (no ELF header)"
    );
    for e in r.entries() {
        if let Some(why) = e.quarantine_reason() {
            assert!(!why.contains('\n'), "one line: {why:?}");
        }
    }

    // The echo plugin beside them works.
    let echo_entry = entry_at(&r, "f-echo.so");
    assert_eq!(echo_entry.check(), Status::Ok);
    let sel = r.select(ECHO_URI, ANY_KIND, &Preferences::new()).unwrap();
    assert_eq!(sel.info.name, "test-echo");
    assert_eq!(
        sel.source,
        Source::Plugin {
            path: dir.path().join("f-echo.so"),
            origin: Origin::Flag
        }
    );
    assert_eq!(sel.runner.info().name, "test-echo");
    assert_eq!(
        sel.runner.availability(),
        webc_runner_api::Availability::Available
    );
}

#[test]
fn metadata_cache_hits_invalidation_and_corruption() {
    let echo = echo_plugin();
    let dir = plugin_dir(&[("echo.so", &echo)]);
    text_file(dir.path(), "junk.so", "junk");
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path().join("sub/plugins.json");
    let opts = DiscoveryOptions::only([dir.path()]).with_metadata_cache(&cache);
    settle();

    // Cold: everything is loaded once, and the cache is written.
    let r1 = Registry::discover(&opts);
    let (echo1, junk1) = (entry_at(&r1, "echo.so"), entry_at(&r1, "junk.so"));
    assert!(echo1.is_loaded() && !echo1.metadata_from_cache());
    assert!(junk1.is_loaded() && !junk1.metadata_from_cache());
    let written: Value = serde_json::from_slice(&fs::read(&cache).unwrap()).unwrap();
    assert_eq!(
        written["plugins"].as_object().unwrap().len(),
        2,
        "{written}"
    );

    // Warm: nothing is dlopened, quarantines come from the cache too.
    let r2 = Registry::discover(&opts);
    let (echo2, junk2) = (entry_at(&r2, "echo.so"), entry_at(&r2, "junk.so"));
    assert!(!echo2.is_loaded() && echo2.metadata_from_cache());
    assert!(!junk2.is_loaded() && junk2.metadata_from_cache());
    assert_eq!(echo2.name(), Some("test-echo"));
    assert!(junk2.quarantine_reason().unwrap().contains("no ELF header"));
    // Selecting loads just the runner chosen.
    let sel = r2.select(ECHO_URI, ANY_KIND, &Preferences::new()).unwrap();
    assert_eq!(sel.info.name, "test-echo");
    assert!(echo2.is_loaded());
    assert!(!junk2.is_loaded());
    drop((r1, r2));

    // A touched plugin is re-read; the other still comes from the cache.
    let later = SystemTime::now() + Duration::from_secs(5);
    filetime::set_file_mtime(
        dir.path().join("echo.so"),
        filetime::FileTime::from_system_time(later),
    )
    .unwrap();
    settle();
    let r3 = Registry::discover(&opts);
    assert!(!entry_at(&r3, "echo.so").metadata_from_cache());
    assert!(entry_at(&r3, "echo.so").is_loaded());
    assert!(entry_at(&r3, "junk.so").metadata_from_cache());
    drop(r3);

    // A replaced file is re-read: junk.so becomes a (non-plugin) real library.
    fs::remove_file(dir.path().join("junk.so")).unwrap();
    fs::copy(system_library(), dir.path().join("junk.so")).unwrap();
    settle();
    let r4 = Registry::discover(&opts);
    assert!(!entry_at(&r4, "junk.so").metadata_from_cache());
    assert!(
        quarantine_of(&r4, "junk.so").starts_with("not a webc-host runner plugin"),
        "{}",
        quarantine_of(&r4, "junk.so")
    );
    assert!(entry_at(&r4, "echo.so").metadata_from_cache());
    drop(r4);

    // A corrupt cache is ignored and rebuilt.
    for garbage in [&b"\x00\xff{{{ not json"[..], b"{\"format\": 1}", b""] {
        fs::write(&cache, garbage).unwrap();
        let r5 = Registry::discover(&opts);
        assert!(r5.entries().iter().all(|e| !e.metadata_from_cache()));
        assert_eq!(r5.get("test-echo").unwrap().check(), Status::Ok);
        let rebuilt: Value = serde_json::from_slice(&fs::read(&cache).unwrap()).unwrap();
        assert_eq!(rebuilt["plugins"].as_object().unwrap().len(), 2);
        drop(r5);
        let r6 = Registry::discover(&opts);
        assert!(r6.entries().iter().all(Entry::metadata_from_cache));
    }

    // A plugin that vanishes between discovery and selection: a clear error, no crash.
    // (glibc's dlopen finds an already-loaded library by name even after its file is gone,
    // so this uses a file this process never loaded, described by a hand-written cache.)
    let gone_dir = plugin_dir(&[]);
    let gone = text_file(gone_dir.path(), "gone.so", "never loaded");
    let gone = fs::canonicalize(gone).unwrap();
    let meta = fs::metadata(&gone).unwrap();
    let key = {
        use std::os::unix::fs::MetadataExt as _;
        serde_json::json!({
            "size": meta.size(), "mtime": meta.mtime(), "mtime_nsec": meta.mtime_nsec(),
            "ctime": meta.ctime(), "ctime_nsec": meta.ctime_nsec(),
            "dev": meta.dev(), "ino": meta.ino(),
        })
    };
    let info = serde_json::to_value(webc_runner_api::Runner::info(
        &webc_runner_test_echo::EchoRunner,
    ))
    .unwrap();
    let hand_written = serde_json::json!({
        "format": 2,
        "host": env!("CARGO_PKG_VERSION"),
        "interface": INTERFACE_VERSION,
        "plugins": { gone.to_str().unwrap(): { "key": key, "info": info } },
    });
    let gone_cache = cache_dir.path().join("gone.json");
    fs::write(&gone_cache, hand_written.to_string()).unwrap();
    let r7 = Registry::discover(
        &DiscoveryOptions::only([gone_dir.path()]).with_metadata_cache(&gone_cache),
    );
    let entry = r7.get("test-echo").unwrap();
    assert!(entry.metadata_from_cache() && !entry.is_loaded());
    fs::remove_file(&gone).unwrap();
    let e = r7
        .select(ECHO_URI, ANY_KIND, &Preferences::new())
        .unwrap_err();
    assert!(matches!(e, webc_host::Error::NoUsable { .. }), "{e}");
    assert!(
        e.to_string()
            .ends_with("test-echo: cannot dlopen it: no such file"),
        "{e}"
    );
    assert_eq!(
        entry.check(),
        Status::Quarantined("cannot dlopen it: no such file".into())
    );
}

#[test]
fn world_writable_directories_and_files_are_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let echo = echo_plugin();
    let open = plugin_dir(&[("echo.so", &echo)]);
    fs::set_permissions(open.path(), fs::Permissions::from_mode(0o1777)).unwrap();
    let r = Registry::discover(&DiscoveryOptions::only([open.path()]));
    assert!(r.entries().is_empty(), "{:?}", r.entries());
    let DirStatus::Refused(why) = &r.directories()[0].status else {
        panic!("{:?}", r.directories());
    };
    assert_eq!(
        why,
        &format!(
            "world-writable (mode 1777): anyone could plant a plugin there; run `chmod go-w {}`",
            open.path().display()
        )
    );

    let dir = plugin_dir(&[("echo.so", &echo)]);
    fs::set_permissions(
        dir.path().join("echo.so"),
        fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let r = Registry::discover(&DiscoveryOptions::only([dir.path()]));
    assert_eq!(
        quarantine_of(&r, "echo.so"),
        format!(
            "world-writable (mode 777): anyone could replace it; run `chmod go-w {}`",
            dir.path().join("echo.so").display()
        )
    );
    assert!(
        !entry_at(&r, "echo.so").is_loaded(),
        "refused before dlopen"
    );
    let e = r
        .select(ECHO_URI, ANY_KIND, &Preferences::new())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "no runner serves https://webc-host.test/runner/echo; available: none (no runner plugins \
         were found; see `webc-host runners`) (1 plugin is quarantined; see `webc-host runners`)"
    );
}

#[test]
fn duplicate_names_first_in_search_order_wins() {
    let echo = echo_plugin();
    let first = plugin_dir(&[("one.so", &echo)]);
    let second = plugin_dir(&[("two.so", &echo), ("again.so", &echo)]);
    let r = Registry::discover(&DiscoveryOptions::only([first.path(), second.path()]));
    assert_eq!(entry_at(&r, "one.so").check(), Status::Ok);
    let expected = format!(
        "runner name `test-echo` is already provided by {}",
        first.path().join("one.so").display()
    );
    assert_eq!(quarantine_of(&r, "two.so"), expected);
    assert_eq!(quarantine_of(&r, "again.so"), expected);
    // The same file reached twice counts once, and so does a skipped one.
    fs::create_dir(first.path().join("dir.so")).unwrap();
    let r = Registry::discover(&DiscoveryOptions::only([first.path(), first.path()]));
    assert_eq!(r.entries().len(), 2, "{:?}", r.entries());
    assert!(entry_at(&r, "dir.so").is_skipped());
    assert_eq!(r.directories().len(), 2);
}

#[test]
fn a_static_runner_takes_precedence_over_a_plugin_of_the_same_name() {
    let echo = echo_plugin();
    let dir = plugin_dir(&[("echo.so", &echo)]);
    let mut r = Registry::discover(&DiscoveryOptions::only([dir.path()]));
    r.register_static(Arc::new(webc_runner_test_echo::EchoRunner));
    assert!(r.entries()[0].is_static());
    assert_eq!(r.entries()[0].check(), Status::Ok);
    assert_eq!(
        quarantine_of(&r, "echo.so"),
        "runner name `test-echo` is taken by a statically registered runner"
    );
    let sel = r.select(ECHO_URI, ANY_KIND, &Preferences::new()).unwrap();
    assert_eq!(sel.source, Source::Static);
}

#[test]
fn preference_between_a_plugin_and_a_static_runner() {
    // A static runner serving the echo URI under another name, with a higher priority.
    struct Other;
    impl webc_runner_api::Runner for Other {
        fn info(&self) -> webc_runner_api::RunnerInfo {
            let mut info = webc_runner_api::Runner::info(&webc_runner_test_echo::EchoRunner);
            info.name = "other-echo".into();
            info.priority = 5;
            info
        }
        fn run(
            &self,
            job: webc_runner_api::Job<'_>,
        ) -> Result<webc_runner_api::Outcome, webc_runner_api::RunnerError> {
            webc_runner_api::Runner::run(&webc_runner_test_echo::EchoRunner, job)
        }
    }
    let echo = echo_plugin();
    let dir = plugin_dir(&[("echo.so", &echo)]);
    let mut r = Registry::discover(&DiscoveryOptions::only([dir.path()]));
    r.register_static(Arc::new(Other));
    let none = Preferences::new();
    assert_eq!(
        r.select(ECHO_URI, ANY_KIND, &none).unwrap().info.name,
        "other-echo"
    );
    let mut prefs = Preferences::new();
    prefs.prefer(ECHO_URI, "test-echo").unwrap();
    let sel = r.select(ECHO_URI, ANY_KIND, &prefs).unwrap();
    assert_eq!(sel.info.name, "test-echo");
    assert!(matches!(sel.source, Source::Plugin { .. }));
}

// ---- the CLI ----

fn webc(args: &[&std::ffi::OsStr], envs: &[(&str, &Path)], exe: &Path) -> Output {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env_remove("WEBC_LOG")
        .env_remove("WEBC_HOST_PLUGINS")
        .env_remove("XDG_DATA_HOME");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn runner_with_source<'a>(report: &'a Value, path: &Path) -> &'a Value {
    report["runners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == path.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {} in {report:#}", path.display()))
}

#[test]
fn runners_command_human_and_json() {
    let echo = echo_plugin();
    let wv = bad_plugin("wrong_version");
    let dir = plugin_dir(&[("echo.so", &echo), ("wrong-version.so", &wv)]);
    let open = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(open.path(), fs::Permissions::from_mode(0o777)).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let env = [("HOME", home.path()), ("XDG_DATA_HOME", home.path())];
    let args = |json: bool| {
        let mut a: Vec<&std::ffi::OsStr> = vec![
            "runners".as_ref(),
            "--plugins".as_ref(),
            dir.path().as_os_str(),
            "--plugins".as_ref(),
            open.path().as_os_str(),
        ];
        if json {
            a.push("--json".as_ref());
        }
        a
    };

    let out = webc(&args(false), &env, Path::new(BIN));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let echo_block = format!(
        "test-echo 0.1.0: ok\n    test-only: echoes its job\n    serves    {ECHO_URI} (any version)\n    \
         atoms     *\n    priority  0\n    backend   echo\n    options   cat, behave\n    source    {} (--plugins)\n",
        dir.path().join("echo.so").display()
    );
    assert!(text.starts_with(&echo_block), "{text}");
    assert!(
        text.contains(&format!(
            "wrong-version.so: quarantined: built for runner interface 99.0.0, this host speaks \
             {INTERFACE_VERSION}: rebuild it against a webc-runner-api of interface {INTERFACE_MAJOR}\n    source    {} (--plugins)\n",
            dir.path().join("wrong-version.so").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "plugin directory {} (--plugins): refused: world-writable (mode 777): anyone could \
             plant a plugin there; run `chmod go-w {}`\n",
            open.path().display(),
            open.path().display()
        )),
        "{text}"
    );

    let report = json_of(&webc(&args(true), &env, Path::new(BIN)));
    let e = runner_with_source(&report, &dir.path().join("echo.so"));
    assert_eq!(e["name"], "test-echo");
    assert_eq!(e["status"], "ok");
    assert_eq!(e["reason"], Value::Null);
    assert_eq!(e["origin"], "flag");
    assert_eq!(e["priority"], 0);
    assert_eq!(e["backend"], "echo");
    assert_eq!(e["atom_kinds"], serde_json::json!(["*"]));
    assert_eq!(
        e["serves"],
        serde_json::json!([{"uri": ECHO_URI, "versions": "*"}])
    );
    let q = runner_with_source(&report, &dir.path().join("wrong-version.so"));
    assert_eq!(q["status"], "quarantined");
    assert_eq!(q["name"], Value::Null);
    assert!(q["reason"].as_str().unwrap().contains("99.0.0"));
    let dirs = report["directories"].as_array().unwrap();
    assert_eq!(dirs[0]["status"], "searched");
    assert_eq!(dirs[0]["candidates"], 2);
    assert_eq!(dirs[1]["status"], "refused");
    assert!(
        dirs[1]["reason"]
            .as_str()
            .unwrap()
            .contains("world-writable")
    );
}

#[test]
fn discovery_order_through_the_cli() {
    let echo = echo_plugin();
    let flag = plugin_dir(&[("echo.so", &echo)]);
    let env_a = plugin_dir(&[("echo.so", &echo)]);
    let env_b = plugin_dir(&[]);
    text_file(env_b.path(), "junk.so", "junk");
    let data = tempfile::tempdir().unwrap();
    let xdg_plugins = data.path().join("webc-host/plugins");
    fs::create_dir_all(&xdg_plugins).unwrap();
    chmod(&xdg_plugins, 0o755);
    fs::copy(&echo, xdg_plugins.join("echo.so")).unwrap();
    let list = std::env::join_paths([env_a.path(), env_b.path()]).unwrap();
    let out = Command::new(BIN)
        .args(["runners", "--json", "--plugins"])
        .arg(flag.path())
        .env("WEBC_HOST_PLUGINS", &list)
        .env("XDG_DATA_HOME", data.path())
        .env_remove("WEBC_LOG")
        .output()
        .unwrap();
    let report = json_of(&out);

    // Every source in order; the first test-echo wins, later copies are duplicates.
    let flag_echo = flag.path().join("echo.so");
    assert_eq!(runner_with_source(&report, &flag_echo)["status"], "ok");
    let dup = format!(
        "runner name `test-echo` is already provided by {}",
        flag_echo.display()
    );
    for p in [
        env_a.path().join("echo.so"),
        xdg_plugins.join("echo.so"),
        echo.clone(), // the executable's directory: target/<profile>/
    ] {
        let r = runner_with_source(&report, &p);
        assert_eq!(r["status"], "quarantined", "{r:#}");
        assert_eq!(r["reason"], dup.as_str(), "{r:#}");
    }
    assert_eq!(
        runner_with_source(&report, &env_b.path().join("junk.so"))["status"],
        "quarantined"
    );
    let origins: Vec<&str> = report["runners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["origin"].as_str().unwrap())
        .collect();
    let rank = |o: &str| {
        ["flag", "env", "exe-plugins", "exe-dir", "xdg"]
            .iter()
            .position(|x| *x == o)
            .unwrap()
    };
    assert!(
        origins.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{origins:?}"
    );
    let dir_origins: Vec<&str> = report["directories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["origin"].as_str().unwrap())
        .collect();
    assert_eq!(
        dir_origins,
        ["flag", "env", "env", "exe-plugins", "exe-dir", "xdg"]
    );
}

#[test]
fn the_executable_directory_only_offers_libwebc_runner_files() {
    // A copy of the binary in a directory of its own, with plugins beside it.
    let home = tempfile::Builder::new()
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let bin = home.path().join("webc-host");
    if fs::hard_link(BIN, &bin).is_err() {
        fs::copy(BIN, &bin).unwrap();
    }
    let echo = echo_plugin();
    fs::copy(&echo, home.path().join("libwebc_runner_echo_copy.so")).unwrap();
    text_file(home.path(), "libwebc_runner_junk.so", "junk");
    text_file(home.path(), "libother.so", "junk, but not a candidate here");
    fs::create_dir(home.path().join("plugins")).unwrap();
    chmod(&home.path().join("plugins"), 0o755);
    text_file(
        &home.path().join("plugins"),
        "anything.so",
        "junk, a candidate here",
    );
    let data = tempfile::tempdir().unwrap();
    let report = json_of(&webc(
        &["runners".as_ref(), "--json".as_ref()],
        &[("XDG_DATA_HOME", data.path())],
        &bin,
    ));
    let sources: Vec<&str> = report["runners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    let p = |n: &str| home.path().join(n).to_str().unwrap().to_owned();
    assert_eq!(
        sources,
        [
            p("plugins/anything.so"),
            p("libwebc_runner_echo_copy.so"),
            p("libwebc_runner_junk.so")
        ],
        "{report:#}"
    );
    assert_eq!(
        runner_with_source(&report, &home.path().join("libwebc_runner_echo_copy.so"))["status"],
        "ok"
    );
}

// ---- hardening (issue 9) ----

/// The plugin metadata cache is keyed on `ctime` too: a plugin fixed in place with its old
/// size and mtime put back is re-read, so `run` (which uses the cache) and `runners`
/// (which loads everything) agree about which plugin wins.
#[test]
fn a_plugin_fixed_in_place_with_its_old_mtime_is_re_read() {
    let echo = echo_plugin();
    let good = fs::read(&echo).unwrap();
    let dir = plugin_dir(&[("a.so", &echo), ("b.so", &echo)]);
    let a = dir.path().join("a.so");
    let write_at_start = |bytes: &[u8]| {
        use std::io::Write as _;
        let mut f = fs::OpenOptions::new().write(true).open(&a).unwrap();
        f.write_all(bytes).unwrap();
    };
    write_at_start(b"JUNK"); // no ELF header any more: quarantined, and cached as such
    let broken = fs::metadata(&a).unwrap();
    settle();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path().join("plugins.json");
    let run_view = DiscoveryOptions::only([dir.path()]).with_metadata_cache(&cache);
    let runners_view = DiscoveryOptions::only([dir.path()]);
    let winner = |r: &Registry| match r.select(ECHO_URI, ANY_KIND, &Preferences::new()) {
        Ok(sel) => sel.source,
        Err(e) => panic!("{e}"),
    };
    let b_wins = Source::Plugin {
        path: dir.path().join("b.so"),
        origin: Origin::Flag,
    };
    let r = Registry::discover(&run_view);
    assert!(quarantine_of(&r, "a.so").contains("no ELF header"));
    assert_eq!(winner(&r), b_wins);
    drop(r);
    let r = Registry::discover(&run_view);
    assert!(
        entry_at(&r, "a.so").metadata_from_cache(),
        "the quarantine is cached"
    );
    drop(r);

    // Fixed in place: same inode, same size, the old mtime put back.
    tick();
    write_at_start(&good[..4]);
    filetime::set_file_mtime(&a, filetime::FileTime::from_last_modification_time(&broken)).unwrap();
    let fixed = fs::metadata(&a).unwrap();
    {
        use std::os::unix::fs::MetadataExt as _;
        assert_eq!(
            (
                fixed.len(),
                fixed.mtime(),
                fixed.mtime_nsec(),
                fixed.dev(),
                fixed.ino()
            ),
            (
                broken.len(),
                broken.mtime(),
                broken.mtime_nsec(),
                broken.dev(),
                broken.ino()
            ),
            "only ctime tells the change"
        );
        assert_ne!(
            (fixed.ctime(), fixed.ctime_nsec()),
            (broken.ctime(), broken.ctime_nsec())
        );
    }
    let a_wins = Source::Plugin {
        path: a.clone(),
        origin: Origin::Flag,
    };
    let run = Registry::discover(&run_view);
    let runners = Registry::discover(&runners_view);
    assert!(!entry_at(&run, "a.so").metadata_from_cache(), "re-read");
    for r in [&run, &runners] {
        assert_eq!(entry_at(r, "a.so").check(), Status::Ok);
        assert!(
            quarantine_of(r, "b.so").starts_with("runner name `test-echo` is already provided by")
        );
        assert_eq!(winner(r), a_wins);
    }
    drop((run, runners));

    // The permission angle: a plugin we may not read is listed as such, not remembered as
    // "no ELF header"; `chmod 644` (mtime unchanged) makes it work. Root reads any file, so
    // there the 000 file simply works (the listing is checked as another user in
    // `runners_lists_every_skipped_candidate_with_its_reason`).
    tick();
    chmod(&a, 0o000);
    let r = Registry::discover(&run_view);
    if euid() == 0 {
        assert_eq!(
            entry_at(&r, "a.so").check(),
            Status::Ok,
            "root reads a 000 file"
        );
    } else {
        let e = entry_at(&r, "a.so");
        assert!(e.is_skipped() && !e.is_loaded(), "{e:?}");
        assert!(
            e.quarantine_reason()
                .unwrap()
                .starts_with("unreadable: permission denied"),
            "{e:?}"
        );
        assert_eq!(winner(&r), b_wins);
    }
    drop(r);
    tick();
    chmod(&a, 0o644);
    let r = Registry::discover(&run_view);
    assert_eq!(entry_at(&r, "a.so").check(), Status::Ok);
    assert_eq!(winner(&r), a_wins);
}

/// Plugin directories and files must be owned by us or root and not writable by group or
/// others; the refusal says how to fix it, and the fix works.
#[test]
fn group_writable_and_foreign_owned_plugins_are_refused() {
    let echo = echo_plugin();
    let cache_dir = tempfile::tempdir().unwrap();
    let discover = |dir: &Path| {
        Registry::discover(
            &DiscoveryOptions::only([dir]).with_metadata_cache(cache_dir.path().join("p.json")),
        )
    };
    let refusal = |r: &Registry| match &r.directories()[0].status {
        DirStatus::Refused(why) => {
            assert!(r.entries().is_empty(), "{:?}", r.entries());
            why.clone()
        }
        other => panic!("not refused: {other:?}"),
    };

    // A group-writable directory.
    let dir = plugin_dir(&[("echo.so", &echo)]);
    chmod(dir.path(), 0o775);
    assert_eq!(
        refusal(&discover(dir.path())),
        format!(
            "writable by group (mode 775): the group's members could plant a plugin there; \
             run `chmod go-w {}`",
            dir.path().display()
        )
    );
    chmod(dir.path(), 0o755); // what the message says
    assert_eq!(
        discover(dir.path()).get("test-echo").unwrap().check(),
        Status::Ok
    );

    // A group-writable file: quarantined before it is dlopened, and not cached.
    let file = dir.path().join("echo.so");
    chmod(&file, 0o775);
    let r = discover(dir.path());
    assert_eq!(
        quarantine_of(&r, "echo.so"),
        format!(
            "writable by group (mode 775): the group's members could replace it; run `chmod go-w {}`",
            file.display()
        )
    );
    assert!(!entry_at(&r, "echo.so").is_loaded() && !entry_at(&r, "echo.so").metadata_from_cache());
    chmod(&file, 0o755);
    assert_eq!(
        discover(dir.path()).get("test-echo").unwrap().check(),
        Status::Ok
    );

    // A symlink out of a safe directory into a group-writable one: whoever may write
    // there may replace the plugin.
    let elsewhere = plugin_dir(&[("echo.so", &echo)]);
    chmod(elsewhere.path(), 0o770);
    let linked = plugin_dir(&[]);
    std::os::unix::fs::symlink(
        elsewhere.path().join("echo.so"),
        linked.path().join("link.so"),
    )
    .unwrap();
    let r = discover(linked.path());
    let real_dir = fs::canonicalize(elsewhere.path()).unwrap();
    assert_eq!(
        quarantine_of(&r, "link.so"),
        format!(
            "in directory {}, which is writable by group (mode 770): the group's members could \
             plant a plugin there; run `chmod go-w {}`",
            real_dir.display(),
            real_dir.display()
        )
    );
    assert!(!entry_at(&r, "link.so").is_loaded());
    chmod(elsewhere.path(), 0o700);
    assert_eq!(
        discover(linked.path()).get("test-echo").unwrap().check(),
        Status::Ok
    );

    // Foreign-owned: only root can give a file away.
    if euid() != 0 {
        eprintln!(
            "SKIPPED (needs root to chown to another uid): foreign-owned plugin directory and file"
        );
        return;
    }
    let nobody = 65534;
    std::os::unix::fs::chown(dir.path(), Some(nobody), None).unwrap();
    assert_eq!(
        refusal(&discover(dir.path())),
        format!(
            "owned by uid {nobody}, neither you (uid 0) nor root: its owner could plant a plugin \
             there; use a directory you own, or run `chown 0 {}` as root",
            dir.path().display()
        )
    );
    std::os::unix::fs::chown(dir.path(), Some(0), None).unwrap();
    std::os::unix::fs::chown(&file, Some(nobody), None).unwrap();
    let r = discover(dir.path());
    assert!(
        quarantine_of(&r, "echo.so").starts_with(&format!(
            "owned by uid {nobody}, neither you (uid 0) nor root: its owner could replace it"
        )),
        "{}",
        quarantine_of(&r, "echo.so")
    );
    assert!(!entry_at(&r, "echo.so").is_loaded());
    std::os::unix::fs::chown(&file, Some(0), None).unwrap();
    assert_eq!(
        discover(dir.path()).get("test-echo").unwrap().check(),
        Status::Ok
    );
}

/// Runs a command, failing (and killing it) if it takes more than a minute: a FIFO must
/// never block discovery.
fn output_within_a_minute(mut cmd: Command) -> Output {
    use std::io::Read as _;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{cmd:?} blocked for a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Every `*.so` that is not a readable plugin file is listed as skipped, with its reason,
/// and never opened (a FIFO does not block). Root reads any file, so as root `runners` runs
/// as uid 65534 (the directory stays root's, which the rule allows) to see an unreadable one.
#[test]
fn runners_lists_every_skipped_candidate_with_its_reason() {
    let echo = echo_plugin();
    let as_user = if euid() == 0 { 65534 } else { euid() };
    // Everything the command needs in one 0755 tree under /tmp (as root: reachable by uid
    // 65534 wherever the checkout is), the binary included, so its own directory offers
    // no plugins.
    let top = if euid() == 0 {
        tempfile::tempdir_in("/tmp").unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    chmod(top.path(), 0o755);
    let bin = top.path().join("webc-host");
    if fs::hard_link(BIN, &bin).is_err() {
        fs::copy(BIN, &bin).unwrap();
    }
    let d = &top.path().join("candidates");
    fs::create_dir(d).unwrap();
    chmod(d, 0o755);
    for name in ["echo.so", "unreadable.so"] {
        fs::copy(&echo, d.join(name)).unwrap();
        chmod(&d.join(name), 0o755);
    }
    chmod(&d.join("unreadable.so"), 0o000);
    fs::create_dir(d.join("dir.so")).unwrap();
    mkfifo(&d.join("fifo.so"));
    std::os::unix::fs::symlink(d.join("gone"), d.join("dangling.so")).unwrap();
    std::os::unix::fs::symlink("loop.so", d.join("loop.so")).unwrap();
    std::os::unix::fs::symlink("/dev/null", d.join("null.so")).unwrap();
    let home = top.path().join("home");
    let runners = |json: bool| {
        let mut cmd = Command::new(&bin);
        cmd.args(["runners", "--plugins"])
            .arg(d)
            .args(json.then_some("--json"))
            .env_remove("WEBC_LOG")
            .env_remove("WEBC_HOST_PLUGINS")
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"));
        if euid() == 0 {
            use std::os::unix::process::CommandExt as _;
            cmd.uid(as_user).gid(as_user);
        }
        output_within_a_minute(cmd)
    };
    let expected = [
        (
            "dangling.so",
            format!(
                "a dangling symlink: {} does not exist",
                d.join("gone").display()
            ),
        ),
        ("dir.so", "a directory, not a plugin file".to_owned()),
        (
            "fifo.so",
            "a FIFO (named pipe; not opened), not a plugin file".to_owned(),
        ),
        (
            "loop.so",
            "a symlink loop (through loop.so): too many levels of symbolic links".to_owned(),
        ),
        (
            "null.so",
            "a symlink to a character device, not a plugin file".to_owned(),
        ),
        (
            "unreadable.so",
            format!(
                "unreadable: permission denied to uid {as_user} (mode 0, owner uid {}); \
                 `chmod a+r` it to use it",
                euid()
            ),
        ),
    ];

    let report = json_of(&runners(true));
    assert_eq!(
        runner_with_source(&report, &d.join("echo.so"))["status"],
        "ok"
    );
    for (name, why) in &expected {
        let r = runner_with_source(&report, &d.join(name));
        assert_eq!(r["status"], "skipped", "{name}: {r:#}");
        assert_eq!(r["reason"], why.as_str(), "{name}: {r:#}");
        assert_eq!(r["name"], Value::Null, "{name}");
    }
    assert_eq!(report["directories"][0]["candidates"], 7);
    assert_eq!(
        report["runners"].as_array().unwrap().len(),
        7,
        "nothing else: {report:#}"
    );

    let out = runners(false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for (name, why) in &expected {
        let block = format!(
            "{name}: skipped: {why}\n    source    {} (--plugins)\n",
            d.join(name).display()
        );
        assert!(text.contains(&block), "{block}\nnot in\n{text}");
    }

    // The library: skipped entries are never loaded or selected, and never cached.
    let cache_dir = tempfile::tempdir().unwrap();
    let opts = DiscoveryOptions::only([d]).with_metadata_cache(cache_dir.path().join("p.json"));
    let r = Registry::discover(&opts);
    for (name, _) in &expected[..5] {
        let e = entry_at(&r, name);
        assert!(
            e.is_skipped() && !e.is_loaded() && !e.metadata_from_cache(),
            "{e:?}"
        );
        assert!(matches!(e.check(), Status::Skipped(_)), "{e:?}");
    }
    assert_eq!(
        r.select(ECHO_URI, ANY_KIND, &Preferences::new())
            .unwrap()
            .info
            .name,
        "test-echo"
    );
    let cached: Value =
        serde_json::from_slice(&fs::read(cache_dir.path().join("p.json")).unwrap()).unwrap();
    let keys: Vec<&String> = cached["plugins"].as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| !k.contains("dir.so") && !k.contains("fifo.so")),
        "{keys:?}"
    );
}

/// A plugin changed a moment ago may change again within the same clock tick without its
/// `ctime` moving: its description is not remembered until it has settled.
#[test]
fn a_plugin_changed_a_moment_ago_is_not_remembered_yet() {
    let echo = echo_plugin();
    let dir = plugin_dir(&[("echo.so", &echo)]);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path().join("plugins.json");
    let opts = DiscoveryOptions::only([dir.path()]).with_metadata_cache(&cache);
    let cached = || -> usize {
        fs::read(&cache).map_or(0, |b| {
            let v: Value = serde_json::from_slice(&b).unwrap();
            v["plugins"].as_object().unwrap().len()
        })
    };
    chmod(&dir.path().join("echo.so"), 0o755); // a change, now
    let changed = std::time::Instant::now();
    let r = Registry::discover(&opts);
    let took = changed.elapsed();
    assert_eq!(r.get("test-echo").unwrap().check(), Status::Ok);
    // The registry looked at the file within `took` of the change: when that is under
    // 100 ms, it must not have remembered it (a slower machine proves nothing here).
    if took < Duration::from_millis(100) {
        assert_eq!(cached(), 0, "not remembered while racy");
    } else {
        eprintln!("INCONCLUSIVE: discovery took {took:?}, the file had settled");
    }
    drop(r);
    settle();
    let r = Registry::discover(&opts);
    assert!(!r.get("test-echo").unwrap().metadata_from_cache());
    assert_eq!(cached(), 1, "remembered once settled");
    drop(r);
    let r = Registry::discover(&opts);
    assert!(r.get("test-echo").unwrap().metadata_from_cache());
}

/// A package whose entrypoint `echo` runs on the echo runner.
fn echo_package(dir: &Path) -> PathBuf {
    package_for(dir, ECHO_URI)
}

/// A package whose entrypoint `echo` runs a small blob on runner URI `uri`.
fn package_for(dir: &Path, uri: &str) -> PathBuf {
    let path = dir.join("echo.webc");
    fs::write(
        &path,
        common::blob_container(uri, "echo", "blob", b"not really a program"),
    )
    .unwrap();
    path
}

/// The case end to end: `run` (with its plugin metadata cache) and `runners` (which
/// loads everything) name the same plugin after one was fixed in place with its old mtime.
#[test]
fn run_and_runners_agree_after_a_plugin_is_fixed_in_place() {
    let echo = echo_plugin();
    let good = fs::read(&echo).unwrap();
    let dir = plugin_dir(&[("a.so", &echo), ("b.so", &echo)]);
    let a = dir.path().join("a.so");
    let write_at_start = |bytes: &[u8]| {
        use std::io::Write as _;
        let mut f = fs::OpenOptions::new().write(true).open(&a).unwrap();
        f.write_all(bytes).unwrap();
    };
    write_at_start(b"JUNK");
    let broken = fs::metadata(&a).unwrap();
    settle();
    let work = tempfile::tempdir().unwrap();
    let pkg = echo_package(work.path());
    let cache = work.path().join("cache");
    let data = work.path().join("data");
    let explain_runner = || {
        let out = Command::new(BIN)
            .args(["run", "--explain", "--plugins"])
            .arg(dir.path())
            .arg("--cache-dir")
            .arg(&cache)
            .arg(&pkg)
            .env_remove("WEBC_LOG")
            .env_remove("WEBC_HOST_PLUGINS")
            .env("XDG_DATA_HOME", &data)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines()
            .find(|l| l.starts_with("runner:"))
            .unwrap_or_else(|| panic!("no runner line in {text}"))
            .to_owned()
    };
    let runners_ok = || -> Vec<String> {
        let report = json_of(&webc(
            &[
                "runners".as_ref(),
                "--json".as_ref(),
                "--plugins".as_ref(),
                dir.path().as_os_str(),
            ],
            &[("XDG_DATA_HOME", &data)],
            Path::new(BIN),
        ));
        report["runners"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["status"] == "ok"
                    && r["source"]
                        .as_str()
                        .unwrap()
                        .starts_with(dir.path().to_str().unwrap())
            })
            .map(|r| r["source"].as_str().unwrap().to_owned())
            .collect()
    };
    let from = |p: &Path| format!("from {})", p.display());
    let b = dir.path().join("b.so");
    // Broken: both pick b.so; `run` remembers a.so's quarantine.
    assert!(explain_runner().ends_with(&from(&b)));
    assert!(explain_runner().ends_with(&from(&b)), "warm cache");
    assert_eq!(runners_ok(), [b.to_str().unwrap()]);

    // Fixed in place: same inode and size, the old mtime put back.
    tick();
    write_at_start(&good[..4]);
    filetime::set_file_mtime(&a, filetime::FileTime::from_last_modification_time(&broken)).unwrap();
    assert_eq!(runners_ok(), [a.to_str().unwrap()]);
    let line = explain_runner();
    assert!(
        line.ends_with(&from(&a)),
        "run disagrees with runners: {line}"
    );
}

/// Loads test plugin `lib<lib>.so` (which must call itself `name`), then runs a package on
/// `uri` with only that plugin: its output.
fn load_and_run_test_plugin(lib: &str, name: &str, uri: &str) -> std::process::Output {
    let path = bad_plugin(lib);
    let loaded = LoadedRunner::load(&path)
        .unwrap_or_else(|e| panic!("a compatible interface version loads: {e}"));
    assert_eq!(webc_runner_api::Runner::info(&loaded).name, name);

    let dir = plugin_dir(&[("plugin.so", &path)]);
    let tmp = tempfile::tempdir().unwrap();
    let pkg = package_for(tmp.path(), uri);
    Command::new(BIN)
        .args(["run", "--plugins"])
        .arg(dir.path())
        .arg("--cache-dir")
        .arg(tmp.path().join("cache"))
        .arg(&pkg)
        .env_remove("WEBC_HOST_PLUGINS")
        .output()
        .unwrap()
}

/// `docs/abi-evolution.md`'s promise the other way: a plugin built for interface 1.0, whose
/// root module ends at `run`, loads on this 1.1 host and runs without host services.
#[test]
fn a_plugin_of_an_earlier_compatible_interface_loads_and_runs() {
    let out = load_and_run_test_plugin(
        "older_minor",
        "older-minor",
        "https://webc-host.test/runner/older",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("ran on interface 1.0 with no services (runner unavailable: "),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
}

/// `docs/abi-evolution.md`'s promise: a plugin built for a later minor interface version,
/// whose root module has a function this host does not know, loads and runs here.
#[test]
fn a_plugin_of_a_later_compatible_interface_loads_and_runs() {
    let out = load_and_run_test_plugin(
        "future_minor",
        "future-minor",
        "https://webc-host.test/runner/future",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ran on a newer interface\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{out:?}");
}
