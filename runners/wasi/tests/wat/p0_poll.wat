;; wasi_unstable poll_oneoff with two subscriptions of 56 bytes each: a 10 s clock (with its
;; identifier field) and a readable file; only the file's event comes back. (wasmtime-wasi
;; 48 rewrites the subscriptions in place as preview1 structs but then reads them with
;; preview1's 48-byte stride, so it misreads the second one and answers EINVAL.)
;; Expects /data/hello.txt.
(module
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_unstable" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  ;;@prelude
  ;;@data_dir
  (data (i32.const 1024) "/data\00")
  (data (i32.const 1040) "hello.txt\00")
  (data (i32.const 1088) "open hello.txt\00")
  (data (i32.const 1152) "poll 10s clock + fd_read\00")
  (data (i32.const 1216) "  nevents\00")
  (data (i32.const 1280) "  event userdata\00")
  (data (i32.const 1344) "  event error\00")
  (data (i32.const 1408) "  event type\00")
  (data (i32.const 1472) "  second event slot untouched\00")
  (data (i32.const 1536) "  subscriptions unchanged\00")

  (func (export "_start")
    (local $fd i32)
    (call $report (i32.const 1088) (i64.extend_i32_u
      (call $path_open (call $data_dir) (i32.const 1) (i32.const 1040) (i32.const 9)
        (i32.const 0) (i64.const 0x8200026) (i64.const 0x8200026) (i32.const 0) (i32.const 8200))))
    (local.set $fd (i32.load (i32.const 8200)))
    ;; subscription 0 at 9000: userdata 21, clock, identifier 0x0102030405060708,
    ;; monotonic, 10 s relative
    (memory.fill (i32.const 9000) (i32.const 0) (i32.const 112))
    (i64.store (i32.const 9000) (i64.const 21))
    (i64.store (i32.const 9016) (i64.const 0x0102030405060708))
    (i32.store (i32.const 9024) (i32.const 1))
    (i64.store (i32.const 9032) (i64.const 10000000000))
    ;; subscription 1 at 9056: userdata 22, fd_read on the file
    (i64.store (i32.const 9056) (i64.const 22))
    (i32.store8 (i32.const 9064) (i32.const 1))
    (i32.store (i32.const 9072) (local.get $fd))
    (memory.copy (i32.const 9500) (i32.const 9000) (i32.const 112))
    (memory.fill (i32.const 9200) (i32.const 0xAA) (i32.const 64))
    (call $report (i32.const 1152) (i64.extend_i32_u (call $poll_oneoff (i32.const 9000) (i32.const 9200) (i32.const 2) (i32.const 9300))))
    (call $report (i32.const 1216) (i64.load32_u (i32.const 9300)))
    (call $report (i32.const 1280) (i64.load (i32.const 9200)))
    (call $report (i32.const 1344) (i64.load16_u (i32.const 9208)))
    (call $report (i32.const 1408) (i64.load8_u (i32.const 9210)))
    (call $report (i32.const 1472) (i64.extend_i32_u (i64.eq (i64.load (i32.const 9232)) (i64.const 0xAAAAAAAAAAAAAAAA))))
    ;; the subscription array reads back as written
    (call $report (i32.const 1536) (i64.extend_i32_u (i32.and
      (i64.eq (i64.load (i32.const 9016)) (i64.load (i32.const 9516)))
      (i32.and (i64.eq (i64.load (i32.const 9032)) (i64.load (i32.const 9532)))
               (i64.eq (i64.load (i32.const 9072)) (i64.load (i32.const 9572))))))))
)
