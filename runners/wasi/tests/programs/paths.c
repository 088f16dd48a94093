/* path_* calls: open (every oflag, every fdflag, lookup flags), create_directory,
 * filestat_get, filestat_set_times, link, readlink (with truncation), remove_directory,
 * rename, symlink, unlink_file. Expects a directory "/data": an empty writable directory. */
#include "common.h"

static __wasi_fd_t D;

static void put(const char *name, const char *content) {
    __wasi_fd_t fd;
    __wasi_errno_t e = wopen(D, name, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, R_RW, 0, &fd);
    if (e) {
        printf("put %s: %s\n", name, errname(e));
        return;
    }
    size_t n;
    if (*content) (void)wwrite(fd, content, &n);
    (void)__wasi_fd_close(fd);
}

/* "label: OK type=T size=S nlink=N" via path_filestat_get. */
static void pstat(const char *label, const char *path, int follow) {
    __wasi_filestat_t st;
    __wasi_errno_t e =
        __wasi_path_filestat_get(D, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path, &st);
    /* A directory's size and link count depend on the host file system: not printed. */
    if (e) printf("%s: %s\n", label, errname(e));
    else if (st.filetype == __WASI_FILETYPE_DIRECTORY) printf("%s: OK type=%u\n", label, st.filetype);
    else
        printf("%s: OK type=%u size=%llu nlink=%llu\n", label, st.filetype,
               (unsigned long long)st.size, (unsigned long long)st.nlink);
}

static void cat(const char *label, const char *path) {
    __wasi_fd_t fd;
    __wasi_errno_t e = wopen(D, path, 0, R_RO, 0, &fd);
    if (e) {
        printf("%s: %s\n", label, errname(e));
        return;
    }
    char buf[128];
    size_t total = 0, n = 0;
    while (total < sizeof buf && wread(fd, buf + total, sizeof buf - total, &n) == 0 && n > 0) total += n;
    (void)__wasi_fd_close(fd);
    printf("%s: [%.*s]\n", label, (int)total, buf);
}

/* Opens, prints the result with the fd's type and flags, closes. */
static void try_open(const char *label, __wasi_lookupflags_t lf, const char *path,
                     __wasi_oflags_t of, __wasi_rights_t rights, __wasi_fdflags_t ff) {
    __wasi_fd_t fd = 777;
    __wasi_errno_t e = __wasi_path_open(D, lf, path, of, rights, rights, ff, &fd);
    if (e) {
        printf("%s: %s\n", label, errname(e));
        return;
    }
    __wasi_fdstat_t st;
    e = __wasi_fd_fdstat_get(fd, &st);
    printf("%s: OK filetype=%u flags=0x%x\n", label, st.fs_filetype, st.fs_flags);
    (void)__wasi_fd_close(fd);
}

