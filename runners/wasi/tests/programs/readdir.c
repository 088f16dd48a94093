/* fd_readdir: entries and types, cookies (resuming at every cookie), small and tiny
 * buffers (entries cut at the buffer's end), libc's opendir/readdir/seekdir/scandir.
 * Expects a directory "/data" holding the fixture tree (see the harness): a.txt, b.txt,
 * dir/, link -> a.txt, a long name, many/ with f00..f49. Entry order is the file system's,
 * so listings are printed sorted and compared as sets. */
#include "common.h"

#define MAXE 128

struct ent {
    char name[128];
    unsigned type;
    __wasi_dircookie_t next;
};

static int ecmp(const void *a, const void *b) {
    return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

/* Lists `fd` with a buffer of `bufsize` bytes, resuming from the last complete entry's
 * cookie each time. Returns the count; *calls gets the number of fd_readdir calls. If the
 * buffer cannot hold one entry it is grown (and *grown set), as libc does. */
static int list(__wasi_fd_t fd, size_t bufsize, struct ent *out, int *calls, int *grown) {
    __wasi_dircookie_t cookie = 0;
    int n = 0;
    *calls = 0;
    *grown = 0;
    uint8_t *buf = malloc(bufsize);
    for (;;) {
        __wasi_size_t used = 0;
        __wasi_errno_t e = __wasi_fd_readdir(fd, buf, bufsize, cookie, &used);
        (*calls)++;
        if (e) {
            printf("  readdir: %s\n", errname(e));
            break;
        }
        size_t off = 0;
        int complete = 0;
        while (off + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t d;
            memcpy(&d, buf + off, sizeof d);
            if (off + sizeof d + d.d_namlen > used) break; /* name cut off */
            if (n < MAXE) {
                size_t l = d.d_namlen < 127 ? d.d_namlen : 127;
                memcpy(out[n].name, buf + off + sizeof d, l);
                out[n].name[l] = 0;
                out[n].type = d.d_type;
                out[n].next = d.d_next;
                n++;
            }
            cookie = d.d_next;
            off += sizeof d + d.d_namlen;
            complete++;
        }
        if (used < bufsize) break; /* end of directory */
        if (complete == 0) {
            bufsize *= 2;
            buf = realloc(buf, bufsize);
            *grown = 1;
        }
        if (*calls > 10000) {
            printf("  too many calls\n");
            break;
        }
    }
    free(buf);
    return n;
}

static void print_sorted(struct ent *e, int n) {
    qsort(e, n, sizeof *e, ecmp);
    for (int i = 0; i < n; i++) printf("  %s type=%u\n", e[i].name, e[i].type);
}

static int same_set(struct ent *a, int na, struct ent *b, int nb) {
    if (na != nb) return 0;
    qsort(a, na, sizeof *a, ecmp);
    qsort(b, nb, sizeof *b, ecmp);
    for (int i = 0; i < na; i++)
        if (strcmp(a[i].name, b[i].name) || a[i].type != b[i].type) return 0;
    return 1;
}

static __wasi_fd_t opendirfd(const char *path) {
    __wasi_fd_t d;
    __wasi_errno_t e = wopen(open_dir("/data"), path, __WASI_OFLAGS_DIRECTORY, R_DIR, 0, &d);
    if (e) {
        printf("open %s: %s\n", path, errname(e));
        exit(98);
    }
    return d;
}

static struct ent A[MAXE], B[MAXE];

static void t_list(void) {
    __wasi_fd_t data = open_dir("/data");
    int calls, grown;
    int n = list(data, 4096, A, &calls, &grown);
    printf("entries: %d\n", n);
    yesno("first two are . and ..", n >= 2 && !strcmp(A[0].name, ".") && !strcmp(A[1].name, ".."));
    int distinct = 1;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (A[i].next == A[j].next) distinct = 0;
    yesno("cookies distinct", distinct);
    print_sorted(A, n);
    __wasi_fd_t dir = opendirfd("dir");
    n = list(dir, 4096, A, &calls, &grown);
    printf("dir entries: %d\n", n);
    print_sorted(A, n);
    /* An empty directory lists . and .. only. */
    (void)__wasi_fd_close(dir);
    dir = opendirfd("empty");
    n = list(dir, 4096, A, &calls, &grown);
    printf("empty entries: %d\n", n);
    print_sorted(A, n);
    (void)__wasi_fd_close(dir);
}

static void t_cookies(void) {
    __wasi_fd_t many = opendirfd("many");
    int calls, grown;
    int n = list(many, 8192, A, &calls, &grown);
    printf("many entries: %d in %d call(s)\n", n, calls);
    /* Resuming at entry i's cookie yields entry i+1 first. */
    int ok = 1;
    for (int i = 0; i + 1 < n; i++) {
        uint8_t buf[256];
        __wasi_size_t used = 0;
        if (__wasi_fd_readdir(many, buf, sizeof buf, A[i].next, &used) != 0 || used < sizeof(__wasi_dirent_t)) {
            ok = 0;
            continue;
        }
        __wasi_dirent_t d;
        memcpy(&d, buf, sizeof d);
        if (d.d_namlen != strlen(A[i + 1].name) || memcmp(buf + sizeof d, A[i + 1].name, d.d_namlen)) ok = 0;
    }
    yesno("resume at every cookie gives the next entry", ok);
    uint8_t buf[256];
    __wasi_size_t used = 99;
    wres("readdir at the last cookie", __wasi_fd_readdir(many, buf, sizeof buf, A[n - 1].next, &used));
    printf("  used %u\n", (unsigned)used);
    /* Listing again from 0 gives the same again. */
    int m = list(many, 8192, B, &calls, &grown);
    yesno("second listing from cookie 0 is the same", same_set(A, n, B, m));
    (void)__wasi_fd_close(many);
}

static void t_small(void) {
    __wasi_fd_t data = open_dir("/data");
    int calls, grown;
    int n = list(data, 4096, A, &calls, &grown);
    printf("reference: %d entries\n", n);
    static const size_t sizes[] = {1, 8, 24, 25, 26, 30, 48, 64, 100, 200};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int m = list(data, sizes[i], B, &calls, &grown);
        printf("buffer %zu: %d entries, same as reference: %s, buffer grown: %s, more than one call: %s\n",
               sizes[i], m, same_set(A, n, B, m) ? "yes" : "no", grown ? "yes" : "no",
               calls > 1 ? "yes" : "no");
    }
    /* What a buffer smaller than one entry receives: the start of the first dirent. */
    uint8_t buf[32];
    memset(buf, 0xEE, sizeof buf);
    __wasi_size_t used = 0;
    wres("readdir into 10 bytes", __wasi_fd_readdir(data, buf, 10, 0, &used));
    printf("  used %u, byte 10 untouched: %s\n", (unsigned)used, buf[10] == 0xEE ? "yes" : "no");
    __wasi_dirent_t d;
    memset(buf, 0xEE, sizeof buf);
    wres("readdir into 25 bytes", __wasi_fd_readdir(data, buf, 25, 0, &used));
    memcpy(&d, buf, sizeof d);
    printf("  used %u, first namlen %u type %u name [%c], byte 25 untouched: %s\n", (unsigned)used,
           d.d_namlen, d.d_type, buf[24], buf[25] == 0xEE ? "yes" : "no");
    used = 99;
    wres("readdir into 0 bytes", __wasi_fd_readdir(data, buf, 0, 0, &used));
    printf("  used %u\n", (unsigned)used);
}

