//! `webc-runner-testkit` is what every runner's test suites share (as tract's `test-rt` runs
//! one suite on every backend): [`both_ways`] gives a runner twice — the statically
//! registered value and the same runner dlopened from its plugin library through the real
//! ABI boundary — so a conformance suite runs through both and a bug in the boundary cannot
//! hide behind in-process tests; and [`Suite`] runs a test target's cases with
//! `libtest-mimic` (`harness = false`), where a case that needs an optional [`Backend`]
//! (ONNX Runtime, libtensorflow) is reported as *ignored* with the reason when the backend
//! is missing locally, and *fails* when it is missing under CI (`CI` set) — never `ok`
//! after a silent return.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

pub use libtest_mimic::Failed;
use libtest_mimic::{Arguments, Completion, Trial};
use webc_runner_api::Runner;
use webc_runner_api::abi::LoadedRunner;

/// Is this a CI run? `CI` set to anything but empty, `0` or `false` (GitHub, GitLab and
/// our `.ci/run` set `CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
    })
}

/// An optional backend some tests need: found on this machine or not.
pub struct Backend {
    name: &'static str,
    hint: &'static str,
    probe: fn() -> Result<(), String>,
    found: OnceLock<Result<(), String>>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("name", &self.name)
            .field("found", &self.found.get())
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// A backend called `name` (e.g. `ONNX Runtime`), found when `probe` returns `Ok`;
    /// `hint` says how to install it (e.g. `run scripts/install-onnxruntime.sh`).
    pub const fn new(
        name: &'static str,
        hint: &'static str,
        probe: fn() -> Result<(), String>,
    ) -> Backend {
        Backend {
            name,
            hint,
            probe,
            found: OnceLock::new(),
        }
    }

    /// The backend's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `Ok` when the backend is usable here, else why not (probed once per process).
    pub fn check(&self) -> Result<(), String> {
        self.found.get_or_init(self.probe).clone()
    }

    /// What a case needing this backend does when it is missing: `Ok(reason)` to ignore
    /// it, or the failure under CI.
    fn missing(&self, why: &str) -> Result<String, Failed> {
        let text = format!("{} not found ({why}); {}", self.name, self.hint);
        if in_ci() {
            Err(format!("CI is set, so {} must be tested: {text}", self.name).into())
        } else {
            Ok(text)
        }
    }

    /// For a `#[test]` that needs the backend but cannot be a [`Suite`] case: `true` when
    /// the backend is usable; `false` (after saying why on stderr) when it is missing
    /// locally; a panic when it is missing under CI. Prefer [`Suite::needs`], which reports
    /// the case as ignored instead of passed.
    pub fn required(&self) -> bool {
        match self.check() {
            Ok(()) => true,
            Err(why) => match self.missing(&why) {
                Ok(text) => {
                    eprintln!("skipped: {text}");
                    false
                }
                Err(failed) => panic!("{}", failed.message().unwrap_or("backend missing")),
            },
        }
    }
}

/// The cases of one test target, run by `libtest-mimic`: declare the target with
/// `harness = false` and end its `main` with [`Suite::run`]. The usual `cargo test`
/// arguments (filters, `--ignored`, `--list`, `--test-threads`) work.
#[derive(Default)]
pub struct Suite {
    trials: Vec<Trial>,
}

impl fmt::Debug for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Suite")
            .field("cases", &self.trials.len())
            .finish()
    }
}

impl Suite {
    /// An empty suite.
    pub fn new() -> Suite {
        Suite::default()
    }

    /// A case that always runs; a panic fails it.
    pub fn test(&mut self, name: impl Into<String>, case: impl FnOnce() + Send + 'static) {
        self.trials.push(Trial::test(name, move || {
            case();
            Ok(())
        }));
    }

    /// A case that needs `backend`: run when it is found; otherwise *ignored* with the
    /// reason, or *failed* under CI.
    pub fn needs(
        &mut self,
        name: impl Into<String>,
        backend: &'static Backend,
        case: impl FnOnce() + Send + 'static,
    ) {
        self.trials
            .push(Trial::ignorable_test(name, move || match backend.check() {
                Ok(()) => {
                    case();
                    Ok(Completion::Completed)
                }
                Err(why) => backend.missing(&why).map(Completion::ignored_with),
            }));
    }

    /// Runs the cases selected by the command line and exits with the result.
    pub fn run(self) -> ! {
        libtest_mimic::run(&Arguments::from_args(), self.trials).exit()
    }
}

