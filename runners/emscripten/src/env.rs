//! The `env.*` imports other than the file-system syscalls (those are in `fs.rs`): memory,
//! `setTempRet0`, time, `exit`/`abort`, C++ exceptions and the `invoke_*` trampolines, each
//! as the emcc 3.1.6 glue implements it (see `tests/README.md`).

use std::time::{SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, ExternType, Linker, Module, Val, ValType};
use webc_runner_wasi::{Exit, GuestMem, WasiResult, with_guest_memory};

use crate::error::{HostStop, abort};
use crate::exec::{EmCtx, Exports, exit_runtime, signature, wasi};
use crate::strftime::strftime_bounded;
use crate::time::{self, TM_GMTIME_BYTES, TM_LOCALTIME_BYTES, TM_SIZE, Tm};

/// The `env` functions defined with a fixed signature (the `invoke_*` and
/// `__cxa_find_matching_catch_*` families are typed from the import).
pub(crate) const NAMES: &[&str] = &[
    // memory
    "emscripten_memcpy_big",
    "emscripten_memcpy_js",
    "_emscripten_memcpy_js",
    "emscripten_resize_heap",
    "_emscripten_get_heap_max",
    "emscripten_get_heap_max",
    "setTempRet0",
    "getTempRet0",
    // exit and abort
    "exit",
    "abort",
    "_abort_js",
    "__assert_fail",
    // time
    "_tzset_js",
    "_localtime_js",
    "_gmtime_js",
    "_mktime_js",
    "_timegm_js",
    "time",
    "gettimeofday",
    "clock_gettime",
    "clock",
    "difftime",
    "emscripten_date_now",
    "emscripten_get_now",
    "strftime",
    "strftime_l",
    // exceptions and setjmp
    "__cxa_allocate_exception",
    "__cxa_free_exception",
    "__cxa_throw",
    "__cxa_rethrow",
    "__cxa_begin_catch",
    "__cxa_end_catch",
    "__resumeException",
    "llvm_eh_typeid_for",
    "_emscripten_throw_longjmp",
];

const FIND_MATCHING_CATCH: &str = "__cxa_find_matching_catch_";

