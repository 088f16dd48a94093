/* The preopened directories and the current directory: lists every preopen (fd and name),
 * getcwd(), and opens hello.txt relatively and absolutely. With wasmtime only the --dir
 * directories are preopened; we preopen `.` (the manifest's cwd, default `/`) and `/`,
 * as Wasmer does. */
#include "common.h"

static void try_cat(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("fopen %s: %s\n", path, errname(errno));
        return;
    }
    char buf[64];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    if (n && buf[n - 1] == '\n') buf[n - 1] = 0;
    fclose(f);
    printf("fopen %s: OK [%s]\n", path, buf);
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    for (__wasi_fd_t fd = 3; fd < 32; fd++) {
        __wasi_prestat_t ps;
        __wasi_errno_t e = __wasi_fd_prestat_get(fd, &ps);
        if (e == __WASI_ERRNO_BADF) {
            printf("fd %u: EBADF (end of preopens)\n", fd);
            break;
        }
        char name[256] = "";
        if (!e && ps.u.dir.pr_name_len < sizeof name)
            e = __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, ps.u.dir.pr_name_len);
        __wasi_fdstat_t st;
        (void)__wasi_fd_fdstat_get(fd, &st);
        printf("fd %u: %s [%s] filetype=%u\n", fd, errname(e), name, st.fs_filetype);
    }
    char cwd[256];
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : errname(errno));
    const char *pwd = getenv("PWD");
    printf("PWD: %s\n", pwd ? pwd : "(unset)");
    /* Through fd 3 directly (wasmtime: the --dir; us: `.`, the manifest's cwd). */
    __wasi_fd_t fd;
    __wasi_errno_t oe = __wasi_path_open(3, 0, "hello.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (oe) printf("fd 3: open hello.txt: %s\n", errname(oe));
    else {
        char buf[64];
        size_t n = 0;
        (void)wread(fd, buf, sizeof buf, &n);
        if (n && buf[n - 1] == '\n') n--;
        printf("fd 3: open hello.txt: OK [%.*s]\n", (int)n, buf);
        (void)__wasi_fd_close(fd);
    }
    try_cat("hello.txt");
    try_cat("./hello.txt");
    try_cat("/data/hello.txt");
    DIR *d = opendir(".");
    if (!d) {
        printf("opendir .: %s\n", errname(errno));
        return 0;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("opendir .:");
    for (int i = 0; i < n; i++) printf(" %s", names[i]);
    printf("\n");
    return 0;
}