/// How a runner is reached in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Way {
    /// The runner value linked into the test (what an embedder registers statically).
    Static,
    /// The runner's plugin library, dlopened through the ABI boundary.
    Plugin,
}

impl Way {
    /// Both ways, static first.
    pub const ALL: [Way; 2] = [Way::Static, Way::Plugin];

    /// `static` or `plugin` (a suffix for case names).
    pub fn as_str(self) -> &'static str {
        match self {
            Way::Static => "static",
            Way::Plugin => "plugin",
        }
    }
}

impl fmt::Display for Way {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `target/<profile>/` of the running test binary (test binaries live in its `deps/`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    let deps = exe
        .parent()
        .unwrap_or_else(|| panic!("{} has no parent", exe.display()));
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap_or(deps)
    } else {
        deps
    };
    dir.to_path_buf()
}

/// The plugin library `lib<name>.so` (`name`: the plugin's `[lib] name`) built in this
/// profile. Panics, saying how to build it, when it is missing: a plugin is never optional.
pub fn plugin_path(name: &str) -> PathBuf {
    let path = profile_dir().join(format!("lib{name}.so"));
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace --all-targets` first \
         (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The plugin library `lib<name>.so` of this profile, dlopened once per process (plugins
/// are never unloaded). Panics with the loader's reason when it cannot be loaded.
pub fn plugin(name: &str) -> Arc<dyn Runner> {
    static LOADED: Mutex<BTreeMap<String, Arc<LoadedRunner>>> = Mutex::new(BTreeMap::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = loaded.get(name) {
        return Arc::clone(r) as Arc<dyn Runner>;
    }
    let path = plugin_path(name);
    let runner = Arc::new(
        LoadedRunner::load(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display())),
    );
    loaded.insert(name.to_owned(), Arc::clone(&runner));
    runner
}

/// The runner `runner` reached `way`: itself, or the plugin library `lib<plugin>.so`,
/// which must describe itself exactly as `runner` does (else the suite would test another
/// build of it).
pub fn reach(way: Way, runner: Arc<dyn Runner>, plugin_name: &str) -> Arc<dyn Runner> {
    match way {
        Way::Static => runner,
        Way::Plugin => {
            let loaded = plugin(plugin_name);
            assert_eq!(
                loaded.info(),
                runner.info(),
                "lib{plugin_name}.so describes another runner than the one linked into this \
                 test (stale build? run `cargo build --workspace --all-targets`)"
            );
            loaded
        }
    }
}

/// The runner `runner` both ways: `[(Static, runner), (Plugin, its dlopened plugin)]`.
pub fn both_ways(runner: Arc<dyn Runner>, plugin_name: &str) -> [(Way, Arc<dyn Runner>); 2] {
    [
        (Way::Static, Arc::clone(&runner)),
        (Way::Plugin, reach(Way::Plugin, runner, plugin_name)),
    ]
}

/// The processes on this machine whose command line holds `marker`: `(pid, command line with
/// NULs as spaces)`. Sandboxed guests run in their own pid namespaces but are visible here, so
/// a test that gives its guest a unique marker argument can check that none outlives the run.
pub fn processes_with(marker: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(raw) = std::fs::read(e.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
            if cmdline.contains(marker) {
                found.push((pid, cmdline));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_backend_is_ignored_locally_and_fails_under_ci() {
        static MISSING: Backend =
            Backend::new("Nothing", "install nothing", || Err("not here".into()));
        // One test owns the variable (tests in this binary run in parallel).
        let before = std::env::var_os("CI");
        // SAFETY: no other test of this crate reads or writes `CI`.
        unsafe { std::env::remove_var("CI") };
        let local = MISSING.missing("not here");
        // SAFETY: as above.
        unsafe { std::env::set_var("CI", "true") };
        let ci = MISSING.missing("not here");
        // SAFETY: as above.
        unsafe {
            match before {
                Some(v) => std::env::set_var("CI", v),
                None => std::env::remove_var("CI"),
            }
        }
        assert_eq!(
            local.expect("ignored locally"),
            "Nothing not found (not here); install nothing"
        );
        let failed = ci.expect_err("fails under CI");
        assert!(
            failed
                .message()
                .is_some_and(|m| m.starts_with("CI is set, so Nothing must be tested")),
            "{failed:?}"
        );
        assert_eq!(MISSING.check(), Err("not here".into()));
    }
}