/// Whether `env.<name>` is provided.
pub(crate) fn provides(name: &str) -> bool {
    NAMES.contains(&name)
        || crate::fs::NAMES.contains(&name)
        || crate::fs::LEGACY.iter().any(|(old, _)| *old == name)
        || name.starts_with("invoke_")
        || name
            .strip_prefix(FIND_MATCHING_CATCH)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Runs `f` on the store data and the checked guest memory; an out-of-bounds access traps
/// naming the import.
pub(crate) fn mem<R>(
    caller: &mut Caller<'_, EmCtx>,
    name: &'static str,
    f: impl FnOnce(&mut EmCtx, &mut GuestMem<'_>) -> WasiResult<R>,
) -> wasmtime::Result<R> {
    with_guest_memory(caller, wasi, f)?.map_err(|e| {
        wasmtime::Error::msg(format!(
            "env.{name}: guest memory access out of bounds (errno {})",
            e.code()
        ))
    })
}

/// The module's exports (set at start-up).
pub(crate) fn exports(caller: &Caller<'_, EmCtx>) -> wasmtime::Result<Exports> {
    caller
        .data()
        .exports
        .clone()
        .ok_or_else(|| wasmtime::Error::msg("an import was called before start-up"))
}

fn need<T: Clone>(f: &Option<T>, name: &str) -> wasmtime::Result<T> {
    f.clone()
        .ok_or_else(|| wasmtime::Error::msg(format!("the module exports no `{name}`")))
}

/// A NUL-terminated string's bytes (at most 64 KiB).
pub(crate) fn c_bytes(mem: &GuestMem<'_>, ptr: u32) -> WasiResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut p = ptr;
    loop {
        let b = mem.read_u8(p)?;
        if b == 0 || out.len() >= 1 << 16 {
            return Ok(out);
        }
        out.push(b);
        p = p.checked_add(1).ok_or(webc_runner_wasi::Errno::FAULT)?;
    }
}

fn c_string(mem: &GuestMem<'_>, ptr: u32) -> WasiResult<String> {
    Ok(String::from_utf8_lossy(&c_bytes(mem, ptr)?).into_owned())
}

fn read_i32(mem: &GuestMem<'_>, ptr: u32) -> WasiResult<i32> {
    mem.read_u32(ptr).map(|v| v as i32)
}

fn write_i32(mem: &mut GuestMem<'_>, ptr: u32, v: i32) -> WasiResult<()> {
    mem.write_u32(ptr, v as u32)
}

fn read_tm(mem: &GuestMem<'_>, ptr: u32) -> WasiResult<Tm> {
    let bytes: [u8; TM_SIZE] = mem
        .slice(ptr, TM_SIZE as u32)?
        .try_into()
        .map_err(|_| webc_runner_wasi::Errno::FAULT)?;
    Ok(Tm::read(&bytes))
}

fn write_tm(mem: &mut GuestMem<'_>, ptr: u32, tm: &Tm, bytes: usize) -> WasiResult<()> {
    mem.write(ptr, &tm.to_bytes()[..bytes])
}

fn now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// `setErrNo(errno)`: `*__errno_location() = errno`.
fn set_errno(caller: &mut Caller<'_, EmCtx>, errno: i32) -> wasmtime::Result<()> {
    let ex = exports(caller)?;
    if let Some(loc) = ex.errno_location {
        let p = loc.call(&mut *caller, ())? as u32;
        mem(caller, "setErrNo", |_, m| write_i32(m, p, errno))?;
    }
    Ok(())
}

fn memmove(caller: &mut Caller<'_, EmCtx>, dest: i32, src: i32, n: i32) -> wasmtime::Result<()> {
    let (dest, src, n) = (dest as u32, src as u32, n as u32);
    mem(caller, "emscripten_memcpy_big", |_, m| {
        let lo = dest.min(src);
        let hi = u64::from(dest.max(src)) + u64::from(n);
        let span = u32::try_from(hi - u64::from(lo)).map_err(|_| webc_runner_wasi::Errno::FAULT)?;
        let bytes = m.slice_mut(lo, span)?;
        let (s, d, n) = ((src - lo) as usize, (dest - lo) as usize, n as usize);
        bytes.copy_within(s..s + n, d);
        Ok(())
    })
}

const WASM_PAGE: u64 = 65536;
/// The glue's `getHeapMax()`: 2 GiB.
const HEAP_MAX: u64 = 2 * 1024 * 1024 * 1024;

fn heap_max(caller: &mut Caller<'_, EmCtx>) -> wasmtime::Result<u64> {
    let ex = exports(caller)?;
    let ty = ex.memory.ty(&*caller);
    Ok(ty
        .maximum()
        .map_or(HEAP_MAX, |pages| (pages * WASM_PAGE).min(HEAP_MAX)))
}

/// `emscripten_resize_heap(requested)`: the glue's growth policy (grow by 20 %, then 10 %,
/// then 5 %, at most 96 MiB over the request, 64 KiB aligned, up to the maximum); a
/// refused `memory.grow` (the job's memory limit) is `false`. Without
/// `ALLOW_MEMORY_GROWTH` the glue aborts with `OOM`.
fn resize_heap(caller: &mut Caller<'_, EmCtx>, requested: i32) -> wasmtime::Result<i32> {
    if !caller.data().growable {
        return Err(abort("OOM"));
    }
    let requested = u64::from(requested as u32);
    let max = heap_max(caller)?;
    if requested > max {
        return Ok(0);
    }
    let ex = exports(caller)?;
    let old = ex.memory.data_size(&*caller) as u64;
    for cut_down in [1.0f64, 2.0, 4.0] {
        let over = (old as f64 * (1.0 + 0.2 / cut_down)) as u64;
        let over = over.min(requested + 100_663_296);
        let wanted = requested.max(over).div_ceil(WASM_PAGE) * WASM_PAGE;
        let new = max.min(wanted);
        let pages = new.saturating_sub(old).div_ceil(WASM_PAGE);
        if ex.memory.grow(&mut *caller, pages).is_ok() {
            return Ok(1);
        }
    }
    Ok(0)
}

fn define_memory(linker: &mut Linker<EmCtx>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "emscripten_memcpy_big",
        |mut c: Caller<'_, EmCtx>, dest: i32, src: i32, n: i32| -> wasmtime::Result<i32> {
            memmove(&mut c, dest, src, n).map(|()| 0)
        },
    )?;
    for name in ["emscripten_memcpy_js", "_emscripten_memcpy_js"] {
        linker.func_wrap(
            "env",
            name,
            |mut c: Caller<'_, EmCtx>, dest: i32, src: i32, n: i32| memmove(&mut c, dest, src, n),
        )?;
    }
    linker.func_wrap(
        "env",
        "emscripten_resize_heap",
        |mut c: Caller<'_, EmCtx>, requested: i32| resize_heap(&mut c, requested),
    )?;
    for name in ["_emscripten_get_heap_max", "emscripten_get_heap_max"] {
        linker.func_wrap(
            "env",
            name,
            |mut c: Caller<'_, EmCtx>| -> wasmtime::Result<i32> {
                Ok(heap_max(&mut c)? as u32 as i32)
            },
        )?;
    }
    linker.func_wrap("env", "setTempRet0", |mut c: Caller<'_, EmCtx>, v: i32| {
        c.data_mut().temp_ret0 = v;
    })?;
    linker.func_wrap("env", "getTempRet0", |c: Caller<'_, EmCtx>| -> i32 {
        c.data().temp_ret0
    })?;
    Ok(())
}

