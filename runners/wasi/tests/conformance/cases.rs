//! Every conformance case: program, subtest, fixture, args/env/stdin, limits, golden source.

use std::time::Duration;

use super::harness::{Annotations, Case, Fixture};

const RO_REASON: &str = "wasmtime's CLI grants every --dir read-write; a read-only grant and a \
                         container volume answer EPERM to every write, as wasmtime-wasi 48 does \
                         for a read-only preopen (FilePerms/DirPerms without WRITE -> NotPermitted)";

pub const CASES: &[Case] = &[
    // args / environ
    Case::new("args_basic", "args_env").args(&["one", "", "with space", "ünïcödé", "--flag=x"]),
    Case::new("env_granted", "args_env").env(&[
        ("ALPHA", "1"),
        ("EMPTY", ""),
        ("WITH_EQUALS", "a=b=c"),
        ("UNICODE", "ü"),
    ]),
    Case::new("env_none", "args_env"),
    // The manifest's main-args come before the user's, exec-name is argv[0], wasi.env is
    // added to the granted env: the same argv/env as this wasmtime invocation.
    Case::new("manifest_args_env", "args_env")
        .annotations(Annotations {
            main_args: &["--from-manifest", "two words"],
            env: &["GREETING=hi", "FROM_MANIFEST=1"],
            exec_name: Some("hello-bin"),
            cwd: None,
        })
        .args(&["user-arg"])
        .env(&[("GRANTED", "yes")]),
    // A variable set by the manifest and granted by the user: one entry, the user's value.
    Case::new("env_override", "args_env")
        .annotations(Annotations {
            main_args: &[],
            env: &["K=from-manifest", "ONLY_MANIFEST=1"],
            exec_name: None,
            cwd: None,
        })
        .env(&[("K", "granted")])
        .ours(
            "wasi.env then the granted variables, a later value of a key replacing an earlier \
             one (one `K`, the user's); wasmtime passes both `--env K=…` entries through",
        ),
    // clocks, random, sched_yield
    Case::new("clocks", "clocks").args(&["clocks"]),
    Case::new("clocks_cputime", "clocks")
        .args(&["cputime"])
        .ours(
            "the process and thread CPU-time clocks work (WASI defines them; the runner measures \
         the host thread's CPU time); wasmtime-wasi 48 answers EBADF",
        ),
    Case::new("clocks_badclock", "clocks")
        .args(&["badclock"])
        .ours(
            "an out-of-range clock id is EINVAL (WASI: invalid enum value); wasmtime-wasi 48 fails \
         the call with a host error",
        ),
    Case::new("random", "clocks").args(&["random"]),
    Case::new("sched_yield", "clocks").args(&["yield"]),
    // poll_oneoff
    Case::new("poll_sleep", "poll").args(&["sleep"]),
    Case::new("poll_errors", "poll")
        .args(&["errors"])
        .fixture(Fixture::Hello),
    Case::new("poll_fds", "poll")
        .args(&["fds"])
        .fixture(Fixture::Hello)
        .stdin(b"some input\n"),
    Case::new("poll_stdin_eof", "poll")
        .args(&["stdin_eof"])
        .stdin(b"abc"),
    Case::new("poll_stdin_empty", "poll").args(&["stdin_eof"]),
    // proc_exit and other endings
    Case::new("proc_exit_0", "proc").args(&["exit", "0"]),
    Case::new("proc_exit_42", "proc").args(&["exit", "42"]),
    Case::new("proc_exit_125", "proc").args(&["exit", "125"]),
    Case::new("proc_exit_255", "proc")
        .args(&["exit", "255"])
        .ours(
            "exit codes >= 126 pass through like a native process's; wasmtime's CLI refuses them \
         (\"exit with invalid exit status outside of [0..126)\", exit 1)",
        ),
    Case::new("proc_return_7", "proc").args(&["return", "7"]),
    Case::new("proc_exit_flush", "proc").args(&["exit_flush", "3"]),
    Case::new("proc_deep_exit", "proc").args(&["deep", "9"]),
    Case::new("proc_trap", "proc").args(&["trap"]),
    Case::new("proc_abort", "proc").args(&["abort"]),
    // sockets
    Case::new("sock", "sock").fixture(Fixture::Hello),
    // stdio
    Case::new("stdio", "stdio")
        .stdin(b"hello there\nsecond line\nno newline at the end")
        .stderr(),
    Case::new("stdio_empty_stdin", "stdio").stderr(),
    // fd_*
    Case::new("fd_rw", "fd")
        .args(&["rw"])
        .fixture(Fixture::Scratch),
    Case::new("fd_filestat", "fd")
        .args(&["filestat"])
        .fixture(Fixture::Scratch),
    Case::new("fd_fdstat", "fd")
        .args(&["fdstat"])
        .fixture(Fixture::Scratch),
    Case::new("fd_syncflags", "fd")
        .args(&["syncflags"])
        .fixture(Fixture::Scratch),
    Case::new("fd_dirs", "fd")
        .args(&["dirs"])
        .fixture(Fixture::Scratch),
    Case::new("fd_badfd", "fd")
        .args(&["badfd"])
        .fixture(Fixture::Scratch),
    Case::new("fd_stdio", "fd")
        .args(&["stdio"])
        .fixture(Fixture::Scratch)
        .stdin(b"input"),
    Case::new("fd_renumber", "fd")
        .args(&["renumber"])
        .fixture(Fixture::Scratch),
    Case::new("fd_prestat", "fd")
        .args(&["prestat"])
        .fixture(Fixture::Scratch),
    Case::new("fd_allocate", "fd")
        .args(&["allocate"])
        .fixture(Fixture::Scratch)
        .ours(
            "fd_allocate allocates (posix_fallocate semantics: the file grows to offset+len) \
             through the host file system's allocate; wasmtime-wasi 48 answers ENOTSUP",
        ),
    Case::new("fd_rights", "fd")
        .args(&["rights"])
        .fixture(Fixture::Scratch),
    Case::new("fd_append_pwrite", "fd")
        .args(&["append_pwrite"])
        .fixture(Fixture::Scratch)
        .ours(
            "pwrite on an append-mode descriptor writes at the given offset (POSIX; webc-vfs \
             documents it); Linux, and so wasmtime, appends instead",
        ),
    Case::new("fd_truncate_ro", "fd")
        .args(&["truncate_ro"])
        .fixture(Fixture::Scratch)
        .ours(
            "fd_filestat_set_size through a read-only descriptor is EBADF (webc-vfs: writing \
             through a handle not opened for writing); Linux's ftruncate, and so wasmtime, \
             answers EINVAL (POSIX allows both)",
        ),
    Case::new("fd_badenum", "fd")
        .args(&["badenum"])
        .fixture(Fixture::Scratch)
        .ours(
            "out-of-range whence/advice values are EINVAL (WASI: invalid enum value); \
             wasmtime-wasi 48 fails the call with a host error",
        ),
    Case::new("fd_huge", "fd")
        .args(&["huge"])
        .fixture(Fixture::Scratch)
        .ours(
            "a file position is a non-negative i64 as in Linux's lseek, so seeking past \
             i64::MAX is EINVAL (wasmtime-wasi keeps its own u64 position and fails the read \
             later)",
        ),
    // fd_readdir
    Case::new("readdir_list", "readdir")
        .args(&["list"])
        .fixture(Fixture::Tree),
    Case::new("readdir_cookies", "readdir")
        .args(&["cookies"])
        .fixture(Fixture::Tree),
    Case::new("readdir_small", "readdir")
        .args(&["small"])
        .fixture(Fixture::Tree),
    Case::new("readdir_errors", "readdir")
        .args(&["errors"])
        .fixture(Fixture::Tree),
    Case::new("readdir_libc", "readdir")
        .args(&["libc"])
        .fixture(Fixture::Tree),
    Case::new("read_big", "read").fixture(Fixture::Big),
    Case::new("volume_read_big", "read")
        .fixture(Fixture::BigVolume)
        .same_as("read_big"),
    // The same listings from a container volume (served without unpacking) as from a host
    // directory under wasmtime.
    Case::new("volume_readdir_list", "readdir")
        .args(&["list"])
        .fixture(Fixture::TreeVolume)
        .same_as("readdir_list"),
    Case::new("volume_readdir_cookies", "readdir")
        .args(&["cookies"])
        .fixture(Fixture::TreeVolume)
        .same_as("readdir_cookies"),
    Case::new("volume_readdir_small", "readdir")
        .args(&["small"])
        .fixture(Fixture::TreeVolume)
        .same_as("readdir_small"),
    Case::new("volume_readdir_errors", "readdir")
        .args(&["errors"])
        .fixture(Fixture::TreeVolume)
        .same_as("readdir_errors"),
    Case::new("volume_readdir_libc", "readdir")
        .args(&["libc"])
        .fixture(Fixture::TreeVolume)
        .same_as("readdir_libc"),
    Case::new("volume_wat_readdir_tiny", "wat:readdir_tiny")
        .fixture(Fixture::TreeVolume)
        .same_as("wat_readdir_tiny"),
    Case::new("volume_wat_p0_layouts", "wat:p0_layouts")
        .fixture(Fixture::HelloVolume)
        .same_as("wat_p0_layouts"),
    Case::new("volume_wat_p1_layouts", "wat:p1_layouts")
        .fixture(Fixture::HelloVolume)
        .same_as("wat_p1_layouts"),
    // path_*
    Case::new("path_oflags", "paths")
        .args(&["oflags"])
        .fixture(Fixture::Scratch),
    Case::new("path_fdflags", "paths")
        .args(&["fdflags"])
        .fixture(Fixture::Scratch),
    Case::new("path_syncflags", "paths")
        .args(&["syncflags"])
        .fixture(Fixture::Scratch),
    Case::new("path_lookup", "paths")
        .args(&["lookup"])
        .fixture(Fixture::Scratch),
    Case::new("path_mkdir", "paths")
        .args(&["mkdir"])
        .fixture(Fixture::Scratch),
    Case::new("path_filestat", "paths")
        .args(&["filestat"])
        .fixture(Fixture::Scratch),
    Case::new("path_link", "paths")
        .args(&["link"])
        .fixture(Fixture::Scratch),
    Case::new("path_readlink", "paths")
        .args(&["readlink"])
        .fixture(Fixture::Scratch),
    Case::new("path_rmdir", "paths")
        .args(&["rmdir"])
        .fixture(Fixture::Scratch),
    Case::new("path_rename", "paths")
        .args(&["rename"])
        .fixture(Fixture::Scratch),
    Case::new("path_symlink", "paths")
        .args(&["symlink"])
        .fixture(Fixture::Scratch),
    Case::new("path_unlink", "paths")
        .args(&["unlink"])
        .fixture(Fixture::Scratch),
    Case::new("path_rmdir_slash", "paths")
        .args(&["rmdir_slash"])
        .fixture(Fixture::Scratch)
        .ours(
            "rmdir of `dir/` removes the directory, as POSIX and Linux do; wasmtime-wasi 48 \
             (cap-std) answers EINVAL",
        ),
    Case::new("path_unlink_slash", "paths")
        .args(&["unlink_slash"])
        .fixture(Fixture::Scratch),
    Case::new("path_nofollow_dir", "paths")
        .args(&["nofollow_dir"])
        .fixture(Fixture::Scratch)
        .ours(
            "O_DIRECTORY without following, on a symlink, is ENOTDIR as Linux's open(2) answers \
             (POSIX allows it: the path resolves to a non-directory); wasmtime-wasi 48 \
             (cap-std) answers ELOOP",
        ),
    // preopens and the working directory
    Case::new("preopens_default", "preopens")
        .fixture(Fixture::Hello)
        .ours(
            "we preopen `.` (the cwd, default `/`) and `/`, as Wasmer does, and reach mounts \
             through `/`; wasmtime preopens exactly the --dir directories. wasi-libc resolves \
             relative paths under the last-registered of two equally long prefixes, `/`",
        ),
    Case::new("preopens_cwd", "preopens")
        .fixture(Fixture::Hello)
        .annotations(Annotations {
            main_args: &[],
            env: &[],
            exec_name: None,
            cwd: Some("/data"),
        })
        .ours(
            "wasi.cwd preopens `.` at the cwd first, then `/`, as Wasmer does: fd 3 reaches \
             the cwd, libc still resolves relative paths under `/`; wasmtime has no such \
             setting (its reference run has only /data)",
        ),
    // denials
    Case::new("deny_symlink_escapes", "denials")
        .args(&["symlinks"])
        .fixture(Fixture::Escapes),
    Case::new("deny_dotdot", "denials")
        .args(&["dotdot"])
        .fixture(Fixture::Escapes)
        .ours(
            "`..` above a directory descriptor is EPERM, as in wasmtime-wasi 48, but the guest \
             sees one namespace rooted at `/` (webc-vfs, preopened as Wasmer does): libc \
             resolves `/data/../secret` through the `/` preopen, which has nothing above it, to \
             `/secret`, which no mount provides (ENOENT); wasmtime resolves it through the \
             /data preopen (EPERM)",
        ),
    Case::new("deny_absolute", "denials")
        .args(&["absolute"])
        .fixture(Fixture::Escapes)
        .ours(
            "an absolute path given to a path_* call is ENOTCAPABLE (the capability was never \
             granted); wasmtime-wasi 48 answers EPERM (cap-std's escape error)",
        ),
    Case::new("deny_outside_mounts", "denials")
        .args(&["outside"])
        .fixture(Fixture::Escapes)
        .ours(
            "we preopen `/` (as Wasmer does), so libc resolves any absolute path through it and \
             a path that no mount provides is ENOENT; with wasmtime only the --dir preopens \
             exist, so libc finds no preopen and answers ENOTCAPABLE",
        ),
    Case::new("deny_readonly_grant", "denials")
        .args(&["readonly", "/ro"])
        .fixture(Fixture::ReadOnly)
        .ours(RO_REASON),
    Case::new("deny_volume_writes", "denials")
        .args(&["readonly", "/vol"])
        .fixture(Fixture::ReadOnly)
        .ours_only(RO_REASON),
    Case::new("deny_memory_limit", "memory").memory(32 * 1024 * 1024),
    Case::new("deny_time_limit_loop", "spin")
        .args(&["loop"])
        .time(Duration::from_millis(300))
        .ours(
            "the host's Timeout outcome (exit 124); wasmtime's CLI reports its -W timeout as a \
             trap (exit 134)",
        ),
    Case::new("deny_time_limit_sleep", "spin")
        .args(&["sleep"])
        .time(Duration::from_millis(300))
        .ours(
            "the host's Timeout outcome (exit 124), also while the guest sleeps in poll_oneoff; \
             wasmtime's CLI reports a trap (exit 134)",
        ),
    Case::new("deny_time_limit_read", "spin")
        .args(&["read"])
        .time(Duration::from_millis(300))
        .ours(
            "the host's Timeout outcome (exit 124) for a loop of host calls (reads at EOF); \
             wasmtime's CLI reports a trap (exit 134)",
        ),
    // WAT modules: wasi_unstable layouts and what C cannot express
    Case::new("wat_p0_layouts", "wat:p0_layouts").fixture(Fixture::Hello),
    Case::new("wat_p0_poll", "wat:p0_poll")
        .fixture(Fixture::Hello)
        .ours(
            "two 56-byte wasi_unstable subscriptions; wasmtime-wasi 48 rewrites them in place as \
         preview1 structs but reads them back with preview1's 48-byte stride, misreads the \
         second and answers EINVAL (a wasmtime bug)",
        ),
    Case::new("wat_p1_layouts", "wat:p1_layouts").fixture(Fixture::Hello),
    Case::new("wat_efault", "wat:efault")
        .fixture(Fixture::Hello)
        .args(&["a", "bc"])
        .env(&[("K", "V")])
        .stdin(b"stdin data\n")
        .ours(
            "a pointer outside linear memory is EFAULT and the program goes on (the issue's \
             rule: guest pointers never crash the host, nor the guest); wasmtime-wasi 48 traps",
        ),
    Case::new("wat_ilseq", "wat:ilseq").fixture(Fixture::Hello),
    Case::new("wat_badflags", "wat:badflags")
        .fixture(Fixture::Scratch)
        .ours(
            "flag arguments with undefined bits are EINVAL and the program goes on; \
             wasmtime-wasi 48 fails the call with a host error (the CLI exits 1)",
        ),
    Case::new("wat_readdir_tiny", "wat:readdir_tiny").fixture(Fixture::Tree),
    Case::new("wat_proc_raise", "wat:proc_raise"),
    // Issue 10 §1: the goldens of these three come from wasmtime-wasi 48.0.0 (its preview1
    // implementation, run through the `wasmtime` 48.0.0 Python embedding: no wasmtime CLI was
    // installable where they were written); `--goldens` re-records them with the 48.0.8 CLI.
    Case::new("wat_dotdot_fd", "wat:dotdot_fd").fixture(Fixture::Tree),
    Case::new("wat_open_dir_write", "wat:open_dir_write").fixture(Fixture::Tree),
    Case::new("wat_symlink_slash", "wat:symlink_slash").fixture(Fixture::Scratch),
    Case::new("wat_misaligned", "wat:misaligned").ours(
        "a misaligned pointer traps (the witx docs: the function \"shall trap\"); wasmtime's \
         CLI ends with a host error and exit 1 rather than a trap",
    ),
];
