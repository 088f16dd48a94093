//! One run: options, annotations, descriptors, module (compiled or from the cache), store,
//! limits, `_start`, outcome. The pieces another runner shares are public: [`Options`],
//! [`load_module`], [`run_instance`].

use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::{
    ExternType, Instance, InstancePre, Module, Store, Trap, UpdateDeadline, WasmBacktrace,
};
use webc_runner_api::fs::{Errno as FsErrno, FileSystem, OpenOptions};
use webc_runner_api::{Job, JobSpec, Outcome, RunnerError};

use crate::annotations::WasiAnnotation;
use crate::cache::{self, Key};
use crate::ctx::{DEFAULT_MAX_FDS, Desc, FdTable, JobIo, with_io};
use crate::engine::{self, EngineEntry, EngineKey, Imports};
use crate::limits::{TimedOut, TimedRun};
use crate::wasi::{self, Exit, Get};
use crate::wasi_ctx::{WasiCtx, WasiCtxBuilder};

/// The runner options every wasmtime runner shares (`--runner-opt K=V`): `fuel=N`,
/// `cache=on|off`, `max-fds=N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Fuel budget (instructions, roughly); `None` = no metering.
    pub fuel: Option<u64>,
    /// Use the precompiled cache (when the host gives a cache dir).
    pub cache: bool,
    /// Most descriptors open at once (stdio and preopens included).
    pub max_fds: u32,
}

/// The options [`Options::parse_with`] hands back to the calling runner.
pub type OtherOptions<'o> = Vec<&'o (String, String)>;

/// The fewest descriptors `max-fds` may allow: stdio and the two preopens.
const MIN_FDS: u32 = 5;

impl Options {
    /// Parses the WASI runner's options; any other is refused.
    ///
    /// # Errors
    ///
    /// [`RunnerError::InvalidJob`] naming the option that is unknown or malformed.
    pub fn parse(options: &[(String, String)]) -> Result<Options, RunnerError> {
        Options::parse_with(options, "WASI", &[]).map(|(o, _)| o)
    }

    /// Parses the shared options and returns the others named in `extra` (in order) for
    /// the calling runner (`runner`, as error messages name it) to parse itself.
    ///
    /// # Errors
    ///
    /// [`RunnerError::InvalidJob`] naming the option that is malformed, or neither shared
    /// nor in `extra`.
    pub fn parse_with<'o>(
        options: &'o [(String, String)],
        runner: &str,
        extra: &[&str],
    ) -> Result<(Options, OtherOptions<'o>), RunnerError> {
        let mut out = Options {
            fuel: None,
            cache: true,
            max_fds: DEFAULT_MAX_FDS,
        };
        let mut rest = Vec::new();
        for kv in options {
            let (k, v) = kv;
            match k.as_str() {
                "fuel" => match v.trim().parse::<u64>() {
                    Ok(n) => out.fuel = Some(n),
                    Err(_) => {
                        return Err(RunnerError::InvalidJob(format!(
                            "runner option `fuel` must be a non-negative integer, not {v:?}"
                        )));
                    }
                },
                "cache" => match v.trim() {
                    "on" | "true" | "1" => out.cache = true,
                    "off" | "false" | "0" => out.cache = false,
                    _ => {
                        return Err(RunnerError::InvalidJob(format!(
                            "runner option `cache` must be `on` or `off`, not {v:?}"
                        )));
                    }
                },
                "max-fds" => match v.trim().parse::<u32>() {
                    Ok(n) if n >= MIN_FDS => out.max_fds = n,
                    _ => {
                        return Err(RunnerError::InvalidJob(format!(
                            "runner option `max-fds` must be an integer of at least {MIN_FDS} (stdio and the two preopens), not {v:?}"
                        )));
                    }
                },
                k if extra.contains(&k) => rest.push(kv),
                _ => {
                    let known: Vec<&str> = ["fuel", "cache", "max-fds"]
                        .into_iter()
                        .chain(extra.iter().copied())
                        .collect();
                    return Err(RunnerError::InvalidJob(format!(
                        "unknown runner option `{k}` for the {runner} runner (known: {})",
                        known.join(", ")
                    )));
                }
            }
        }
        Ok((out, rest))
    }
}