fn define_exit(linker: &mut Linker<EmCtx>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "exit",
        |mut c: Caller<'_, EmCtx>, code: i32| -> wasmtime::Result<()> {
            exit_runtime(&mut c)?;
            Err(wasmtime::Error::new(Exit(code)))
        },
    )?;
    for name in ["abort", "_abort_js"] {
        linker.func_wrap(
            "env",
            name,
            |_: Caller<'_, EmCtx>| -> wasmtime::Result<()> { Err(abort("")) },
        )?;
    }
    linker.func_wrap(
        "env",
        "__assert_fail",
        |mut c: Caller<'_, EmCtx>,
         cond: i32,
         file: i32,
         line: i32,
         func: i32|
         -> wasmtime::Result<()> {
            let what = mem(&mut c, "__assert_fail", |_, m| {
                let file = if file == 0 {
                    "unknown filename".to_owned()
                } else {
                    c_string(m, file as u32)?
                };
                let func = if func == 0 {
                    "unknown function".to_owned()
                } else {
                    c_string(m, func as u32)?
                };
                Ok(format!(
                    "Assertion failed: {}, at: {file},{line},{func}",
                    c_string(m, cond as u32)?
                ))
            })?;
            Err(abort(what))
        },
    )?;
    Ok(())
}

/// Writes a NUL-terminated copy of `s` into memory from `malloc` (`allocateUTF8`); 0 when
/// the module has no `malloc`.
fn allocate_utf8(caller: &mut Caller<'_, EmCtx>, s: &str) -> wasmtime::Result<u32> {
    let Some(malloc) = exports(caller)?.malloc else {
        return Ok(0);
    };
    let len = i32::try_from(s.len() + 1)?;
    let p = malloc.call(&mut *caller, len)? as u32;
    if p != 0 {
        mem(caller, "allocateUTF8", |_, m| {
            m.write(p, s.as_bytes())?;
            m.write(p + s.len() as u32, &[0])
        })?;
    }
    Ok(p)
}

