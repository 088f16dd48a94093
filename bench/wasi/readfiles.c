// bench/wasi.sh: the volume-heavy benchmark. Walks the directory given as argv[1]
// (opendir/readdir, stat through fopen), reads every file whole and prints the number of
// files, their total size and an FNV-1a hash of all contents in name order, so both
// runtimes can be checked to have read the same bytes.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long files = 0, bytes = 0;
static uint64_t hash = 0xcbf29ce484222325ull;
static char buf[1 << 16];

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof *names);
    unsigned char *is_dir = malloc(cap);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) {
            cap *= 2;
            names = realloc(names, cap * sizeof *names);
            is_dir = realloc(is_dir, cap);
        }
        names[n] = strdup(e->d_name);
        is_dir[n] = e->d_type == DT_DIR;
        n++;
    }
    closedir(d);
    // Sort names and their types together (small n: insertion sort).
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(&names[j - 1], &names[j]) > 0; j--) {
            char *t = names[j]; names[j] = names[j - 1]; names[j - 1] = t;
            unsigned char u = is_dir[j]; is_dir[j] = is_dir[j - 1]; is_dir[j - 1] = u;
        }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (is_dir[i]) {
            rc = walk(path);
        } else {
            FILE *f = fopen(path, "rb");
            if (!f) {
                perror(path);
                rc = 1;
                break;
            }
            size_t r;
            while ((r = fread(buf, 1, sizeof buf, f)) > 0) {
                for (size_t k = 0; k < r; k++) hash = (hash ^ (unsigned char)buf[k]) * 0x100000001b3ull;
                bytes += r;
            }
            fclose(f);
            files++;
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(is_dir);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: readfiles DIR\n");
        return 64;
    }
    int rc = walk(argv[1]);
    printf("%lu files, %lu bytes, fnv1a %016llx\n", files, bytes, (unsigned long long)hash);
    return rc;
}
