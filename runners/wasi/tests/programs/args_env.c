/* args_get, args_sizes_get, environ_get, environ_sizes_get.
 * Prints argv (libc and raw), the environment sorted by name, and the variables that were
 * not granted. No subtests: every argument is data. */
#include "common.h"

extern char **environ;

static int cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    printf("argc: %d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]: [%s]\n", i, argv[i]);

    /* Raw calls: sizes agree with libc's view, every string NUL-terminated in the buffer. */
    __wasi_size_t n = 0, bytes = 0;
    wres("args_sizes_get", __wasi_args_sizes_get(&n, &bytes));
    size_t want = 0;
    for (int i = 0; i < argc; i++) want += strlen(argv[i]) + 1;
    printf("args count matches: %s\n", (int)n == argc ? "yes" : "no");
    printf("args bytes: %u (expected %zu)\n", (unsigned)bytes, want);
    uint8_t **ptrs = calloc(n + 1, sizeof *ptrs);
    uint8_t *buf = malloc(bytes + 1);
    wres("args_get", __wasi_args_get(ptrs, buf));
    int same = 1;
    for (__wasi_size_t i = 0; i < n; i++) {
        if (ptrs[i] < buf || ptrs[i] >= buf + bytes) same = 0;
        else if (strcmp((char *)ptrs[i], argv[i]) != 0) same = 0;
    }
    yesno("raw args equal argv", same);
    free(ptrs);
    free(buf);

    wres("environ_sizes_get", __wasi_environ_sizes_get(&n, &bytes));
    size_t envc = 0;
    want = 0;
    for (char **e = environ; e && *e; e++) {
        envc++;
        want += strlen(*e) + 1;
    }
    printf("environ count: %u (libc %zu)\n", (unsigned)n, envc);
    printf("environ bytes: %u (expected %zu)\n", (unsigned)bytes, want);
    ptrs = calloc(n + 1, sizeof *ptrs);
    buf = malloc(bytes + 1);
    wres("environ_get", __wasi_environ_get(ptrs, buf));
    qsort(ptrs, n, sizeof *ptrs, cmp);
    for (__wasi_size_t i = 0; i < n; i++) printf("env: [%s]\n", (char *)ptrs[i]);
    free(ptrs);
    free(buf);

    /* Nothing leaks from the host: these are never granted by the tests. */
    const char *never[] = {"HOME", "PATH", "USER", "SECRET_TOKEN"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        const char *v = getenv(never[i]);
        printf("getenv(%s): %s\n", never[i], v ? v : "(unset)");
    }
    return 0;
}
