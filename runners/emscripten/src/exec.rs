//! One run: options, annotation, module checks, linking, start-up as the glue does it, and
//! the outcome (exit status, abort).

use std::collections::HashMap;
use std::time::Instant;

use wasmtime::{
    ExternType, FuncType, Instance, Linker, Memory, Module, Store, Table, TypedFunc, ValType,
};
use webc_container::manifest::CommandAnnotations;
use webc_runner_api::{Job, Outcome, RunnerError};
use webc_runner_wasi::{
    Abi, EngineKey, Exit, JobIo, Options, PREVIEW1, WasiCtx, WasiCtxBuilder, add_to_linker, engine,
    load_module, merge_environ, provides, run_instance, split_env_entry,
};

use crate::env;
use crate::error::HostStop;

/// The store data: the WASI context and the glue's own state.
pub(crate) struct EmCtx {
    pub(crate) wasi: WasiCtx,
    /// `setTempRet0`/`getTempRet0`.
    pub(crate) temp_ret0: i32,
    /// The module's exports the imports call (set at start-up).
    pub(crate) exports: Option<Exports>,
    /// `exceptionLast`: the pointer of the exception being thrown (0 for none).
    pub(crate) exception_last: u32,
    /// `uncaughtExceptionCount`.
    pub(crate) uncaught: i32,
    /// `exceptionCaught`: CatchInfo pointers of the exceptions being handled.
    pub(crate) caught: Vec<u32>,
    /// The guest's working directory (absolute, normalised).
    pub(crate) cwd: String,
    /// Start of `emscripten_get_now` and the monotonic clock.
    pub(crate) started: Instant,
    /// First call of `clock()`.
    pub(crate) clock_start: Option<Instant>,
    /// Whether the module's memory may grow (built with `ALLOW_MEMORY_GROWTH`).
    pub(crate) growable: bool,
    /// Whether the module was built with `EXIT_RUNTIME=1` (`__funcs_on_exit`, `__stdio_exit`).
    pub(crate) exit_runtime: bool,
    /// `getdents64` positions: fd → (directory identity, byte position).
    pub(crate) dir_pos: HashMap<u32, ((u64, u64), u64)>,
}

/// The accessor `webc_runner_wasi` needs.
pub(crate) fn wasi(d: &mut EmCtx) -> &mut WasiCtx {
    &mut d.wasi
}

/// Exports of the module that the imports and the start-up call.
#[derive(Clone)]
pub(crate) struct Exports {
    pub(crate) memory: Memory,
    pub(crate) stack_save: TypedFunc<(), i32>,
    pub(crate) stack_restore: TypedFunc<i32, ()>,
    pub(crate) stack_alloc: TypedFunc<i32, i32>,
    pub(crate) main: TypedFunc<(i32, i32), i32>,
    pub(crate) set_threw: Option<TypedFunc<(i32, i32), ()>>,
    pub(crate) malloc: Option<TypedFunc<i32, i32>>,
    pub(crate) free: Option<TypedFunc<i32, ()>>,
    pub(crate) can_catch: Option<TypedFunc<(i32, i32, i32), i32>>,
    pub(crate) is_pointer_type: Option<TypedFunc<i32, i32>>,
    pub(crate) errno_location: Option<TypedFunc<(), i32>>,
    pub(crate) funcs_on_exit: Option<TypedFunc<(), ()>>,
    pub(crate) stdio_exit: Option<TypedFunc<(), ()>>,
    pub(crate) table: Option<Table>,
    /// The WASI `fd_filestat_set_size` (for `__syscall_ftruncate64`).
    pub(crate) set_size: Option<wasmtime::Func>,
    /// The WASI `fd_seek` with its i64 offset (for the legalised `fd_seek` import).
    pub(crate) fd_seek: Option<wasmtime::Func>,
}

/// The stack exports in both spellings: emcc 3.1.6's, then later emcc's.
const STACK_SAVE: [&str; 2] = ["stackSave", "emscripten_stack_get_current"];
const STACK_RESTORE: [&str; 2] = ["stackRestore", "_emscripten_stack_restore"];
const STACK_ALLOC: [&str; 2] = ["stackAlloc", "_emscripten_stack_alloc"];
/// `main` and the name emcc gives it when it takes `argc`/`argv` in some versions.
const MAIN: [&str; 2] = ["main", "__main_argc_argv"];