/// argv: `[exec-name or command name, main-args…, user args…]`.
pub(crate) fn argv(spec: &JobSpec, wasi: &WasiAnnotation) -> Vec<String> {
    let argv0 = wasi
        .exec_name
        .clone()
        .unwrap_or_else(|| spec.command.clone());
    std::iter::once(argv0)
        .chain(wasi.main_args.iter().cloned())
        .chain(spec.args.iter().cloned())
        .collect()
}

/// environ: `wasi.env`, then the granted host env ([`merge_environ`]).
pub(crate) fn environ(spec: &JobSpec, wasi: &WasiAnnotation) -> Vec<String> {
    merge_environ(&wasi.env, &spec.env)
}

pub use webc_runner_api::env::{merge_environ, split_env_entry};

/// Descriptors opened before the store exists; closed on drop unless taken.
pub(crate) struct Opened<'a> {
    fs: &'a dyn FileSystem,
    pub(crate) fds: FdTable,
}

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        for h in self.fds.drain_handles() {
            let _ = self.fs.close(h);
        }
    }
}

/// fds 0–2 stdio, 3 = `.` (the working directory), 4 = `/` (the namespace root).
pub(crate) fn descriptors<'a>(
    fs: &'a dyn FileSystem,
    cwd: Option<&str>,
    max_fds: u32,
) -> Result<Opened<'a>, RunnerError> {
    let mut opened = Opened {
        fs,
        fds: FdTable::with_max(max_fds.max(MIN_FDS)),
    };
    let root = fs
        .preopens()
        .into_iter()
        .find(|p| p.guest_path == "/")
        .ok_or_else(|| RunnerError::Other("the host file system has no root preopen".into()))?
        .handle;
    let dir = OpenOptions {
        read: true,
        directory: true,
        follow: true,
        ..OpenOptions::default()
    };
    let cwd = cwd.unwrap_or("/");
    let rel = cwd.trim_start_matches('/');
    let cwd_handle = fs
        .open(root, if rel.is_empty() { "." } else { rel }, dir)
        .map_err(|e| {
            RunnerError::InvalidJob(match e {
                FsErrno::Noent => {
                    format!("the working directory `{cwd}` (wasi.cwd) does not exist")
                }
                FsErrno::Notdir => {
                    format!("the working directory `{cwd}` (wasi.cwd) is not a directory")
                }
                e => format!("the working directory `{cwd}` (wasi.cwd) cannot be opened: {e}"),
            })
        })?;
    let push = |fds: &mut FdTable, d| {
        fds.push(d)
            .map_err(|_| RunnerError::Other("descriptor table full".into()))
    };
    for d in [Desc::Stdin, Desc::Stdout, Desc::Stderr] {
        push(&mut opened.fds, d)?;
    }
    push(
        &mut opened.fds,
        Desc::Dir {
            handle: cwd_handle,
            preopen: Some(".".into()),
            root: rel.is_empty(),
        },
    )?;
    let root_handle = fs
        .open(root, ".", dir)
        .map_err(|e| RunnerError::Other(format!("cannot open the namespace root: {e}")))?;
    push(
        &mut opened.fds,
        Desc::Dir {
            handle: root_handle,
            preopen: Some("/".into()),
            root: true,
        },
    )?;
    Ok(opened)
}

fn atom_hash(spec: &JobSpec, atom: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    match hex::decode(&spec.atom_sha256) {
        Ok(h) if h.len() == 32 => out.copy_from_slice(&h),
        _ => out.copy_from_slice(&Sha256::digest(atom)),
    }
    out
}

