;; proc_raise (deprecated in preview1, not in wasi-libc) answers ENOTSUP (58) as
;; wasmtime-wasi 48 does; sched_yield succeeds.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  ;;@prelude
  (data (i32.const 1024) "proc_raise(SIGABRT)\00")
  (data (i32.const 1088) "proc_raise(SIGTERM)\00")
  (data (i32.const 1152) "sched_yield\00")
  (data (i32.const 1216) "still running\00")
  (func (export "_start")
    (call $report (i32.const 1024) (i64.extend_i32_u (call $proc_raise (i32.const 6))))
    (call $report (i32.const 1088) (i64.extend_i32_u (call $proc_raise (i32.const 15))))
    (call $report (i32.const 1152) (i64.extend_i32_u (call $sched_yield)))
    (call $report (i32.const 1216) (i64.const 1)))
)