fn define_time(linker: &mut Linker<EmCtx>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "_tzset_js",
        |mut c: Caller<'_, EmCtx>,
         timezone: i32,
         daylight: i32,
         tzname: i32|
         -> wasmtime::Result<()> {
            let std_name = allocate_utf8(&mut c, time::TZ_STD_NAME)?;
            let dst_name = allocate_utf8(&mut c, time::TZ_DST_NAME)?;
            mem(&mut c, "_tzset_js", |_, m| {
                write_i32(m, timezone as u32, time::TZ_TIMEZONE)?;
                write_i32(m, daylight as u32, time::TZ_DAYLIGHT)?;
                m.write_u32(tzname as u32, std_name)?;
                m.write_u32(tzname as u32 + 4, dst_name)
            })
        },
    )?;
    for (name, bytes, local) in [
        ("_localtime_js", TM_LOCALTIME_BYTES, true),
        ("_gmtime_js", TM_GMTIME_BYTES, false),
    ] {
        linker.func_wrap(
            "env",
            name,
            move |mut c: Caller<'_, EmCtx>, t: i32, tm: i32| -> wasmtime::Result<()> {
                mem(&mut c, "_gmtime_js", |_, m| {
                    let secs = i64::from(read_i32(m, t as u32)?);
                    let out = if local {
                        time::localtime(secs)
                    } else {
                        time::gmtime(secs)
                    };
                    match out {
                        Some(out) => write_tm(m, tm as u32, &out, bytes),
                        None => Ok(()),
                    }
                })
            },
        )?;
    }
    for (name, bytes, local) in [
        ("_mktime_js", TM_LOCALTIME_BYTES, true),
        ("_timegm_js", TM_GMTIME_BYTES, false),
    ] {
        linker.func_wrap(
            "env",
            name,
            move |mut c: Caller<'_, EmCtx>, tm: i32| -> wasmtime::Result<i32> {
                let r = mem(&mut c, "_mktime_js", |_, m| {
                    let mut t = read_tm(m, tm as u32)?;
                    let secs = if local {
                        time::mktime(&mut t)
                    } else {
                        time::timegm(&mut t)
                    };
                    match secs {
                        Some(s) => {
                            write_tm(m, tm as u32, &t, bytes)?;
                            Ok(Some(time::to_time_t(s)))
                        }
                        None => Ok(None),
                    }
                })?;
                match r {
                    Some(v) => Ok(v),
                    None => {
                        // The glue: `setErrNo(61)` (EOVERFLOW), -1.
                        set_errno(&mut c, 61)?;
                        Ok(-1)
                    }
                }
            },
        )?;
    }
    linker.func_wrap(
        "env",
        "time",
        |mut c: Caller<'_, EmCtx>, out: i32| -> wasmtime::Result<i32> {
            let t = time::to_time_t(now().as_secs() as i64);
            if out != 0 {
                mem(&mut c, "time", |_, m| write_i32(m, out as u32, t))?;
            }
            Ok(t)
        },
    )?;
    linker.func_wrap(
        "env",
        "gettimeofday",
        |mut c: Caller<'_, EmCtx>, tv: i32, _tz: i32| -> wasmtime::Result<i32> {
            let n = now();
            mem(&mut c, "gettimeofday", |_, m| {
                write_i32(m, tv as u32, time::to_time_t(n.as_secs() as i64))?;
                write_i32(m, tv as u32 + 4, n.subsec_micros() as i32)
            })?;
            Ok(0)
        },
    )?;
    linker.func_wrap(
        "env",
        "clock_gettime",
        |mut c: Caller<'_, EmCtx>, id: i32, ts: i32| -> wasmtime::Result<i32> {
            let d = match id {
                0 => now(),
                1 | 4 => c.data().started.elapsed(),
                _ => {
                    set_errno(&mut c, 28)?;
                    return Ok(-1);
                }
            };
            mem(&mut c, "clock_gettime", |_, m| {
                write_i32(m, ts as u32, d.as_secs() as i32)?;
                write_i32(m, ts as u32 + 4, d.subsec_nanos() as i32)
            })?;
            Ok(0)
        },
    )?;
    linker.func_wrap("env", "clock", |mut c: Caller<'_, EmCtx>| -> i32 {
        let start = *c
            .data_mut()
            .clock_start
            .get_or_insert_with(std::time::Instant::now);
        start.elapsed().as_micros() as i32
    })?;
    linker.func_wrap(
        "env",
        "difftime",
        |_: Caller<'_, EmCtx>, a: i32, b: i32| -> f64 { f64::from(a) - f64::from(b) },
    )?;
    linker.func_wrap(
        "env",
        "emscripten_date_now",
        |_: Caller<'_, EmCtx>| -> f64 { now().as_secs_f64() * 1000.0 },
    )?;
    linker.func_wrap("env", "emscripten_get_now", |c: Caller<'_, EmCtx>| -> f64 {
        c.data().started.elapsed().as_secs_f64() * 1000.0
    })?;
    linker.func_wrap(
        "env",
        "strftime",
        |mut c: Caller<'_, EmCtx>, s: i32, max: i32, format: i32, tm: i32| {
            strftime_into(&mut c, s, max, format, tm)
        },
    )?;
    linker.func_wrap(
        "env",
        "strftime_l",
        |mut c: Caller<'_, EmCtx>, s: i32, max: i32, format: i32, tm: i32, _locale: i32| {
            strftime_into(&mut c, s, max, format, tm)
        },
    )?;
    Ok(())
}

