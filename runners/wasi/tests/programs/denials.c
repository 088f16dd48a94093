/* What a program must not be able to do.
 *   symlinks  symlinks that leave their mount (relative ../ escape, absolute target):
 *             EPERM, and nothing outside is read. Expects /data with f.txt, sub/, and the
 *             symlinks esc -> ../secret, abs -> /etc/passwd, subesc -> ../../secret (in sub/),
 *             ok -> f.txt, loop -> loop.
 *   dotdot    `..` out of a mounted directory (through the raw call, where libc cannot clean it up).
 *   absolute  absolute paths given to path_* calls (ENOTCAPABLE), and libc paths outside
 *             every mount.
 *   readonly DIR  every write-ish call on the read-only directory mounted at DIR (EPERM),
 *             reads still work. Expects DIR/r.txt ("read me") and DIR/sub/.
 */
#include "common.h"

/* Opens for reading, reads, prints the result (and the content only when it worked). */
static void try_read(__wasi_fd_t dir, const char *label, const char *path, int follow) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path,
                                        0, R_RO, R_RO, 0, &fd);
    if (e) {
        printf("%s: %s\n", label, errname(e));
        return;
    }
    char buf[64];
    size_t n = 0;
    (void)wread(fd, buf, sizeof buf, &n);
    (void)__wasi_fd_close(fd);
    if (n > 16) n = 16;
    printf("%s: OK [", label);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') printf("\\n");
        else putchar(buf[i]);
    }
    printf("]\n");
}

static void try_stat(__wasi_fd_t dir, const char *label, const char *path, int follow) {
    __wasi_filestat_t st;
    __wasi_errno_t e =
        __wasi_path_filestat_get(dir, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path, &st);
    if (e) printf("%s: %s\n", label, errname(e));
    else printf("%s: OK type=%u\n", label, st.filetype);
}

static void t_symlinks(void) {
    __wasi_fd_t d = open_dir("/data");
    try_read(d, "read ok -> f.txt", "ok", 1);
    try_read(d, "read esc -> ../secret", "esc", 1);
    try_read(d, "read abs -> /etc/passwd", "abs", 1);
    try_read(d, "read sub/subesc -> ../../secret", "sub/subesc", 1);
    try_read(d, "read esc/x", "esc/x", 1);
    try_read(d, "read loop", "loop", 1);
    try_stat(d, "stat esc follow", "esc", 1);
    try_stat(d, "stat esc nofollow", "esc", 0);
    try_stat(d, "stat abs follow", "abs", 1);
    /* Writing through an escaping symlink. */
    __wasi_fd_t fd;
    wres("create through esc", __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "esc",
                                                __WASI_OFLAGS_CREAT, R_RW, R_RW, 0, &fd));
    wres("create through abs", __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs",
                                                __WASI_OFLAGS_CREAT, R_RW, R_RW, 0, &fd));
    /* A guest-made symlink that escapes is no better. */
    __wasi_errno_t e = __wasi_path_symlink("../secret", d, "made");
    printf("symlink made -> ../secret: %s\n", errname(e));
    if (e == 0) try_read(d, "read made", "made", 1);
    e = __wasi_path_symlink("/etc/passwd", d, "madeabs");
    printf("symlink madeabs -> /etc/passwd: %s\n", errname(e));
    if (e == 0) try_read(d, "read madeabs", "madeabs", 1);
    /* libc follows the same path. */
    FILE *f = fopen("/data/esc", "r");
    lres("fopen /data/esc", f == NULL);
    if (f) fclose(f);
}

static void t_dotdot(void) {
    __wasi_fd_t d = open_dir("/data");
    try_read(d, "read ../secret", "../secret", 1);
    try_read(d, "read sub/../../secret", "sub/../../secret", 1);
    try_read(d, "read ../../../../../../etc/passwd", "../../../../../../etc/passwd", 1);
    try_stat(d, "stat ..", "..", 1);
    try_stat(d, "stat ../secret", "../secret", 1);
    try_read(d, "read sub/../f.txt (stays inside)", "sub/../f.txt", 1);
    try_read(d, "read ../data/f.txt (out and back in)", "../data/f.txt", 1);
    __wasi_fd_t fd;
    wres("create ../new", __wasi_path_open(d, 0, "../new", __WASI_OFLAGS_CREAT, R_RW, R_RW, 0, &fd));
    wres("mkdir ../newdir", __wasi_path_create_directory(d, "../newdir"));
    FILE *f = fopen("/data/../secret", "r");
    lres("fopen /data/../secret", f == NULL);
    if (f) fclose(f);
}

