// A bare WASI module for host/tests/wasi.rs: `webc-host run tool.wasm -- CMD ARGS`.
//   args              print argv, one entry per line
//   exit N            exit with status N (proc_exit)
//   trap              execute `unreachable`
//   loop              spin forever (for --timeout)
//   alloc MIB         malloc MIB MiB and touch every page; prints "allocated" or
//                     "malloc failed" (then exit 2)
//   cat PATH          print the file; on failure `cat PATH: error: <strerror>`, exit 1
//   write PATH TEXT   create or truncate PATH and write TEXT; failure as for cat
//   stdin             copy standard input to standard output
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *op, const char *path) {
    fprintf(stderr, "%s %s: error: %s\n", op, path, strerror(errno));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: tool args|exit N|trap|loop|alloc MIB|cat PATH|write PATH TEXT|stdin\n");
        return 64;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "args")) {
        for (int i = 0; i < argc; i++) printf("%s\n", argv[i]);
        return 0;
    }
    if (!strcmp(cmd, "exit") && argc > 2) {
        fflush(stdout);
        exit(atoi(argv[2]));
    }
    if (!strcmp(cmd, "trap")) {
        printf("about to trap\n");
        fflush(stdout);
        __builtin_trap();
    }
    if (!strcmp(cmd, "loop")) {
        volatile unsigned long spins = 0;
        for (;;) spins++;
    }
    if (!strcmp(cmd, "alloc") && argc > 2) {
        size_t mib = strtoul(argv[2], NULL, 10);
        volatile char *p = malloc(mib << 20);
        if (!p) {
            printf("malloc failed\n");
            return 2;
        }
        for (size_t i = 0; i < (mib << 20); i += 4096) p[i] = 1;
        printf("allocated %zu MiB\n", mib);
        return 0;
    }
    if (!strcmp(cmd, "cat") && argc > 2) {
        FILE *f = fopen(argv[2], "r");
        if (!f) return fail("cat", argv[2]);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        int bad = ferror(f);
        fclose(f);
        return bad ? fail("cat", argv[2]) : 0;
    }
    if (!strcmp(cmd, "write") && argc > 3) {
        FILE *f = fopen(argv[2], "w");
        if (!f) return fail("write", argv[2]);
        size_t len = strlen(argv[3]);
        if (fwrite(argv[3], 1, len, f) != len || fclose(f) != 0) return fail("write", argv[2]);
        printf("wrote %zu bytes to %s\n", len, argv[2]);
        return 0;
    }
    if (!strcmp(cmd, "stdin")) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
        return 0;
    }
    fprintf(stderr, "tool: unknown command %s\n", cmd);
    return 64;
}