fn strftime_into(
    caller: &mut Caller<'_, EmCtx>,
    s: i32,
    max: i32,
    format: i32,
    tm: i32,
) -> wasmtime::Result<i32> {
    mem(caller, "strftime", |_, m| {
        let fmt = c_bytes(m, format as u32)?;
        let t = read_tm(m, tm as u32)?;
        let zone = if t.zone == 0 {
            String::new()
        } else {
            c_string(m, t.zone)?
        };
        match strftime_bounded(&fmt, &t, &zone, max as u32 as usize) {
            // `out` ends with the NUL.
            Some(out) => {
                m.write(s as u32, &out)?;
                Ok(out.len().saturating_sub(1) as i32)
            }
            None => Ok(0),
        }
    })
}

/// Header of a thrown object (`ExceptionInfo`, at `ptr - 16`).
const EXC_HEADER: u32 = 16;

fn malloc(caller: &mut Caller<'_, EmCtx>, size: i32) -> wasmtime::Result<u32> {
    let f = need(&exports(caller)?.malloc, "malloc")?;
    Ok(f.call(&mut *caller, size)? as u32)
}

fn free(caller: &mut Caller<'_, EmCtx>, ptr: u32) -> wasmtime::Result<()> {
    let f = need(&exports(caller)?.free, "free")?;
    f.call(&mut *caller, ptr as i32)
}

fn set_threw(caller: &mut Caller<'_, EmCtx>, threw: i32, value: i32) -> wasmtime::Result<()> {
    let f = need(&exports(caller)?.set_threw, "setThrew")?;
    f.call(&mut *caller, (threw, value))
}

fn exc_type(m: &GuestMem<'_>, thrown: u32) -> WasiResult<u32> {
    m.read_u32(thrown.wrapping_sub(EXC_HEADER) + 4)
}

/// `CatchInfo.get_exception_ptr()`.
fn exception_ptr(caller: &mut Caller<'_, EmCtx>, catch_info: u32) -> wasmtime::Result<u32> {
    let (base, adjusted, ty) = mem(caller, "__cxa_begin_catch", |_, m| {
        let base = m.read_u32(catch_info)?;
        Ok((base, m.read_u32(catch_info + 4)?, exc_type(m, base)?))
    })?;
    let is_pointer = need(&exports(caller)?.is_pointer_type, "__cxa_is_pointer_type")?;
    if is_pointer.call(&mut *caller, ty as i32)? != 0 {
        return mem(caller, "__cxa_begin_catch", |_, m| m.read_u32(base));
    }
    Ok(if adjusted != 0 { adjusted } else { base })
}