fn typed<P, R>(
    store: &mut Store<EmCtx>,
    instance: &Instance,
    names: &[&str],
) -> wasmtime::Result<Option<TypedFunc<P, R>>>
where
    P: wasmtime::WasmParams,
    R: wasmtime::WasmResults,
{
    for name in names {
        if let Some(f) = instance.get_func(&mut *store, name) {
            return f.typed::<P, R>(&*store).map(Some);
        }
    }
    Ok(None)
}

fn required<P, R>(
    store: &mut Store<EmCtx>,
    instance: &Instance,
    names: &[&str],
) -> wasmtime::Result<TypedFunc<P, R>>
where
    P: wasmtime::WasmParams,
    R: wasmtime::WasmResults,
{
    typed(store, instance, names)?
        .ok_or_else(|| wasmtime::Error::msg(format!("the module exports no `{}`", names[0])))
}

impl Exports {
    fn fetch(
        store: &mut Store<EmCtx>,
        instance: &Instance,
        linker: &Linker<EmCtx>,
    ) -> wasmtime::Result<Exports> {
        let memory = instance
            .get_memory(&mut *store, "memory")
            .ok_or_else(|| wasmtime::Error::msg("the module exports no memory `memory`"))?;
        let set_size = linker
            .get(&mut *store, PREVIEW1, "fd_filestat_set_size")
            .ok()
            .and_then(|e| e.into_func());
        let fd_seek = linker
            .get(&mut *store, env::INTERNAL, "fd_seek")
            .ok()
            .and_then(|e| e.into_func());
        Ok(Exports {
            fd_seek,
            memory,
            stack_save: required(store, instance, &STACK_SAVE)?,
            stack_restore: required(store, instance, &STACK_RESTORE)?,
            stack_alloc: required(store, instance, &STACK_ALLOC)?,
            main: required(store, instance, &MAIN)?,
            set_threw: typed(store, instance, &["setThrew"])?,
            malloc: typed(store, instance, &["malloc"])?,
            free: typed(store, instance, &["free"])?,
            can_catch: typed(store, instance, &["__cxa_can_catch"])?,
            is_pointer_type: typed(store, instance, &["__cxa_is_pointer_type"])?,
            errno_location: typed(store, instance, &["__errno_location"])?,
            funcs_on_exit: typed(store, instance, &["__funcs_on_exit"])?,
            stdio_exit: typed(store, instance, &["__stdio_exit"])?,
            table: instance.get_table(&mut *store, "__indirect_function_table"),
            set_size,
        })
    }
}

/// `(i32, i32) -> i32`.
pub(crate) fn signature(ty: &FuncType) -> String {
    let list = |it: &mut dyn Iterator<Item = ValType>| {
        it.map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
    };
    let params = list(&mut ty.params());
    let results: Vec<ValType> = ty.results().collect();
    match results.len() {
        0 => format!("({params}) -> ()"),
        1 => format!("({params}) -> {}", results[0]),
        _ => format!("({params}) -> ({})", list(&mut results.into_iter())),
    }
}

fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => signature(f),
        ExternType::Global(_) => "global".to_owned(),
        ExternType::Memory(_) => "memory".to_owned(),
        ExternType::Table(_) => "table".to_owned(),
        ExternType::Tag(_) => "tag".to_owned(),
    }
}

/// What the module check found.
#[derive(Debug, Clone, Copy)]
struct Shape {
    growable: bool,
    exit_runtime: bool,
}

/// The toolchain the module records in its `producers` custom section (`processed-by` and
/// `sdk` entries, e.g. `emscripten 3.1.50, clang 18.0.0`), for the refusal messages; emcc
/// 3.1.6 records none, later versions and `-g` builds of some toolchains do.
fn producers(atom: &[u8]) -> Option<String> {
    use wasmparser_detect::{KnownCustom, Parser, Payload};
    for payload in Parser::new(0).parse_all(atom) {
        let Ok(Payload::CustomSection(section)) = payload else {
            continue;
        };
        let KnownCustom::Producers(reader) = section.as_known() else {
            continue;
        };
        let tools: Vec<String> = reader
            .into_iter()
            .flatten()
            .filter(|field| matches!(field.name, "processed-by" | "sdk"))
            .flat_map(|field| field.values.into_iter().flatten())
            .map(|v| format!("{} {}", v.name, v.version).trim().to_owned())
            .collect();
        if !tools.is_empty() {
            return Some(tools.join(", "));
        }
    }
    None
}

