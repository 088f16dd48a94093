/* Tries to read, create and list paths given as arguments (default: a path outside every
 * grant) and prints what each attempt returned. Under node the path does not exist on the
 * host, so the golden says ENOENT ("No such file or directory"): the runner must answer the
 * same for paths outside its grants. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void try_path(const char *p) {
    int fd = open(p, O_RDONLY);
    printf("open(%s, O_RDONLY): %s\n", p, fd >= 0 ? "opened (unexpected)" : strerror(errno));
    if (fd >= 0) close(fd);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    printf("open(%s, O_WRONLY|O_CREAT): %s\n", p, fd >= 0 ? "opened (unexpected)" : strerror(errno));
    if (fd >= 0) close(fd);
    DIR *d = opendir(p);
    printf("opendir(%s): %s\n", p, d ? "opened (unexpected)" : strerror(errno));
    if (d) closedir(d);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        try_path("/webc-denied/secret.txt");
    } else {
        for (int i = 1; i < argc; i++) try_path(argv[i]);
    }
    return 0;
}