fn find_matching_catch(caller: &mut Caller<'_, EmCtx>, types: &[Val]) -> wasmtime::Result<i32> {
    let thrown = caller.data().exception_last;
    if thrown == 0 {
        caller.data_mut().temp_ret0 = 0;
        return Ok(0);
    }
    let thrown_type = mem(caller, "__cxa_find_matching_catch", |_, m| {
        exc_type(m, thrown)
    })?;
    let info = malloc(caller, 8)?;
    mem(caller, "__cxa_find_matching_catch", |_, m| {
        m.write_u32(info, thrown)?;
        m.write_u32(info + 4, thrown)
    })?;
    if thrown_type == 0 {
        caller.data_mut().temp_ret0 = 0;
        return Ok(info as i32);
    }
    let can_catch = need(&exports(caller)?.can_catch, "__cxa_can_catch")?;
    for t in types {
        let caught = t.i32().unwrap_or(0) as u32;
        if caught == 0 || caught == thrown_type {
            break;
        }
        if can_catch.call(
            &mut *caller,
            (caught as i32, thrown_type as i32, (info + 4) as i32),
        )? != 0
        {
            caller.data_mut().temp_ret0 = caught as i32;
            return Ok(info as i32);
        }
    }
    caller.data_mut().temp_ret0 = thrown_type as i32;
    Ok(info as i32)
}