/// Recognises an Emscripten module and checks every import is one this runner provides;
/// a refusal names the toolchain the module records, if any.
fn check_module(module: &Module, atom: &[u8]) -> Result<Shape, RunnerError> {
    check_shape(module).map_err(|e| match (e, producers(atom)) {
        (RunnerError::CannotExecute(m), Some(built)) => {
            RunnerError::CannotExecute(format!("{m} (the module was built by {built})"))
        }
        (e, _) => e,
    })
}

fn check_shape(module: &Module) -> Result<Shape, RunnerError> {
    let exported = |name: &str| module.get_export(name).is_some();
    let missing = [
        &["memory"][..],
        &MAIN[..],
        &STACK_SAVE[..],
        &STACK_RESTORE[..],
        &STACK_ALLOC[..],
    ]
    .into_iter()
    .find(|names| !names.iter().any(|n| exported(n)));
    if let Some(names) = missing {
        let hint = if exported("_start") {
            " — it exports `_start`: is this a WASI module? use runner wasi"
        } else {
            ""
        };
        return Err(RunnerError::CannotExecute(format!(
            "not an Emscripten module: no `{}` export{hint}",
            names[0]
        )));
    }
    for import in module.imports() {
        let ok = match (import.module(), &import.ty()) {
            (PREVIEW1, ExternType::Func(_)) => provides(PREVIEW1, import.name()),
            ("env", ExternType::Func(_)) => env::provides(import.name()),
            _ => false,
        };
        if !ok {
            return Err(RunnerError::CannotExecute(format!(
                "the Emscripten runner does not provide the import {}.{}: {}",
                import.module(),
                import.name(),
                describe(&import.ty())
            )));
        }
    }
    let growable = match module.get_export("memory") {
        Some(ExternType::Memory(m)) => m.maximum() != Some(m.minimum()),
        _ => false,
    };
    Ok(Shape {
        growable,
        exit_runtime: exported("__funcs_on_exit") || exported("__stdio_exit"),
    })
}

/// `main-args` and the `env` entries of the `emscripten` annotation.
type ProgramEnv = (Vec<String>, Vec<(String, String)>);

/// The command's `emscripten` annotation (absent: none): the arguments placed before the
/// user's, and the environment entries (`K=V`; an entry without `=` is `K=`).
fn program_env(job_annotations: &[u8]) -> Result<ProgramEnv, RunnerError> {
    let decoded = CommandAnnotations::from_cbor(job_annotations)
        .map_err(|e| RunnerError::InvalidJob(format!("bad command annotations: {e}")))?;
    let Some(em) = decoded.emscripten else {
        return Ok((Vec::new(), Vec::new()));
    };
    let env = em
        .env
        .unwrap_or_default()
        .iter()
        .map(|item| split_env_entry(item))
        .collect();
    Ok((em.main_args.unwrap_or_default(), env))
}

fn other(e: impl std::fmt::Display) -> RunnerError {
    RunnerError::Other(e.to_string())
}

