// What a WASI program sees of its package: argv, environment, working directory, files.
//
// Used by host/tests/wasi.rs through the real `webc-host run` and the WASI plugin; the
// same program is packed as webc v3 and v2 and must print the same thing on both.
// Prints, in order: every argv entry, the environment (sorted), getcwd(), the preopened
// directories (fd and name, from fd_prestat_get), then runs each argument of the form
// OP:PATH —
//   ls:DIR     sorted entries of DIR (without . and ..), each with its type (lstat) and,
//              for files, its size; for symlinks, the target
//   stat:PATH  type and size, following symlinks
//   cat:PATH   the file's content
//   readlink:PATH
//   write:PATH  create or truncate PATH and write "written\n" into it
//   at3:PATH    the content of PATH opened relative to fd 3 with path_open directly (wasi-libc
//               resolves every path, relative ones too, against its own preopen table, so
//               this is how a program reaches the directory preopened as `.`)
// Failures print `OP PATH: error: <strerror>` and make the exit status 1; other arguments
// are only printed (they are argv entries).
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

extern char **environ;

static int failed = 0;

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fail(const char *op, const char *path) {
    printf("%s %s: error: %s\n", op, path, strerror(errno));
    failed = 1;
}

static const char *type_of(mode_t m) {
    if (S_ISREG(m)) return "file";
    if (S_ISDIR(m)) return "dir";
    if (S_ISLNK(m)) return "symlink";
    return "other";
}

static void do_ls(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return fail("ls", dir);
    char *names[1024];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n < 1024) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("ls %s:\n", dir);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) {
            printf("  %s: error: %s\n", names[i], strerror(errno));
            failed = 1;
        } else if (S_ISREG(st.st_mode)) {
            printf("  %s file %lld\n", names[i], (long long)st.st_size);
        } else if (S_ISLNK(st.st_mode)) {
            char target[1024];
            ssize_t len = readlink(path, target, sizeof target - 1);
            target[len < 0 ? 0 : len] = 0;
            printf("  %s symlink -> %s\n", names[i], target);
        } else {
            printf("  %s %s\n", names[i], type_of(st.st_mode));
        }
        free(names[i]);
    }
}

static void do_stat(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return fail("stat", path);
    if (S_ISREG(st.st_mode))
        printf("stat %s: file %lld\n", path, (long long)st.st_size);
    else
        printf("stat %s: %s\n", path, type_of(st.st_mode));
}

static void do_cat(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return fail("cat", path);
    printf("cat %s: ", path);
    char buf[4096];
    size_t n, total = 0;
    int last = '\n';
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        fwrite(buf, 1, n, stdout);
        total += n;
        last = buf[n - 1];
    }
    if (ferror(f)) fail("cat", path);
    fclose(f);
    if (total == 0 || last != '\n') putchar('\n');
}

static void do_readlink(const char *path) {
    char target[1024];
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0) return fail("readlink", path);
    target[len] = 0;
    printf("readlink %s: %s\n", path, target);
}

static void do_write(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return fail("write", path);
    if (fputs("written\n", f) < 0 || fclose(f) != 0) return fail("write", path);
    printf("write %s: ok\n", path);
}

static void do_at3(const char *path) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, 0, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (e != 0) {
        errno = e;
        return fail("at3", path);
    }
    printf("at3 %s: ", path);
    char buf[4096];
    ssize_t n;
    int last = '\n';
    while ((n = read((int)fd, buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        last = buf[n - 1];
    }
    close((int)fd);
    if (last != '\n') putchar('\n');
}

static void print_preopens(void) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t pre;
        if (__wasi_fd_prestat_get(fd, &pre) != 0) break;
        char name[1024];
        size_t len = pre.u.dir.pr_name_len < sizeof name - 1 ? pre.u.dir.pr_name_len : sizeof name - 1;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, len) != 0) break;
        name[len] = 0;
        printf("preopen %u %s\n", (unsigned)fd, name);
    }
}

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);

    size_t n = 0;
    while (environ && environ[n]) n++;
    char **env = malloc((n + 1) * sizeof *env);
    for (size_t i = 0; i < n; i++) env[i] = environ[i];
    qsort(env, n, sizeof *env, cmp);
    for (size_t i = 0; i < n; i++) printf("env %s\n", env[i]);
    free(env);

    char cwd[1024];
    if (getcwd(cwd, sizeof cwd)) printf("cwd=%s\n", cwd);
    else printf("cwd: error: %s\n", strerror(errno));
    print_preopens();

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "ls:", 3)) do_ls(a + 3);
        else if (!strncmp(a, "stat:", 5)) do_stat(a + 5);
        else if (!strncmp(a, "cat:", 4)) do_cat(a + 4);
        else if (!strncmp(a, "readlink:", 9)) do_readlink(a + 9);
        else if (!strncmp(a, "write:", 6)) do_write(a + 6);
        else if (!strncmp(a, "at3:", 4)) do_at3(a + 4);
    }
    return failed;
}