/// The job's atom compiled for `entry`'s engine, or loaded from the precompiled cache
/// (`spec.cache_dir`, keyed by the atom's SHA-256 and the engine's fingerprint; the header
/// and BLAKE3 checks come first, a bad artifact is replaced) when `use_cache` and the host
/// gives a cache directory. Emits the `webc::progress` compile events.
///
/// # Errors
///
/// [`RunnerError::CannotExecute`] when the atom is not a valid WebAssembly module.
pub fn load_module(
    entry: &EngineEntry,
    spec: &JobSpec,
    atom: &[u8],
    use_cache: bool,
) -> Result<Module, RunnerError> {
    let cached = match (&spec.cache_dir, use_cache) {
        (Some(dir), true) => {
            let key = Key {
                atom_sha256: atom_hash(spec, atom),
                fingerprint: entry.fingerprint(),
            };
            let path = key.path(dir);
            if let Some(m) = cache::load(&entry.engine, &path, &key) {
                return Ok(m);
            }
            Some((key, path))
        }
        _ => None,
    };
    let started = Instant::now();
    // Progress events (docs/writing-a-runner.md): a host may show "compiling <atom>" meanwhile.
    let what = spec.atom_name.as_str();
    tracing::info!(target: "webc::progress", phase = "compile", state = "start", what, bytes = atom.len() as u64);
    let compiled = Module::new(&entry.engine, atom);
    tracing::info!(target: "webc::progress", phase = "compile", state = "end", what);
    let module = compiled.map_err(|e| {
        RunnerError::CannotExecute(format!("the atom is not a valid WebAssembly module: {e:#}"))
    })?;
    cache::count_compile();
    tracing::debug!(
        atom = spec.atom_name.as_str(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "compiled module"
    );
    if let Some((key, path)) = cached {
        cache::store(&path, &key, &module);
    }
    Ok(module)
}

/// Checks the module is a WASI command this runner can link, with clear messages.
fn check_module(
    entry: &EngineEntry,
    module: &Module,
) -> Result<InstancePre<crate::ctx::Ctx>, RunnerError> {
    let cannot = |m: String| RunnerError::CannotExecute(m);
    match module.get_export("_start") {
        Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
        Some(ExternType::Func(_)) => {
            return Err(cannot(
                "the module's `_start` export has the wrong type (expected no parameters and no results)".into(),
            ));
        }
        Some(_) => {
            return Err(cannot(
                "the module's `_start` export is not a function".into(),
            ));
        }
        None if module.get_export("_initialize").is_some() => {
            return Err(cannot(
                "the module is a WASI reactor (it exports `_initialize`, not `_start`); only WASI commands can be run".into(),
            ));
        }
        None => {
            return Err(cannot(
                "the module has no `_start` export (not a WASI command)".into(),
            ));
        }
    }
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        return Err(cannot(
            "the module does not export its linear memory as `memory`, which WASI requires".into(),
        ));
    }
    let (mut p1, mut p0) = (false, false);
    for import in module.imports() {
        let (m, name) = (import.module(), import.name());
        p1 |= m == wasi::PREVIEW1;
        p0 |= m == wasi::PREVIEW0;
        if !matches!(import.ty(), ExternType::Func(_)) {
            return Err(cannot(format!(
                "the module imports `{m}`.`{name}`, which is not a function; this runner provides only WASI functions"
            )));
        }
        if !wasi::provides(m, name) {
            return Err(cannot(if m == wasi::PREVIEW1 || m == wasi::PREVIEW0 {
                format!("the module imports `{m}`.`{name}`, which is not a function of {m}")
            } else {
                format!(
                    "the module imports `{m}`.`{name}`, which this runner does not provide (it provides `{}` and `{}`)",
                    wasi::PREVIEW1,
                    wasi::PREVIEW0
                )
            }));
        }
    }
    let imports = match (p1, p0) {
        (true, true) => Imports::Both,
        (false, true) => Imports::Preview0,
        _ => Imports::Preview1,
    };
    entry
        .linker(imports)
        .map_err(RunnerError::Unavailable)?
        .instantiate_pre(module)
        .map_err(|e| cannot(format!("cannot link the module: {e:#}")))
}

