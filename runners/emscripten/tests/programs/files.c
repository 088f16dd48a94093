/* File operations under relative paths (cwd is the guest's root in the runner, a populated
 * temp dir under node -sNODERAWFS):
 *   data/  read-only content (package volume)   ro/  read-only host mount
 *   work/  writable host mount, initially holding existing.txt
 * data/ and ro/ must be read-only: the last section checks that writes there fail.
 * Only sizes, kinds and names are printed: no inode numbers, times or modes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void cat(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("fopen(%s): %s\n", path, strerror(errno));
        return;
    }
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("%s (%zu bytes): %s", path, n, buf);
    if (n == 0 || buf[n - 1] != '\n') printf("\n");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("opendir(%s): %s\n", dir, strerror(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("list %s: %d entries\n", dir, n);
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0)
            printf("  %s stat: %s\n", names[i], strerror(errno));
        else if (S_ISDIR(st.st_mode))
            printf("  %s/ dir\n", names[i]);
        else
            printf("  %s file %lld bytes\n", names[i], (long long)st.st_size);
        free(names[i]);
    }
}

static void check(const char *what, int r) {
    printf("%s: %s\n", what, r == 0 ? "ok" : strerror(errno));
}

int main(void) {
    /* read-only content */
    cat("data/input.txt");
    cat("data/sub/nested.txt");
    list("data");
    list("data/sub");
    cat("ro/config.txt");
    list("ro");
    cat("data/missing.txt");

    /* stat of a directory and a file */
    struct stat st;
    printf("stat data: %s\n", stat("data", &st) == 0 && S_ISDIR(st.st_mode) ? "dir" : "?");
    printf("stat data/input.txt size: %lld\n", stat("data/input.txt", &st) == 0 ? (long long)st.st_size : -1LL);
    printf("access(data/input.txt, R_OK): %s\n", access("data/input.txt", R_OK) == 0 ? "ok" : strerror(errno));

    /* low-level read with lseek */
    int fd = open("data/input.txt", O_RDONLY);
    char small[16] = {0};
    off_t end = lseek(fd, 0, SEEK_END);
    lseek(fd, 6, SEEK_SET);
    ssize_t got = read(fd, small, 5);
    printf("lseek end=%lld, read at 6: %zd [%s]\n", (long long)end, got, small);
    close(fd);

    /* writable mount */
    cat("work/existing.txt");
    FILE *f = fopen("work/new.txt", "w");
    if (!f) {
        printf("fopen(work/new.txt, w): %s\n", strerror(errno));
        return 1;
    }
    for (int i = 1; i <= 3; i++) fprintf(f, "line %d\n", i);
    fclose(f);
    f = fopen("work/new.txt", "a");
    fputs("appended\n", f);
    fclose(f);
    cat("work/new.txt");

    fd = open("work/new.txt", O_RDWR);
    lseek(fd, 5, SEEK_SET);
    write(fd, "X", 1);
    printf("ftruncate to 14: %s\n", ftruncate(fd, 14) == 0 ? "ok" : strerror(errno));
    close(fd);
    cat("work/new.txt");

    check("rename work/new.txt -> work/renamed.txt", rename("work/new.txt", "work/renamed.txt"));
    printf("access(work/new.txt) after rename: %s\n", access("work/new.txt", F_OK) == 0 ? "exists" : strerror(errno));
    check("mkdir work/dir", mkdir("work/dir", 0755));
    check("mkdir work/dir again", mkdir("work/dir", 0755));
    f = fopen("work/dir/inner.txt", "w");
    fputs("inside\n", f);
    fclose(f);
    list("work");
    list("work/dir");
    check("rmdir work/dir (not empty)", rmdir("work/dir"));
    check("unlink work/dir/inner.txt", unlink("work/dir/inner.txt"));
    check("rmdir work/dir", rmdir("work/dir"));
    check("unlink work/renamed.txt", unlink("work/renamed.txt"));
    check("unlink work/renamed.txt again", unlink("work/renamed.txt"));
    fd = open("work/excl.txt", O_WRONLY | O_CREAT | O_EXCL, 0644);
    printf("open O_EXCL new: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    fd = open("work/excl.txt", O_WRONLY | O_CREAT | O_EXCL, 0644);
    printf("open O_EXCL existing: %s\n", fd >= 0 ? "ok" : strerror(errno));
    check("unlink work/excl.txt", unlink("work/excl.txt"));
    list("work");

    /* writes into the read-only places fail (EROFS under node with read-only bind mounts) */
    fd = open("data/created.txt", O_WRONLY | O_CREAT, 0644);
    printf("create data/created.txt: %s\n", fd >= 0 ? "ok (unexpected)" : strerror(errno));
    if (fd >= 0) close(fd);
    fd = open("ro/config.txt", O_WRONLY);
    printf("open ro/config.txt O_WRONLY: %s\n", fd >= 0 ? "ok (unexpected)" : strerror(errno));
    if (fd >= 0) close(fd);
    check("unlink data/b.txt", unlink("data/b.txt"));
    check("mkdir ro/newdir", mkdir("ro/newdir", 0755));
    check("rename data/b.txt -> data/c.txt", rename("data/b.txt", "data/c.txt"));
    cat("data/b.txt");
    printf("done\n");
    return 0;
}
