;; path_open with the fd_write right on a directory is EISDIR (31), with oflags::directory
;; or without, as wasmtime-wasi 48 answers; read rights alone open it (0). Prints errnos.
;; Expects the directory /data (the readdir tree: a.txt, dir/).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  ;;@prelude
  ;;@data_dir
  (data (i32.const 1024) "O_DIRECTORY dir, read+write rights\00")
  (data (i32.const 1088) "O_DIRECTORY dir, write right only\00")
  (data (i32.const 1152) "O_DIRECTORY dir, read rights\00")
  (data (i32.const 1216) "dir, write right, no O_DIRECTORY\00")
  (data (i32.const 1280) "O_DIRECTORY ., read+write rights\00")
  (data (i32.const 1344) "O_DIRECTORY a.txt, read+write rights\00")
  (data (i32.const 1408) "O_DIRECTORY missing, read+write rights\00")
  (data (i32.const 1472) "a.txt, read+write rights\00")
  (data (i32.const 2048) "dir\00")
  (data (i32.const 2056) ".\00")
  (data (i32.const 2064) "a.txt\00")
  (data (i32.const 2080) "missing\00")

  (func $r (param $label i32) (param $errno i32)
    (call $report (local.get $label) (i64.extend_i32_u (local.get $errno))))
  ;; path_open(dir, follow, path, oflags, base rights) -> errno; closes what it opened.
  (func $open (param $dir i32) (param $path i32) (param $oflags i32) (param $base i64) (result i32)
    (local $e i32)
    (local.set $e (call $path_open (local.get $dir) (i32.const 1) (local.get $path) (call $strlen (local.get $path))
      (local.get $oflags) (local.get $base) (i64.const 0x1fffffff) (i32.const 0) (i32.const 8192)))
    (if (i32.eqz (local.get $e)) (then (drop (call $fd_close (i32.load (i32.const 8192))))))
    (local.get $e))

  (func (export "_start")
    (local $data i32)
    (local.set $data (call $data_dir))
    ;; rights: fd_read 0x2, fd_write 0x40, path_open 0x2000, fd_readdir 0x4000
    (call $r (i32.const 1024) (call $open (local.get $data) (i32.const 2048) (i32.const 2) (i64.const 0x6042)))
    (call $r (i32.const 1088) (call $open (local.get $data) (i32.const 2048) (i32.const 2) (i64.const 0x40)))
    (call $r (i32.const 1152) (call $open (local.get $data) (i32.const 2048) (i32.const 2) (i64.const 0x6002)))
    (call $r (i32.const 1216) (call $open (local.get $data) (i32.const 2048) (i32.const 0) (i64.const 0x42)))
    (call $r (i32.const 1280) (call $open (local.get $data) (i32.const 2056) (i32.const 2) (i64.const 0x6042)))
    (call $r (i32.const 1344) (call $open (local.get $data) (i32.const 2064) (i32.const 2) (i64.const 0x6042)))
    (call $r (i32.const 1408) (call $open (local.get $data) (i32.const 2080) (i32.const 2) (i64.const 0x6042)))
    (call $r (i32.const 1472) (call $open (local.get $data) (i32.const 2064) (i32.const 0) (i64.const 0x42))))
)