pub(crate) fn run(job: Job<'_>) -> Result<Outcome, RunnerError> {
    let (spec, atom, io) = JobIo::from_job(job);
    let (options, _) = Options::parse_with(&spec.options, "Emscripten", &[])?;
    let (main_args, ann_env) = program_env(&spec.annotations)?;
    let entry = engine(EngineKey::for_job(&spec, &options))?;
    let module = load_module(entry, &spec, atom, options.cache)?;
    let shape = check_module(&module, atom)?;
    tracing::debug!(
        growable = shape.growable,
        exit_runtime = shape.exit_runtime,
        "Emscripten module recognised"
    );
    let mut linker = Linker::<EmCtx>::new(entry.engine());
    add_to_linker(&mut linker, Abi::P1, wasi).map_err(other)?;
    env::define(&mut linker, &module).map_err(other)?;
    let pre = linker
        .instantiate_pre(&module)
        .map_err(|e| RunnerError::CannotExecute(format!("{e:#}")))?;

    let argv: Vec<String> = std::iter::once(spec.command.clone())
        .chain(main_args)
        .chain(spec.args.iter().cloned())
        .collect();
    let builder = WasiCtxBuilder::new()
        .args(argv.clone())
        .env(merge_environ(&ann_env, &spec.env))
        .cwd(None)
        .max_fds(options.max_fds)
        .memory_limit(spec.limits.memory);

    let mut aborted: Option<String> = None;
    // The job's stderr is lent for the run and is ours again afterwards (for `Aborted(…)`).
    let stderr = io.stderr;
    let lent = JobIo {
        fs: io.fs,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: &mut *stderr,
    };
    let outcome = builder.run(lent, |ctx| {
        let data = EmCtx {
            wasi: ctx,
            temp_ret0: 0,
            exports: None,
            exception_last: 0,
            uncaught: 0,
            caught: Vec::new(),
            cwd: "/".to_owned(),
            started: Instant::now(),
            clock_start: None,
            growable: shape.growable,
            exit_runtime: shape.exit_runtime,
            dir_pos: HashMap::new(),
        };
        run_instance(
            entry,
            &pre,
            data,
            wasi,
            &spec,
            &options,
            |store, instance| match start(store, instance, &linker, &argv) {
                Ok(code) => Err(wasmtime::Error::new(Exit(code))),
                Err(e) => match e.downcast_ref::<HostStop>() {
                    Some(stop) => {
                        aborted = Some(stop.abort_message());
                        Err(wasmtime::Error::new(Exit(134)))
                    }
                    None => Err(e),
                },
            },
        )
    })??;
    if let Some(what) = aborted {
        // The glue's `abort(what)` prints this line (node then exits 7; see the docs).
        let _ = writeln!(stderr, "Aborted({what})");
        let _ = stderr.flush();
        return Ok(Outcome::Trap);
    }
    Ok(match outcome {
        // A process exit status is 8 bits (node's `process.exitCode = 300` exits 44).
        Outcome::Exit(n) => Outcome::Exit(n & 0xff),
        o => o,
    })
}

/// Start-up as the glue's `run`: exports, `__wasm_call_ctors`, argv on the stack, `main`,
/// then (with `EXIT_RUNTIME=1`) the runtime's exit. Returns `main`'s value.
fn start(
    store: &mut Store<EmCtx>,
    instance: &Instance,
    linker: &Linker<EmCtx>,
    argv: &[String],
) -> wasmtime::Result<i32> {
    let ex = Exports::fetch(store, instance, linker)?;
    store.data_mut().exports = Some(ex.clone());
    if let Some(ctors) = typed::<(), ()>(store, instance, &["__wasm_call_ctors"])? {
        ctors.call(&mut *store, ())?;
    }
    // callMain: argv = stackAlloc((argc + 1) * 4); each string stackAlloc(len + 1), UTF-8 + NUL.
    let argc = i32::try_from(argv.len()).map_err(wasmtime::Error::msg)?;
    let array = ex.stack_alloc.call(&mut *store, (argc + 1) * 4)?;
    for (i, arg) in argv.iter().enumerate() {
        let len = i32::try_from(arg.len() + 1).map_err(wasmtime::Error::msg)?;
        let p = ex.stack_alloc.call(&mut *store, len)?;
        let mut bytes = arg.as_bytes().to_vec();
        bytes.push(0);
        ex.memory.write(&mut *store, p as u32 as usize, &bytes)?;
        ex.memory.write(
            &mut *store,
            array as u32 as usize + 4 * i,
            &(p as u32).to_le_bytes(),
        )?;
    }
    ex.memory.write(
        &mut *store,
        array as u32 as usize + 4 * argv.len(),
        &0u32.to_le_bytes(),
    )?;
    let code = ex.main.call(&mut *store, (argc, array))?;
    exit_runtime(store)?;
    Ok(code)
}

/// `exitRuntime()` of an `EXIT_RUNTIME=1` build: the atexit handlers, then the C stdio flush.
pub(crate) fn exit_runtime(
    store: impl wasmtime::AsContextMut<Data = EmCtx>,
) -> wasmtime::Result<()> {
    let mut store = store;
    let Some(ex) = store.as_context_mut().data().exports.clone() else {
        return Ok(());
    };
    if !store.as_context_mut().data().exit_runtime {
        return Ok(());
    }
    if let Some(f) = ex.funcs_on_exit {
        f.call(&mut store, ())?;
    }
    if let Some(f) = ex.stdio_exit {
        f.call(&mut store, ())?;
    }
    Ok(())
}