static void t_absolute(void) {
    __wasi_fd_t d = open_dir("/data");
    try_read(d, "path_open /etc/passwd", "/etc/passwd", 1);
    try_read(d, "path_open /data/f.txt", "/data/f.txt", 1);
    try_stat(d, "path_filestat_get /", "/", 1);
    wres("path_create_directory /x", __wasi_path_create_directory(d, "/x"));
    wres("path_unlink_file /data/f.txt", __wasi_path_unlink_file(d, "/data/f.txt"));
    wres("path_symlink target /etc/passwd", __wasi_path_symlink("/etc/passwd", d, "/lnk"));
    wres("path_rename to /moved", __wasi_path_rename(d, "f.txt", d, "/moved"));
    char buf[32];
    __wasi_size_t n;
    wres("path_readlink /abs", __wasi_path_readlink(d, "/abs", (uint8_t *)buf, sizeof buf, &n));
}

static void t_outside(void) {
    /* libc resolves an absolute path against the preopens; nothing here is mounted. */
    FILE *f = fopen("/etc/passwd", "r");
    lres("fopen /etc/passwd", f == NULL);
    if (f) fclose(f);
    f = fopen("/secret", "r");
    lres("fopen /secret", f == NULL);
    if (f) fclose(f);
    lres("mkdir /newdir", mkdir("/newdir", 0755) != 0);
    lres("opendir /proc", opendir("/proc") == NULL);
}

static void t_readonly(const char *dir) {
    __wasi_fd_t d = open_dir(dir);
    printf("on %s\n", dir);
    try_read(d, "read r.txt", "r.txt", 1);
    try_stat(d, "stat r.txt", "r.txt", 1);
    __wasi_fd_t fd;
    wres("open r.txt for writing", __wasi_path_open(d, 0, "r.txt", 0, R_RW, R_RW, 0, &fd));
    wres("open r.txt write-only", __wasi_path_open(d, 0, "r.txt", 0, R_WO, R_WO, 0, &fd));
    wres("open r.txt append", __wasi_path_open(d, 0, "r.txt", 0, R_RO, R_RO, __WASI_FDFLAGS_APPEND, &fd));
    wres("open r.txt TRUNC", __wasi_path_open(d, 0, "r.txt", __WASI_OFLAGS_TRUNC, R_RO, R_RO, 0, &fd));
    wres("create new.txt", __wasi_path_open(d, 0, "new.txt", __WASI_OFLAGS_CREAT, R_RW, R_RW, 0, &fd));
    wres("create new.txt read-only rights", __wasi_path_open(d, 0, "new.txt", __WASI_OFLAGS_CREAT, R_RO, R_RO, 0, &fd));
    wres("create missing/new.txt", __wasi_path_open(d, 0, "missing/new.txt", __WASI_OFLAGS_CREAT, R_RW, R_RW, 0, &fd));
    wres("mkdir", __wasi_path_create_directory(d, "newdir"));
    wres("unlink r.txt", __wasi_path_unlink_file(d, "r.txt"));
    wres("rmdir sub", __wasi_path_remove_directory(d, "sub"));
    wres("rename r.txt", __wasi_path_rename(d, "r.txt", d, "s.txt"));
    wres("symlink", __wasi_path_symlink("r.txt", d, "lnk"));
    wres("link", __wasi_path_link(d, 0, "r.txt", d, "hard"));
    wres("set_times r.txt", __wasi_path_filestat_set_times(d, 0, "r.txt", 1, 1, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    /* Through a read-only descriptor of a file inside. */
    __wasi_errno_t e = __wasi_path_open(d, 0, "r.txt", 0, R_RO, R_RO, 0, &fd);
    wres("open r.txt read-only", e);
    if (e == 0) {
        size_t n;
        wres("  write", wwrite(fd, "x", &n));
        wres("  set_size", __wasi_fd_filestat_set_size(fd, 0));
        wres("  set_times", __wasi_fd_filestat_set_times(fd, 1, 1, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
        wres("  allocate", __wasi_fd_allocate(fd, 0, 10));
        wres("  set_flags APPEND", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
        __wasi_fdstat_t st;
        wres("  fdstat", __wasi_fd_fdstat_get(fd, &st));
        printf("  write right: %s\n", (st.fs_rights_base & __WASI_RIGHTS_FD_WRITE) ? "yes" : "no");
        (void)__wasi_fd_close(fd);
    }
    /* Nothing changed. */
    try_read(d, "read r.txt again", "r.txt", 1);
    try_stat(d, "stat new.txt", "new.txt", 0);
    try_stat(d, "stat newdir", "newdir", 0);
    /* libc. */
    char path[128];
    snprintf(path, sizeof path, "%s/r.txt", dir);
    FILE *f = fopen(path, "w");
    lres("fopen w", f == NULL);
    if (f) fclose(f);
    f = fopen(path, "r");
    lres("fopen r", f == NULL);
    if (f) fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *t = argv[1];
    printf("== %s\n", t);
    if (!strcmp(t, "symlinks")) t_symlinks();
    else if (!strcmp(t, "dotdot")) t_dotdot();
    else if (!strcmp(t, "absolute")) t_absolute();
    else if (!strcmp(t, "outside")) t_outside();
    else if (!strcmp(t, "readonly") && argc > 2) t_readonly(argv[2]);
    else {
        printf("unknown\n");
        return 2;
    }
    fflush(stdout);
    return 0;
}