/// Runs one job.
pub(crate) fn run(job: Job<'_>) -> Result<Outcome, RunnerError> {
    let (spec, atom, io) = JobIo::from_job(job);
    let options = Options::parse(&spec.options)?;
    let builder = WasiCtxBuilder::for_job(&spec, &options)?;
    let mut opened = descriptors(io.fs, builder.cwd_path(), options.max_fds)?;
    let t0 = Instant::now();
    let entry =
        engine::get(EngineKey::for_job(&spec, &options)).map_err(RunnerError::Unavailable)?;
    let t1 = Instant::now();
    let module = load_module(entry, &spec, atom, options.cache)?;
    let pre = check_module(entry, &module)?;
    let t2 = Instant::now();
    let fds = std::mem::take(&mut opened.fds);
    // The runner's own context never leaves `run_module`'s store (see `with_io`).
    let outcome = with_io(io, |io, _live| {
        let ctx = builder.build(io, fds);
        run_module(
            entry,
            &pre,
            ctx,
            |c| (c, true),
            &spec,
            &options,
            |store, instance| {
                let start = instance.get_typed_func::<(), ()>(&mut *store, "_start")?;
                start.call(store, ())
            },
        )
    });
    tracing::debug!(
        engine_us = (t1 - t0).as_micros(),
        module_us = (t2 - t1).as_micros(),
        run_us = t2.elapsed().as_micros(),
        "wasi run finished"
    );
    outcome
}

/// Runs a program in a new store whose data is `data` (holding the [`WasiCtx`] that `get`
/// reaches), exactly as the WASI runner runs its own: the memory limit (a
/// `ResourceLimiter` over every memory and table, initial sizes included), the time limit
/// (`spec.limits.time`: an epoch deadline checked by a process-wide ticker; `entry` must
/// have been made with epoch interruption then, see [`EngineKey::for_job`]) and fuel
/// (`options.fuel`) are set up; `pre` is instantiated (its `memory` export becomes the
/// memory of the WASI calls), `start` runs the program (the WASI runner calls `_start`),
/// and the result is mapped: `Ok` → `Outcome::Exit(0)`, [`Exit`]`(n)` →
/// `Outcome::Exit(n)`, the time limit → `Outcome::Timeout`, anything else →
/// `Outcome::Trap` after `error: the program trapped: <message>` and the wasm backtrace
/// are written to the program's stderr. Stdio is then flushed and every descriptor
/// closed.
///
/// # Errors
///
/// [`RunnerError::CannotExecute`] when the module's initial memory is over the memory
/// limit; [`RunnerError::InvalidJob`] for a time limit too large; [`RunnerError::Other`]
/// when fuel or the time-limit thread cannot be set up.
pub fn run_instance<T: 'static>(
    entry: &EngineEntry,
    pre: &InstancePre<T>,
    data: T,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
    spec: &JobSpec,
    options: &Options,
    start: impl FnOnce(&mut Store<T>, &Instance) -> wasmtime::Result<()>,
) -> Result<Outcome, RunnerError> {
    run_module(
        entry,
        pre,
        data,
        move |t: &mut T| get(t).parts(),
        spec,
        options,
        start,
    )
}

fn run_module<T: 'static>(
    entry: &EngineEntry,
    pre: &InstancePre<T>,
    data: T,
    get: impl Get<T>,
    spec: &JobSpec,
    options: &Options,
    start: impl FnOnce(&mut Store<T>, &Instance) -> wasmtime::Result<()>,
) -> Result<Outcome, RunnerError> {
    let mut store = Store::new(&entry.engine, data);
    // The limiter holds no borrowed resource: it is reachable even after the job ended.
    store.limiter(move |t| &mut get(t).0.limiter);
    let _timed = match spec.limits.time {
        Some(limit) => {
            let deadline = Instant::now()
                .checked_add(limit)
                .ok_or_else(|| RunnerError::InvalidJob("the time limit is too large".into()))?;
            get(store.data_mut()).0.deadline = Some(deadline);
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |_| {
                if Instant::now() >= deadline {
                    Err(wasmtime::Error::new(TimedOut))
                } else {
                    Ok(UpdateDeadline::Continue(1))
                }
            });
            Some(TimedRun::start(&entry.engine, deadline).map_err(|e| {
                RunnerError::Other(format!("cannot start the time-limit thread: {e}"))
            })?)
        }
        // Untimed runs use an engine compiled without epoch checks.
        None => None,
    };
    if let Some(fuel) = options.fuel {
        store
            .set_fuel(fuel)
            .map_err(|e| RunnerError::Other(format!("cannot set fuel: {e}")))?;
    }
    let result = match pre.instantiate(&mut store) {
        Ok(instance) => {
            let memory = instance.get_memory(&mut store, "memory");
            get(store.data_mut()).0.memory = memory;
            start(&mut store, &instance).map(|()| Outcome::Exit(0))
        }
        Err(e) => match get(store.data_mut()).0.limiter.refused {
            Some((used, wanted)) if e.downcast_ref::<Trap>().is_none() => {
                finish(&mut store, get);
                return Err(RunnerError::CannotExecute(format!(
                    "the module needs {} of memory to start ({} more than the {} in use), over the memory limit of {}",
                    used.saturating_add(wanted),
                    wanted,
                    used,
                    spec.limits.memory.unwrap_or(0)
                )));
            }
            _ => Err(e),
        },
    };
    let outcome = match result {
        Ok(o) => o,
        Err(e) => classify(&mut store, get, &e),
    };
    finish(&mut store, get);
    drop(store);
    Ok(outcome)
}

