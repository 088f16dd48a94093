/* proc_exit and the ways a program ends.
 *   proc exit N     prints, then __wasi_proc_exit(N) (stdio is not flushed by that call, so
 *                   it flushes first)
 *   proc return N   returns N from main
 *   proc exit_flush N  printf without newline, then exit(N): libc flushes
 *   proc trap       __builtin_trap() after printing
 *   proc abort      abort() after printing
 *   proc deep N     proc_exit(N) from 100 frames deep
 */
#include "common.h"

static void deep(int depth, int code) {
    if (depth == 0) {
        fflush(stdout);
        __wasi_proc_exit((__wasi_exitcode_t)code);
    }
    deep(depth - 1, code);
    printf("unreachable after proc_exit\n");
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *what = argv[1];
    int code = argc > 2 ? atoi(argv[2]) : 0;
    printf("proc %s %d\n", what, code);
    if (!strcmp(what, "exit")) {
        fflush(stdout);
        __wasi_proc_exit((__wasi_exitcode_t)code);
    } else if (!strcmp(what, "return")) {
        return code;
    } else if (!strcmp(what, "exit_flush")) {
        printf("buffered, no newline");
        exit(code);
    } else if (!strcmp(what, "trap")) {
        fflush(stdout);
        __builtin_trap();
    } else if (!strcmp(what, "abort")) {
        fflush(stdout);
        abort();
    } else if (!strcmp(what, "deep")) {
        deep(100, code);
    }
    printf("unknown\n");
    return 3;
}
