;; A misaligned result pointer. The WASI witx docs say the call "shall trap"; wasmtime-wasi
;; 48 traps (GuestError::PtrNotAligned).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  ;;@prelude
  (data (i32.const 1024) "before\00")
  (data (i32.const 1088) "clock_time_get into 8193\00")
  (func (export "_start")
    (call $report (i32.const 1024) (i64.const 1))
    (call $report (i32.const 1088) (i64.extend_i32_u (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 8193)))))
)
