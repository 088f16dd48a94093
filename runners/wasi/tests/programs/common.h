/* Shared helpers for the WASI conformance programs (header only; every program is one .c). */
#ifndef CONFORMANCE_COMMON_H
#define CONFORMANCE_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HELPER static __attribute__((unused))

/* WASI preview1 errno names; wasi-libc's errno values are the same numbers. */
static const char *const ERRNAMES[] = {
    "OK",
    "E2BIG",
    "EACCES",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "EAFNOSUPPORT",
    "EAGAIN",
    "EALREADY",
    "EBADF",
    "EBADMSG",
    "EBUSY",
    "ECANCELED",
    "ECHILD",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "EDEADLK",
    "EDESTADDRREQ",
    "EDOM",
    "EDQUOT",
    "EEXIST",
    "EFAULT",
    "EFBIG",
    "EHOSTUNREACH",
    "EIDRM",
    "EILSEQ",
    "EINPROGRESS",
    "EINTR",
    "EINVAL",
    "EIO",
    "EISCONN",
    "EISDIR",
    "ELOOP",
    "EMFILE",
    "EMLINK",
    "EMSGSIZE",
    "EMULTIHOP",
    "ENAMETOOLONG",
    "ENETDOWN",
    "ENETRESET",
    "ENETUNREACH",
    "ENFILE",
    "ENOBUFS",
    "ENODEV",
    "ENOENT",
    "ENOEXEC",
    "ENOLCK",
    "ENOLINK",
    "ENOMEM",
    "ENOMSG",
    "ENOPROTOOPT",
    "ENOSPC",
    "ENOSYS",
    "ENOTCONN",
    "ENOTDIR",
    "ENOTEMPTY",
    "ENOTRECOVERABLE",
    "ENOTSOCK",
    "ENOTSUP",
    "ENOTTY",
    "ENXIO",
    "EOVERFLOW",
    "EOWNERDEAD",
    "EPERM",
    "EPIPE",
    "EPROTO",
    "EPROTONOSUPPORT",
    "EPROTOTYPE",
    "ERANGE",
    "EROFS",
    "ESPIPE",
    "ESRCH",
    "ESTALE",
    "ETIMEDOUT",
    "ETXTBSY",
    "EXDEV",
    "ENOTCAPABLE"
};

HELPER const char *errname(int e) {
    if (e >= 0 && e < (int)(sizeof ERRNAMES / sizeof ERRNAMES[0])) return ERRNAMES[e];
    return "E?";
}

/* "label: OK" or "label: ENAME" for a raw __wasi_* result. */
HELPER void wres(const char *label, __wasi_errno_t e) {
    printf("%s: %s\n", label, errname(e));
}

/* "label: OK" or "label: ENAME" for a libc call returning < 0 / NULL with errno set. */
HELPER void lres(const char *label, int failed) {
    printf("%s: %s\n", label, failed ? errname(errno) : "OK");
}

HELPER void yesno(const char *label, int cond) {
    printf("%s: %s\n", label, cond ? "yes" : "no");
}

/* A directory descriptor for an absolute guest path, opened through libc (which picks the
 * preopen that holds it: wasmtime preopens each --dir, we preopen `.` and `/`). Exits with
 * a message when it cannot be opened. */
HELPER __wasi_fd_t open_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        printf("open %s: %s\n", path, errname(errno));
        exit(99);
    }
    return (__wasi_fd_t)fd;
}

HELPER __wasi_errno_t wopen(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags,
                            __wasi_rights_t rights, __wasi_fdflags_t fdflags, __wasi_fd_t *out) {
    return __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags, rights, rights,
                            fdflags, out);
}

#define R_RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | \
              __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET | \
              __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | \
              __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_ADVISE | \
              __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | \
              __WASI_RIGHTS_POLL_FD_READWRITE)
#define R_RO (R_RW & ~(__WASI_RIGHTS_FD_WRITE))
#define R_WO (R_RW & ~(__WASI_RIGHTS_FD_READ))
#define R_DIR (__WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_FILESTAT_GET | \
               __WASI_RIGHTS_PATH_FILESTAT_GET | __WASI_RIGHTS_PATH_CREATE_FILE | \
               __WASI_RIGHTS_PATH_CREATE_DIRECTORY)

/* Writes `s` to an fd with fd_write; returns the errno. */
HELPER __wasi_errno_t wwrite(__wasi_fd_t fd, const char *s, size_t *n) {
    __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
    return __wasi_fd_write(fd, &iov, 1, n);
}

HELPER __wasi_errno_t wread(__wasi_fd_t fd, char *buf, size_t cap, size_t *n) {
    __wasi_iovec_t iov = {(uint8_t *)buf, cap};
    return __wasi_fd_read(fd, &iov, 1, n);
}

/* Runs the subtest named argv[1] (all of them when there is no argument). */
struct subtest {
    const char *name;
    void (*run)(void);
};

HELPER int run_subtests(int argc, char **argv, const struct subtest *tests, size_t n) {
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) continue;
        printf("== %s\n", tests[i].name);
        tests[i].run();
        ran++;
    }
    if (!ran) {
        printf("unknown subtest %s\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return 0;
}

#define SUBTESTS(...)                                                                    \
    int main(int argc, char **argv) {                                                  \
        static const struct subtest tests[] = {__VA_ARGS__};                             \
        int rc = run_subtests(argc, argv, tests, sizeof tests / sizeof tests[0]);       \
        fflush(stdout);                                                                 \
        return rc;                                                                      \
    }

#endif