#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static void t_oflags(void) {
    try_open("missing, no CREAT", FOLLOW, "f.txt", 0, R_RO, 0);
    try_open("CREAT new", FOLLOW, "f.txt", __WASI_OFLAGS_CREAT, R_RW, 0);
    pstat("  stat", "f.txt", 1);
    put("f.txt", "abc");
    try_open("CREAT existing", FOLLOW, "f.txt", __WASI_OFLAGS_CREAT, R_RW, 0);
    pstat("  stat (not truncated)", "f.txt", 1);
    try_open("CREAT|EXCL existing", FOLLOW, "f.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, R_RW, 0);
    try_open("CREAT|EXCL new", FOLLOW, "g.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, R_RW, 0);
    try_open("EXCL without CREAT, existing", FOLLOW, "f.txt", __WASI_OFLAGS_EXCL, R_RW, 0);
    try_open("TRUNC", FOLLOW, "f.txt", __WASI_OFLAGS_TRUNC, R_RW, 0);
    pstat("  stat (truncated)", "f.txt", 1);
    put("f.txt", "abc");
    try_open("CREAT|TRUNC existing", FOLLOW, "f.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, R_RW, 0);
    pstat("  stat", "f.txt", 1);
    put("f.txt", "abc");
    try_open("read-only open", FOLLOW, "f.txt", 0, R_RO, 0);
    pstat("  stat (untouched)", "f.txt", 1);
    try_open("write-only open", FOLLOW, "f.txt", 0, R_WO, 0);
    try_open("no rights at all", FOLLOW, "f.txt", 0, 0, 0);
    wres("mkdir d", __wasi_path_create_directory(D, "d"));
    try_open("DIRECTORY on a dir", FOLLOW, "d", __WASI_OFLAGS_DIRECTORY, R_DIR, 0);
    try_open("DIRECTORY on a file", FOLLOW, "f.txt", __WASI_OFLAGS_DIRECTORY, R_DIR, 0);
    try_open("dir without DIRECTORY, read rights", FOLLOW, "d", 0, R_RO, 0);
    try_open("dir with write rights", FOLLOW, "d", 0, R_RW, 0);
    try_open("DIRECTORY|CREAT new", FOLLOW, "newdir", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT, R_DIR, 0);
    try_open("dir with TRUNC", FOLLOW, "d", __WASI_OFLAGS_TRUNC, R_RW, 0);
    try_open(". (the directory itself)", FOLLOW, ".", __WASI_OFLAGS_DIRECTORY, R_DIR, 0);
    try_open("d/.. (back to the directory)", FOLLOW, "d/..", __WASI_OFLAGS_DIRECTORY, R_DIR, 0);
    try_open("empty path", FOLLOW, "", 0, R_RO, 0);
    try_open("trailing slash on a file", FOLLOW, "f.txt/", 0, R_RO, 0);
    try_open("trailing slash on a dir", FOLLOW, "d/", 0, R_RO, 0);
    try_open("through a file", FOLLOW, "f.txt/x", 0, R_RO, 0);
    try_open("missing parent", FOLLOW, "nope/x", __WASI_OFLAGS_CREAT, R_RW, 0);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    try_open("300-byte name", FOLLOW, longname, __WASI_OFLAGS_CREAT, R_RW, 0);
    try_open("double slash d//../f.txt", FOLLOW, "d//../f.txt", 0, R_RO, 0);
    try_open("dot segments ./d/./../f.txt", FOLLOW, "./d/./../f.txt", 0, R_RO, 0);
    /* Opening a file relative to a file descriptor that is not a directory. */
    __wasi_fd_t f;
    wres("open f.txt", wopen(D, "f.txt", 0, R_RO, 0, &f));
    __wasi_fd_t x;
    wres("open relative to a file fd", __wasi_path_open(f, 0, "x", 0, R_RO, R_RO, 0, &x));
    wres("open relative to stdout", __wasi_path_open(1, 0, "x", 0, R_RO, R_RO, 0, &x));
    wres("open relative to fd 99", __wasi_path_open(99, 0, "x", 0, R_RO, R_RO, 0, &x));
    (void)__wasi_fd_close(f);
}

static void t_fdflags(void) {
    put("h.txt", "12345");
    try_open("APPEND", FOLLOW, "h.txt", 0, R_RW, __WASI_FDFLAGS_APPEND);
    try_open("NONBLOCK", FOLLOW, "h.txt", 0, R_RW, __WASI_FDFLAGS_NONBLOCK);
    try_open("APPEND|NONBLOCK", FOLLOW, "h.txt", 0, R_RW, __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_NONBLOCK);
    /* APPEND: writes land at the end whatever the position. */
    __wasi_fd_t fd;
    wres("open APPEND", wopen(D, "h.txt", 0, R_RW, __WASI_FDFLAGS_APPEND, &fd));
    size_t n;
    wres("write ab", wwrite(fd, "ab", &n));
    __wasi_filesize_t pos;
    wres("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    wres("write cd", wwrite(fd, "cd", &n));
    (void)__wasi_fd_close(fd);
    cat("content", "h.txt");
    /* libc: O_APPEND / O_EXCL / O_TRUNC / O_DIRECTORY / O_NOFOLLOW through open(). */
    int lf = open("/data/h.txt", O_WRONLY | O_APPEND);
    lres("open(O_WRONLY|O_APPEND)", lf < 0);
    lres("write", write(lf, "!", 1) != 1);
    close(lf);
    cat("content", "h.txt");
    lres("open(O_CREAT|O_EXCL) existing", open("/data/h.txt", O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0 ? 0 : 1);
    lres("open(O_DIRECTORY) file", open("/data/h.txt", O_RDONLY | O_DIRECTORY) >= 0 ? 0 : 1);
}

/* The synchronised-I/O fdflags at open (wasmtime-wasi 48 refuses them with ENOTSUP). */
static void t_syncflags(void) {
    put("h.txt", "12345");
    try_open("DSYNC", FOLLOW, "h.txt", 0, R_RW, __WASI_FDFLAGS_DSYNC);
    try_open("RSYNC", FOLLOW, "h.txt", 0, R_RW, __WASI_FDFLAGS_RSYNC);
    try_open("SYNC", FOLLOW, "h.txt", 0, R_RW, __WASI_FDFLAGS_SYNC);
    try_open("all five", FOLLOW, "h.txt", 0, R_RW, 0x1f);
    __wasi_fd_t fd;
    __wasi_errno_t e = wopen(D, "h.txt", __WASI_OFLAGS_TRUNC, R_RW, __WASI_FDFLAGS_SYNC | __WASI_FDFLAGS_DSYNC, &fd);
    wres("open SYNC|DSYNC with TRUNC", e);
    if (e == 0) {
        size_t n;
        wres("write synced", wwrite(fd, "synced", &n));
        (void)__wasi_fd_close(fd);
    }
    cat("content", "h.txt");
}

static void t_lookup(void) {
    put("target.txt", "target content");
    wres("symlink ln -> target.txt", __wasi_path_symlink("target.txt", D, "ln"));
    wres("mkdir tdir", __wasi_path_create_directory(D, "tdir"));
    wres("symlink dln -> tdir", __wasi_path_symlink("tdir", D, "dln"));
    try_open("open ln, follow", FOLLOW, "ln", 0, R_RO, 0);
    try_open("open ln, nofollow", 0, "ln", 0, R_RO, 0);
    try_open("open dln, follow, DIRECTORY", FOLLOW, "dln", __WASI_OFLAGS_DIRECTORY, R_DIR, 0);
    try_open("open dln/x through the link, nofollow", 0, "dln/x", __WASI_OFLAGS_CREAT, R_RW, 0);
    pstat("  tdir/x", "tdir/x", 0);
    try_open("open ln, nofollow, CREAT", 0, "ln", __WASI_OFLAGS_CREAT, R_RW, 0);
    pstat("stat ln follow", "ln", 1);
    pstat("stat ln nofollow", "ln", 0);
    pstat("stat dln follow", "dln", 1);
    pstat("stat dln nofollow", "dln", 0);
    /* A symlink in the middle of a path is always followed. */
    pstat("stat dln/x nofollow", "dln/x", 0);
    cat("libc read via ln", "ln");
}

static void t_mkdir(void) {
    wres("mkdir a", __wasi_path_create_directory(D, "a"));
    pstat("  stat a", "a", 1);
    wres("mkdir a again", __wasi_path_create_directory(D, "a"));
    wres("mkdir a/b", __wasi_path_create_directory(D, "a/b"));
    wres("mkdir x/y (missing parent)", __wasi_path_create_directory(D, "x/y"));
    put("file", "");
    wres("mkdir over a file", __wasi_path_create_directory(D, "file"));
    wres("mkdir under a file", __wasi_path_create_directory(D, "file/sub"));
    wres("mkdir trailing slash", __wasi_path_create_directory(D, "c/"));
    pstat("  stat c", "c", 1);
    wres("mkdir empty path", __wasi_path_create_directory(D, ""));
    wres("mkdir .", __wasi_path_create_directory(D, "."));
    wres("mkdir on a file fd", __wasi_path_create_directory(1, "z"));
    lres("libc mkdir /data/m", mkdir("/data/m", 0755) != 0);
    lres("libc mkdir /data/m again", mkdir("/data/m", 0755) != 0);
}

static void t_filestat(void) {
    put("s.txt", "0123456789");
    wres("mkdir sd", __wasi_path_create_directory(D, "sd"));
    pstat("stat file", "s.txt", 1);
    pstat("stat dir", "sd", 1);
    pstat("stat .", ".", 1);
    pstat("stat missing", "missing", 1);
    pstat("stat through a file", "s.txt/x", 1);
    wres("symlink sl -> s.txt", __wasi_path_symlink("s.txt", D, "sl"));
    const __wasi_timestamp_t A = 1000000000ull * 1111111111ull + 1;
    const __wasi_timestamp_t M = 1000000000ull * 1222222222ull + 2;
    wres("set_times file", __wasi_path_filestat_set_times(D, FOLLOW, "s.txt", A, M, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_filestat_t st;
    wres("stat", __wasi_path_filestat_get(D, FOLLOW, "s.txt", &st));
    printf("  atim=%llu mtim=%llu\n", (unsigned long long)st.atim, (unsigned long long)st.mtim);
    wres("set_times via symlink (follow)", __wasi_path_filestat_set_times(D, FOLLOW, "sl", A + 5, M + 5, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    wres("stat", __wasi_path_filestat_get(D, FOLLOW, "s.txt", &st));
    printf("  atim=%llu mtim=%llu\n", (unsigned long long)st.atim, (unsigned long long)st.mtim);
    wres("set_times dir", __wasi_path_filestat_set_times(D, FOLLOW, "sd", A, M, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    wres("stat", __wasi_path_filestat_get(D, FOLLOW, "sd", &st));
    printf("  atim=%llu mtim=%llu\n", (unsigned long long)st.atim, (unsigned long long)st.mtim);
    wres("set_times MTIM_NOW", __wasi_path_filestat_set_times(D, FOLLOW, "s.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    wres("stat", __wasi_path_filestat_get(D, FOLLOW, "s.txt", &st));
    __wasi_timestamp_t now = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
    long long diff = (long long)(now - st.mtim);
    yesno("  mtim within 10s of now", diff > -10000000000ll && diff < 10000000000ll);
    printf("  atim kept: %s\n", st.atim == A + 5 ? "yes" : "no");
    wres("set_times ATIM|ATIM_NOW", __wasi_path_filestat_set_times(D, FOLLOW, "s.txt", A, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    wres("set_times missing", __wasi_path_filestat_set_times(D, FOLLOW, "missing", A, M, __WASI_FSTFLAGS_ATIM));
    /* libc: stat, lstat, fstatat, utimensat. */
    struct stat s;
    lres("stat /data/s.txt", stat("/data/s.txt", &s) != 0);
    printf("  S_ISREG=%d size=%lld\n", S_ISREG(s.st_mode), (long long)s.st_size);
    lres("lstat /data/sl", lstat("/data/sl", &s) != 0);
    printf("  S_ISLNK=%d size=%lld\n", S_ISLNK(s.st_mode), (long long)s.st_size);
    struct timespec ts[2] = {{100, 5}, {200, 6}};
    lres("utimensat", utimensat(AT_FDCWD, "/data/s.txt", ts, 0) != 0);
    lres("stat", stat("/data/s.txt", &s) != 0);
    printf("  atime=%lld.%09ld mtime=%lld.%09ld\n", (long long)s.st_atim.tv_sec, s.st_atim.tv_nsec,
           (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
}

static void t_link(void) {
    put("orig.txt", "linked");
    wres("link orig.txt -> hard.txt", __wasi_path_link(D, 0, "orig.txt", D, "hard.txt"));
    pstat("  stat orig", "orig.txt", 1);
    pstat("  stat hard", "hard.txt", 1);
    cat("  hard content", "hard.txt");
    /* Writing through one name is seen through the other. */
    put("hard.txt", "changed");
    cat("  orig content", "orig.txt");
    wres("link onto an existing name", __wasi_path_link(D, 0, "orig.txt", D, "hard.txt"));
    wres("link a missing file", __wasi_path_link(D, 0, "missing", D, "m2"));
    wres("mkdir ld", __wasi_path_create_directory(D, "ld"));
    wres("link a directory", __wasi_path_link(D, 0, "ld", D, "ld2"));
    wres("link into a subdirectory", __wasi_path_link(D, 0, "orig.txt", D, "ld/inner.txt"));
    pstat("  stat orig", "orig.txt", 1);
    /* Through another directory descriptor. */
    __wasi_fd_t sub;
    wres("open ld", wopen(D, "ld", __WASI_OFLAGS_DIRECTORY, R_DIR, 0, &sub));
    wres("link across dir fds", __wasi_path_link(sub, 0, "inner.txt", D, "third.txt"));
    pstat("  stat orig", "orig.txt", 1);
    (void)__wasi_fd_close(sub);
    /* A symlink: without follow the link itself is linked. */
    wres("symlink sym -> orig.txt", __wasi_path_symlink("orig.txt", D, "sym"));
    wres("link sym nofollow", __wasi_path_link(D, 0, "sym", D, "sym2"));
    pstat("  stat sym2 nofollow", "sym2", 0);
    /* Unlinking one name keeps the others. */
    wres("unlink orig.txt", __wasi_path_unlink_file(D, "orig.txt"));
    pstat("  stat hard", "hard.txt", 1);
    lres("libc link", link("/data/hard.txt", "/data/libc-link.txt") != 0);
    pstat("  stat hard", "hard.txt", 1);
}

static void readlink_into(const char *label, const char *path, size_t cap) {
    char buf[64];
    memset(buf, '#', sizeof buf);
    __wasi_size_t n = 999;
    __wasi_errno_t e = __wasi_path_readlink(D, path, (uint8_t *)buf, cap, &n);
    if (e) printf("%s: %s\n", label, errname(e));
    else
        printf("%s: OK %u [%.*s] next byte untouched: %s\n", label, (unsigned)n, (int)n, buf,
               buf[n] == '#' ? "yes" : "no");
}

static void t_readlink(void) {
    wres("symlink", __wasi_path_symlink("some/target/path", D, "rl"));
    readlink_into("readlink cap 64", "rl", 64);
    readlink_into("readlink cap 16 (exact)", "rl", 16);
    readlink_into("readlink cap 4 (truncated)", "rl", 4);
    readlink_into("readlink cap 0", "rl", 0);
    put("plain", "x");
    readlink_into("readlink a file", "plain", 64);
    readlink_into("readlink missing", "missing", 64);
    wres("mkdir rd", __wasi_path_create_directory(D, "rd"));
    readlink_into("readlink a dir", "rd", 64);
    readlink_into("readlink .", ".", 64);
    wres("symlink dotdot", __wasi_path_symlink("../up", D, "rd/up"));
    readlink_into("readlink rd/up (target is not resolved)", "rd/up", 64);
    char buf[64];
    ssize_t n = readlink("/data/rl", buf, sizeof buf);
    printf("libc readlink: %zd [%.*s]\n", n, n > 0 ? (int)n : 0, buf);
    n = readlink("/data/rl", buf, 3);
    printf("libc readlink cap 3: %zd [%.*s]\n", n, n > 0 ? (int)n : 0, buf);
}

static void t_rmdir(void) {
    wres("mkdir e", __wasi_path_create_directory(D, "e"));
    wres("rmdir e", __wasi_path_remove_directory(D, "e"));
    pstat("  stat e", "e", 1);
    wres("rmdir e again", __wasi_path_remove_directory(D, "e"));
    wres("mkdir ne", __wasi_path_create_directory(D, "ne"));
    put("ne/f", "x");
    wres("rmdir non-empty", __wasi_path_remove_directory(D, "ne"));
    wres("rmdir a file", __wasi_path_remove_directory(D, "ne/f"));
    wres("symlink sd -> ne", __wasi_path_symlink("ne", D, "sd"));
    wres("rmdir a symlink to a dir", __wasi_path_remove_directory(D, "sd"));
    wres("rmdir .", __wasi_path_remove_directory(D, "."));
    wres("rmdir empty path", __wasi_path_remove_directory(D, ""));
    lres("libc rmdir /data/ne", rmdir("/data/ne") != 0);
}

/* rmdir with a trailing slash (POSIX and Linux remove the directory). */
static void t_rmdir_slash(void) {
    wres("mkdir t", __wasi_path_create_directory(D, "t"));
    wres("rmdir t/", __wasi_path_remove_directory(D, "t/"));
    pstat("  stat t", "t", 0);
}

/* A trailing slash names a directory: on a regular file or a symlink to one, unlink,
 * rename, link and stat are ENOTDIR and nothing changes (POSIX, Linux, wasmtime). */
static void t_unlink_slash(void) {
    put("ut", "target");
    wres("symlink ul -> ut", __wasi_path_symlink("ut", D, "ul"));
    pstat("stat ut/", "ut/", 1);
    wres("set_times ut/", __wasi_path_filestat_set_times(D, FOLLOW, "ut/", 1, 1, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    char buf[16];
    __wasi_size_t n;
    wres("readlink ul/", __wasi_path_readlink(D, "ul/", (uint8_t *)buf, sizeof buf, &n));
    /* Each mutation on its own file, so one wrong answer does not hide the next. */
    put("r1", "x");
    wres("rename r1/ -> moved", __wasi_path_rename(D, "r1/", D, "moved"));
    pstat("  stat r1", "r1", 0);
    pstat("  stat moved", "moved", 0);
    put("r2", "x");
    wres("rename r2 -> moved2/", __wasi_path_rename(D, "r2", D, "moved2/"));
    pstat("  stat r2", "r2", 0);
    pstat("  stat moved2", "moved2", 0);
    put("l1", "x");
    wres("link l1/ -> hard", __wasi_path_link(D, 0, "l1/", D, "hard"));
    wres("link l1 -> hard/", __wasi_path_link(D, 0, "l1", D, "hard/"));
    pstat("  stat hard", "hard", 0);
    wres("unlink ul/", __wasi_path_unlink_file(D, "ul/"));
    pstat("  stat ul", "ul", 0);
    wres("unlink ut/", __wasi_path_unlink_file(D, "ut/"));
    pstat("  stat ut", "ut", 0);
}

/* O_DIRECTORY without following, on a symlink: the symlink is not followed, so the path
 * names a non-directory (Linux: ENOTDIR; cap-std and so wasmtime: ELOOP). */
static void t_nofollow_dir(void) {
    wres("mkdir tdir", __wasi_path_create_directory(D, "tdir"));
    wres("symlink dln -> tdir", __wasi_path_symlink("tdir", D, "dln"));
    try_open("open dln, nofollow, DIRECTORY", 0, "dln", __WASI_OFLAGS_DIRECTORY, R_DIR, 0);
    put("f", "x");
    wres("symlink fln -> f", __wasi_path_symlink("f", D, "fln"));
    try_open("open fln, nofollow, DIRECTORY", 0, "fln", __WASI_OFLAGS_DIRECTORY, R_DIR, 0);
}

static void t_rename(void) {
    put("r1", "one");
    wres("rename r1 -> r2", __wasi_path_rename(D, "r1", D, "r2"));
    pstat("  stat r1", "r1", 1);
    cat("  r2", "r2");
    put("r3", "three");
    wres("rename r2 over r3", __wasi_path_rename(D, "r2", D, "r3"));
    cat("  r3", "r3");
    wres("rename missing", __wasi_path_rename(D, "nope", D, "r4"));
    wres("mkdir rd1", __wasi_path_create_directory(D, "rd1"));
    put("rd1/inside", "in");
    wres("rename rd1 -> rd2", __wasi_path_rename(D, "rd1", D, "rd2"));
    cat("  rd2/inside", "rd2/inside");
    wres("mkdir rdne", __wasi_path_create_directory(D, "rdne"));
    put("rdne/x", "x");
    wres("rename dir over non-empty dir", __wasi_path_rename(D, "rd2", D, "rdne"));
    wres("mkdir rde", __wasi_path_create_directory(D, "rde"));
    wres("rename dir over empty dir", __wasi_path_rename(D, "rd2", D, "rde"));
    cat("  rde/inside", "rde/inside");
    wres("rename file over dir", __wasi_path_rename(D, "r3", D, "rdne"));
    wres("rename dir over file", __wasi_path_rename(D, "rde", D, "r3"));
    wres("rename dir into itself", __wasi_path_rename(D, "rde", D, "rde/sub"));
    wres("rename to same name", __wasi_path_rename(D, "r3", D, "r3"));
    cat("  r3", "r3");
    __wasi_fd_t sub;
    wres("open rdne", wopen(D, "rdne", __WASI_OFLAGS_DIRECTORY, R_DIR, 0, &sub));
    wres("rename across dir fds", __wasi_path_rename(D, "r3", sub, "moved"));
    cat("  rdne/moved", "rdne/moved");
    wres("rename with a file fd", __wasi_path_rename(1, "a", D, "b"));
    (void)__wasi_fd_close(sub);
    wres("symlink rs -> rdne", __wasi_path_symlink("rdne", D, "rs"));
    wres("rename a symlink", __wasi_path_rename(D, "rs", D, "rs2"));
    pstat("  stat rs2 nofollow", "rs2", 0);
    lres("libc rename", rename("/data/rdne/moved", "/data/back") != 0);
    cat("  back", "back");
}

static void t_symlink(void) {
    put("st", "symlinked");
    wres("symlink s1 -> st", __wasi_path_symlink("st", D, "s1"));
    cat("  via s1", "s1");
    wres("symlink over existing", __wasi_path_symlink("st", D, "s1"));
    wres("symlink over a file", __wasi_path_symlink("x", D, "st"));
    wres("symlink dangling", __wasi_path_symlink("does-not-exist", D, "dang"));
    pstat("  stat dang follow", "dang", 1);
    pstat("  stat dang nofollow", "dang", 0);
    wres("symlink loop1 -> loop2", __wasi_path_symlink("loop2", D, "loop1"));
    wres("symlink loop2 -> loop1", __wasi_path_symlink("loop1", D, "loop2"));
    try_open("open loop1", FOLLOW, "loop1", 0, R_RO, 0);
    pstat("  stat loop1 follow", "loop1", 1);
    wres("mkdir sdir", __wasi_path_create_directory(D, "sdir"));
    wres("symlink sdir/up -> ../st", __wasi_path_symlink("../st", D, "sdir/up"));
    cat("  via sdir/up", "sdir/up");
    wres("symlink in a missing dir", __wasi_path_symlink("st", D, "missing/s"));
    wres("symlink empty target", __wasi_path_symlink("", D, "empty"));
    lres("libc symlink", symlink("st", "/data/s2") != 0);
    cat("  via s2", "s2");
}

static void t_unlink(void) {
    put("u", "x");
    wres("unlink u", __wasi_path_unlink_file(D, "u"));
    pstat("  stat u", "u", 1);
    wres("unlink u again", __wasi_path_unlink_file(D, "u"));
    wres("mkdir ud", __wasi_path_create_directory(D, "ud"));
    wres("unlink a dir", __wasi_path_unlink_file(D, "ud"));
    put("ut", "target");
    wres("symlink ul -> ut", __wasi_path_symlink("ut", D, "ul"));
    wres("unlink the symlink", __wasi_path_unlink_file(D, "ul"));
    cat("  target still there", "ut");
    wres("unlink .", __wasi_path_unlink_file(D, "."));
    /* An open file stays readable after unlink. */
    __wasi_fd_t fd;
    wres("open ut", wopen(D, "ut", 0, R_RO, 0, &fd));
    wres("unlink ut", __wasi_path_unlink_file(D, "ut"));
    char buf[16];
    size_t n = 0;
    wres("read unlinked open file", wread(fd, buf, sizeof buf, &n));
    printf("  [%.*s]\n", (int)n, buf);
    (void)__wasi_fd_close(fd);
    lres("libc unlink missing", unlink("/data/ut") != 0);
}

int main(int argc, char **argv) {
    D = open_dir("/data");
    static const struct subtest tests[] = {
        {"oflags", t_oflags},   {"fdflags", t_fdflags}, {"lookup", t_lookup},
        {"syncflags", t_syncflags},
        {"mkdir", t_mkdir},     {"filestat", t_filestat}, {"link", t_link},
        {"readlink", t_readlink}, {"rmdir", t_rmdir}, {"rename", t_rename},
        {"rmdir_slash", t_rmdir_slash}, {"unlink_slash", t_unlink_slash},
        {"nofollow_dir", t_nofollow_dir},
        {"symlink", t_symlink}, {"unlink", t_unlink},
    };
    int rc = run_subtests(argc, argv, tests, sizeof tests / sizeof tests[0]);
    fflush(stdout);
    return rc;
}