fn define_exceptions(linker: &mut Linker<EmCtx>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "__cxa_allocate_exception",
        |mut c: Caller<'_, EmCtx>, size: i32| -> wasmtime::Result<i32> {
            Ok(
                malloc(&mut c, size.wrapping_add(EXC_HEADER as i32))?.wrapping_add(EXC_HEADER)
                    as i32,
            )
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_free_exception",
        |mut c: Caller<'_, EmCtx>, ptr: i32| -> wasmtime::Result<()> {
            free(&mut c, (ptr as u32).wrapping_sub(EXC_HEADER))
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_throw",
        |mut c: Caller<'_, EmCtx>, ptr: i32, ty: i32, destructor: i32| -> wasmtime::Result<()> {
            let ptr = ptr as u32;
            let h = ptr.wrapping_sub(EXC_HEADER);
            mem(&mut c, "__cxa_throw", |_, m| {
                m.write_u32(h + 4, ty as u32)?;
                m.write_u32(h + 8, destructor as u32)?;
                m.write_u32(h, 0)?;
                m.write(h + 12, &[0, 0])
            })?;
            let d = c.data_mut();
            d.exception_last = ptr;
            d.uncaught += 1;
            Err(wasmtime::Error::new(HostStop::Throw(ptr)))
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_begin_catch",
        |mut c: Caller<'_, EmCtx>, info: i32| -> wasmtime::Result<i32> {
            let info = info as u32;
            let newly_caught = mem(&mut c, "__cxa_begin_catch", |_, m| {
                let h = m.read_u32(info)?.wrapping_sub(EXC_HEADER);
                let was = m.read_u8(h + 12)? != 0;
                m.write(h + 12, &[1, 0])?;
                let rc = m.read_u32(h)?;
                m.write_u32(h, rc.wrapping_add(1))?;
                Ok(!was)
            })?;
            let d = c.data_mut();
            if newly_caught {
                d.uncaught -= 1;
            }
            d.caught.push(info);
            Ok(exception_ptr(&mut c, info)? as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_end_catch",
        |mut c: Caller<'_, EmCtx>| -> wasmtime::Result<()> {
            set_threw(&mut c, 0, 0)?;
            let Some(info) = c.data_mut().caught.pop() else {
                return Err(abort("__cxa_end_catch without a caught exception"));
            };
            let (base, release, destructor) = mem(&mut c, "__cxa_end_catch", |_, m| {
                let base = m.read_u32(info)?;
                let h = base.wrapping_sub(EXC_HEADER);
                let rc = m.read_u32(h)?;
                m.write_u32(h, rc.wrapping_sub(1))?;
                let rethrown = m.read_u8(h + 13)? != 0;
                Ok((base, rc == 1 && !rethrown, m.read_u32(h + 8)?))
            })?;
            if release {
                if destructor != 0 {
                    // A destructor returns `this` in the wasm32 C++ ABI: any results.
                    let func = table_func(&mut c, destructor)?;
                    let mut out: Vec<Val> = func.ty(&c).results().map(|t| zero(&t)).collect();
                    func.call(&mut c, &[Val::I32(base as i32)], &mut out)?;
                }
                free(&mut c, base.wrapping_sub(EXC_HEADER))?;
            }
            free(&mut c, info)?;
            c.data_mut().exception_last = 0;
            Ok(())
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_rethrow",
        |mut c: Caller<'_, EmCtx>| -> wasmtime::Result<()> {
            let Some(info) = c.data_mut().caught.pop() else {
                return Err(abort("no exception to throw"));
            };
            let (base, rethrown) = mem(&mut c, "__cxa_rethrow", |_, m| {
                let base = m.read_u32(info)?;
                let h = base.wrapping_sub(EXC_HEADER);
                let rethrown = m.read_u8(h + 13)? != 0;
                if !rethrown {
                    m.write(h + 12, &[0, 1])?;
                }
                Ok((base, rethrown))
            })?;
            if rethrown {
                free(&mut c, info)?;
            } else {
                let d = c.data_mut();
                d.caught.push(info);
                d.uncaught += 1;
            }
            c.data_mut().exception_last = base;
            Err(wasmtime::Error::new(HostStop::Throw(base)))
        },
    )?;
    linker.func_wrap(
        "env",
        "__resumeException",
        |mut c: Caller<'_, EmCtx>, info: i32| -> wasmtime::Result<()> {
            let base = mem(&mut c, "__resumeException", |_, m| m.read_u32(info as u32))?;
            if c.data().exception_last == 0 {
                c.data_mut().exception_last = base;
            }
            free(&mut c, info as u32)?;
            Err(wasmtime::Error::new(HostStop::Throw(base)))
        },
    )?;
    linker.func_wrap(
        "env",
        "llvm_eh_typeid_for",
        |_: Caller<'_, EmCtx>, t: i32| t,
    )?;
    linker.func_wrap(
        "env",
        "_emscripten_throw_longjmp",
        |_: Caller<'_, EmCtx>| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(HostStop::Longjmp))
        },
    )?;
    Ok(())
}

/// Calls the function at `index` of `__indirect_function_table`.
fn call_table(
    caller: &mut Caller<'_, EmCtx>,
    index: u32,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    table_func(caller, index)?.call(&mut *caller, params, results)
}

/// The function at `index` of `__indirect_function_table`.
fn table_func(caller: &mut Caller<'_, EmCtx>, index: u32) -> wasmtime::Result<wasmtime::Func> {
    let table = need(&exports(caller)?.table, "__indirect_function_table")?;
    table
        .get(&mut *caller, u64::from(index))
        .and_then(|r| r.as_func().flatten().copied())
        .ok_or_else(|| {
            wasmtime::Error::msg(format!(
                "indirect call to table index {index}, which holds no function"
            ))
        })
}

fn zero(ty: &ValType) -> Val {
    match ty {
        ValType::I64 => Val::I64(0),
        ValType::F32 => Val::F32(0),
        ValType::F64 => Val::F64(0),
        ValType::V128 => Val::V128(0u128.into()),
        ValType::Ref(r) => Val::null_ref(r.heap_type()),
        ValType::I32 => Val::I32(0),
    }
}