/// Flushes stdio and closes every handle the program still holds (nothing once the job
/// has ended).
fn finish<T>(store: &mut Store<T>, get: impl Get<T>) {
    let (ctx, live) = get(store.data_mut());
    if !live {
        return;
    }
    let _ = ctx.io.stdout.flush();
    let _ = ctx.io.stderr.flush();
    ctx.close_all();
}

/// Maps a failed call to its outcome, reporting traps on the program's stderr.
fn classify<T>(store: &mut Store<T>, get: impl Get<T>, e: &wasmtime::Error) -> Outcome {
    if let Some(Exit(code)) = e.downcast_ref::<Exit>() {
        return Outcome::Exit(*code);
    }
    if e.downcast_ref::<TimedOut>().is_some() {
        return Outcome::Timeout;
    }
    let mut msg = format!("error: the program trapped: {}", e.root_cause());
    if let Some(bt) = e.downcast_ref::<WasmBacktrace>() {
        let bt = bt.to_string();
        if !bt.trim().is_empty() {
            msg.push('\n');
            msg.push_str(bt.trim_end());
        }
    }
    let (ctx, live) = get(store.data_mut());
    if live {
        let _ = ctx.io.stdout.flush();
        let _ = writeln!(ctx.io.stderr, "{msg}");
    }
    Outcome::Trap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let o = |kv: &[(&str, &str)]| {
            Options::parse(
                &kv.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            o(&[]).unwrap(),
            Options {
                fuel: None,
                cache: true,
                max_fds: DEFAULT_MAX_FDS,
            }
        );
        assert_eq!(o(&[("max-fds", "64")]).unwrap().max_fds, 64);
        assert_eq!(o(&[("fuel", "1000")]).unwrap().fuel, Some(1000));
        assert!(!o(&[("cache", "off")]).unwrap().cache);
        for bad in [
            ("fuel", "-1"),
            ("fuel", "lots"),
            ("cache", "maybe"),
            ("max-fds", "4"),
            ("max-fds", "-1"),
            ("max-fds", "many"),
            ("jit", "on"),
        ] {
            match o(&[bad]) {
                Err(RunnerError::InvalidJob(m)) => assert!(m.contains(bad.0), "{m}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn argv_and_env_order() {
        let spec = JobSpec {
            command: "hello".into(),
            args: vec!["user".into()],
            env: vec![("A".into(), "host".into()), ("C".into(), "3".into())],
            ..JobSpec::default()
        };
        let mut wasi = WasiAnnotation {
            main_args: vec!["--from-manifest".into()],
            env: vec![("A".into(), "1".into()), ("B".into(), "2".into())],
            ..WasiAnnotation::default()
        };
        assert_eq!(argv(&spec, &wasi), ["hello", "--from-manifest", "user"]);
        wasi.exec_name = Some("hello-bin".into());
        assert_eq!(argv(&spec, &wasi)[0], "hello-bin");
        assert_eq!(environ(&spec, &wasi), ["A=host", "B=2", "C=3"]);
    }
}