static void t_errors(void) {
    __wasi_fd_t data = open_dir("/data");
    __wasi_fd_t f;
    wres("open a.txt", wopen(data, "a.txt", 0, R_RO | __WASI_RIGHTS_FD_READDIR, 0, &f));
    uint8_t buf[64];
    __wasi_size_t used;
    wres("readdir on a file", __wasi_fd_readdir(f, buf, sizeof buf, 0, &used));
    wres("readdir on stdout", __wasi_fd_readdir(1, buf, sizeof buf, 0, &used));
    __wasi_fd_t d;
    wres("open a.txt with O_DIRECTORY", wopen(data, "a.txt", __WASI_OFLAGS_DIRECTORY, R_DIR, 0, &d));
    wres("open link with O_DIRECTORY", wopen(data, "link", __WASI_OFLAGS_DIRECTORY, R_DIR, 0, &d));
}

static int scan_filter(const struct dirent *d) { return d->d_name[0] != '.'; }

static void t_libc(void) {
    DIR *d = opendir("/data/many");
    lres("opendir /data/many", d == NULL);
    if (!d) return;
    int n = 0;
    long pos10 = -1;
    char at10[64] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        if (n == 10) {
            snprintf(at10, sizeof at10, "%s", e->d_name);
        }
        n++;
        if (n == 10) pos10 = telldir(d);
    }
    printf("readdir count: %d\n", n);
    seekdir(d, pos10);
    e = readdir(d);
    yesno("seekdir(telldir) returns to the same entry", e && !strcmp(e->d_name, at10));
    rewinddir(d);
    int again = 0;
    while (readdir(d)) again++;
    printf("after rewinddir: %d\n", again);
    lres("closedir", closedir(d) != 0);
    struct dirent **list;
    int m = scandir("/data", &list, scan_filter, alphasort);
    printf("scandir /data (no dot files): %d\n", m);
    for (int i = 0; i < m; i++) {
        printf("  %s type=%u\n", list[i]->d_name, list[i]->d_type);
        free(list[i]);
    }
    free(list);
    lres("opendir /data/a.txt", opendir("/data/a.txt") == NULL);
    lres("opendir /data/missing", opendir("/data/missing") == NULL);
}

SUBTESTS({"list", t_list}, {"cookies", t_cookies}, {"small", t_small}, {"errors", t_errors},
         {"libc", t_libc})