/// `invoke_<sig>(index, args…)`: call the table entry; a C++ throw or a longjmp is caught
/// (stack pointer restored, `setThrew(1, 0)`, zero results), anything else propagates.
fn invoke(
    caller: &mut Caller<'_, EmCtx>,
    params: &[Val],
    results: &mut [Val],
    result_types: &[ValType],
) -> wasmtime::Result<()> {
    let ex = exports(caller)?;
    let sp = ex.stack_save.call(&mut *caller, ())?;
    let index = params.first().and_then(Val::i32).ok_or_else(|| {
        wasmtime::Error::msg("invoke_*: the first parameter must be an i32 index")
    })?;
    match call_table(caller, index as u32, &params[1..], results) {
        Ok(()) => Ok(()),
        Err(e) if e.downcast_ref::<HostStop>().is_some_and(HostStop::unwinds) => {
            ex.stack_restore.call(&mut *caller, sp)?;
            set_threw(caller, 1, 0)?;
            for (slot, ty) in results.iter_mut().zip(result_types) {
                *slot = zero(ty);
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Where the WASI `fd_seek` stays reachable when a module without `-sWASM_BIGINT` imports
/// the legalised one.
pub(crate) const INTERNAL: &str = "webc-emscripten-internal";

/// `fd_seek(fd, offset_low, offset_high, whence, newOffset*)`: the import of modules built
/// without `-sWASM_BIGINT` (JS cannot pass an i64), forwarded to WASI's `fd_seek`.
fn define_legal_fd_seek(linker: &mut Linker<EmCtx>) -> wasmtime::Result<()> {
    linker.alias(webc_runner_wasi::PREVIEW1, "fd_seek", INTERNAL, "fd_seek")?;
    linker.func_wrap(
        webc_runner_wasi::PREVIEW1,
        "fd_seek",
        |mut c: Caller<'_, EmCtx>,
         fd: i32,
         low: i32,
         high: i32,
         whence: i32,
         out: i32|
         -> wasmtime::Result<i32> {
            let seek = need(&exports(&c)?.fd_seek, "fd_seek")?;
            let offset = (i64::from(high) << 32) | i64::from(low as u32);
            let mut r = [Val::I32(0)];
            seek.call(
                &mut c,
                &[
                    Val::I32(fd),
                    Val::I64(offset),
                    Val::I32(whence),
                    Val::I32(out),
                ],
                &mut r,
            )?;
            Ok(r[0].i32().unwrap_or(0))
        },
    )?;
    Ok(())
}

/// Defines every `env` import of `module` (the fixed ones, and the `invoke_*` and
/// `__cxa_find_matching_catch_*` the module imports, typed from their imports).
pub(crate) fn define(linker: &mut Linker<EmCtx>, module: &Module) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    define_memory(linker)?;
    define_exit(linker)?;
    define_time(linker)?;
    define_exceptions(linker)?;
    crate::fs::define(linker)?;
    for import in module.imports() {
        let ExternType::Func(ty) = import.ty() else {
            continue;
        };
        if import.module() == webc_runner_wasi::PREVIEW1 {
            if import.name() == "fd_seek" && ty.params().len() == 5 {
                define_legal_fd_seek(linker)?;
            }
            continue;
        }
        if import.module() != "env" {
            continue;
        }
        let name = import.name();
        if name.starts_with("invoke_") {
            if ty.params().next().is_none() {
                return Err(wasmtime::Error::msg(format!(
                    "env.{name}: {} has no table index parameter",
                    signature(&ty)
                )));
            }
            let result_types: Vec<ValType> = ty.results().collect();
            linker.func_new("env", name, ty.clone(), move |mut c, params, results| {
                invoke(&mut c, params, results, &result_types)
            })?;
        } else if name.starts_with(FIND_MATCHING_CATCH) {
            linker.func_new("env", name, ty.clone(), |mut c, params, results| {
                let r = find_matching_catch(&mut c, params)?;
                if let Some(slot) = results.first_mut() {
                    *slot = Val::I32(r);
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}
