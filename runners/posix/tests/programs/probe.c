/* probe: the POSIX runner's test program. One static binary, many subcommands; each
 * prints one line saying what happened (so a test can tell a denial from a crash) and
 * exits 0 unless the subcommand says otherwise. Built by scripts/build-posix-tests.sh with
 * musl-gcc -static. Runs only inside the sandbox under test. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int report(const char *what, int ok) {
    if (ok) printf("%s: ok\n", what);
    else printf("%s: %s\n", what, strerror(errno));
    return 0;
}

/* read PATH: print the file's contents. */
static int cmd_read(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { printf("read %s: %s\n", path, strerror(errno)); return 0; }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}

/* write PATH TEXT: create/truncate PATH with TEXT. */
static int cmd_write(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { printf("write %s: %s\n", path, strerror(errno)); return 0; }
    ssize_t w = write(fd, text, strlen(text));
    close(fd);
    printf("write %s: %s\n", path, w == (ssize_t)strlen(text) ? "ok" : strerror(errno));
    return 0;
}

/* ls PATH: the entries of a directory, sorted by the caller. */
static int cmd_ls(const char *path) {
    DIR *d = opendir(path);
    if (!d) { printf("ls %s: %s\n", path, strerror(errno)); return 0; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) printf("%s\n", e->d_name);
    }
    closedir(d);
    return 0;
}

/* escape-dotdot: climb far above / and list what is there. */
static int cmd_escape_dotdot(void) {
    for (int i = 0; i < 64; i++) if (chdir("..") != 0) break;
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
    printf("cwd %s\n", cwd);
    return cmd_ls(".");
}

/* symlink-escape DIR: make DIR/up -> ../../../../.. and read up/etc/passwd through it. */
static int cmd_symlink_escape(const char *dir) {
    char link[4096], target[4096];
    snprintf(link, sizeof link, "%s/up", dir);
    unlink(link);
    if (symlink("../../../../../../..", link) != 0) {
        printf("symlink: %s\n", strerror(errno));
    }
    snprintf(target, sizeof target, "%s/up/etc/passwd", dir);
    return cmd_read(target);
}

/* socket FAMILY: create a socket of family inet|inet6|unix|netlink|packet. */
static int cmd_socket(const char *family) {
    int dom = !strcmp(family, "inet") ? AF_INET
            : !strcmp(family, "inet6") ? AF_INET6
            : !strcmp(family, "unix") ? AF_UNIX
            : !strcmp(family, "netlink") ? AF_NETLINK
            : !strcmp(family, "packet") ? AF_PACKET : -1;
    int type = dom == AF_NETLINK || dom == AF_PACKET ? SOCK_RAW : SOCK_STREAM;
    int s = socket(dom, type, 0);
    char what[64];
    snprintf(what, sizeof what, "socket %s", family);
    report(what, s >= 0);
    if (s >= 0) close(s);
    return 0;
}

/* connect IP PORT: TCP connect to IP:PORT, send "hello\n". */
static int cmd_connect(const char *ip, const char *port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) { printf("connect: socket: %s\n", strerror(errno)); return 0; }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(port));
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        printf("connect: %s\n", strerror(errno));
        close(s);
        return 0;
    }
    (void)!write(s, "hello\n", 6);
    close(s);
    printf("connect: ok\n");
    return 0;
}

/* listen-self: listen on 127.0.0.1 (the sandbox's own loopback) and connect to it. */
static int cmd_listen_self(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0) { printf("listen-self: socket: %s\n", strerror(errno)); return 0; }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &len)) {
        printf("listen-self: %s\n", strerror(errno));
        return 0;
    }
    int c = socket(AF_INET, SOCK_STREAM, 0);
    report("listen-self", connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    return 0;
}

/* forkbomb: fork until fork fails; children sleep; print how many were made. */
static int cmd_forkbomb(void) {
    int n = 0;
    for (;;) {
        pid_t p = fork();
        if (p < 0) break;
        if (p == 0) { pause(); _exit(0); }
        if (++n >= 100000) break;
    }
    printf("forkbomb: stopped after %d children: %s\n", n, strerror(errno));
    fflush(stdout);
    kill(0, SIGKILL);
    return 0;
}

/* membomb MIB: allocate and touch up to MIB MiB, 1 MiB at a time. */
static int cmd_membomb(const char *mib) {
    long want = atol(mib), got = 0;
    for (; got < want; got++) {
        char *p = malloc(1 << 20);
        if (!p) break;
        memset(p, 1, 1 << 20);
    }
    printf("membomb: %ld MiB of %ld: %s\n", got, want, got < want ? "refused" : "all");
    return 0;
}

/* fill PATH: write 1 MiB blocks to PATH until a write fails. */
static int cmd_fill(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { printf("fill: %s\n", strerror(errno)); return 0; }
    static char block[1 << 20];
    long mib = 0;
    for (;;) {
        ssize_t w = write(fd, block, sizeof block);
        if (w != (ssize_t)sizeof block) break;
        if (++mib > 100000) break;
    }
    printf("fill: %ld MiB: %s\n", mib, strerror(errno));
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) { fprintf(stderr, "usage: probe COMMAND ...\n"); return 2; }
    const char *c = argv[1];
    const char *a = argc > 2 ? argv[2] : "";
    const char *b = argc > 3 ? argv[3] : "";
    if (!strcmp(c, "hello")) { printf("hello from a native program\n"); return 0; }
    if (!strcmp(c, "args")) { for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]); return 0; }
    if (!strcmp(c, "env")) { for (char **e = environ; *e; e++) printf("%s\n", *e); return 0; }
    if (!strcmp(c, "exit")) return atoi(a);
    if (!strcmp(c, "signal")) { raise(atoi(a)); printf("survived signal %s\n", a); return 0; }
    if (!strcmp(c, "cat")) {
        char buf[4096]; ssize_t n;
        while ((n = read(0, buf, sizeof buf)) > 0) (void)!write(1, buf, n);
        fprintf(stderr, "cat: done\n");
        return 0;
    }
    if (!strcmp(c, "read")) return cmd_read(a);
    if (!strcmp(c, "write")) return cmd_write(a, b);
    if (!strcmp(c, "ls")) return cmd_ls(a);
    if (!strcmp(c, "cwd")) { char d[4096]; printf("cwd %s\n", getcwd(d, sizeof d) ? d : strerror(errno)); return 0; }
    if (!strcmp(c, "escape-dotdot")) return cmd_escape_dotdot();
    if (!strcmp(c, "symlink-escape")) return cmd_symlink_escape(a);
    if (!strcmp(c, "socket")) return cmd_socket(a);
    if (!strcmp(c, "connect")) return cmd_connect(a, b);
    if (!strcmp(c, "listen-self")) return cmd_listen_self();
    if (!strcmp(c, "forkbomb")) return cmd_forkbomb();
    if (!strcmp(c, "membomb")) return cmd_membomb(a);
    if (!strcmp(c, "spin")) { for (volatile unsigned long i = 0;; i++) {} }
    if (!strcmp(c, "fill")) return cmd_fill(a);
    if (!strcmp(c, "ptrace")) return report("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    if (!strcmp(c, "mount")) return report("mount", mount("none", "/tmp", "tmpfs", 0, "") == 0);
    if (!strcmp(c, "unshare")) return report("unshare", unshare(CLONE_NEWNS | CLONE_NEWUSER) == 0);
    if (!strcmp(c, "chroot")) return report("chroot", chroot("/tmp") == 0);
    if (!strcmp(c, "setuid")) return report("setuid 1000", setuid(1000) == 0);
    if (!strcmp(c, "mknod")) return report("mknod", mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)) == 0);
    if (!strcmp(c, "hostname")) { struct utsname u; uname(&u); printf("hostname %s\n", u.nodename); return 0; }
    if (!strcmp(c, "sethostname")) return report("sethostname", sethostname("pwned", 5) == 0);
    if (!strcmp(c, "id")) { printf("uid %d euid %d gid %d\n", (int)getuid(), (int)geteuid(), (int)getgid()); return 0; }
    if (!strcmp(c, "pid")) { printf("pid %d ppid %d\n", (int)getpid(), (int)getppid()); return 0; }
    if (!strcmp(c, "exec")) { execv(a, argv + 2); printf("exec %s: %s\n", a, strerror(errno)); return 0; }
    if (!strcmp(c, "chmod")) {
        char what[4200];
        snprintf(what, sizeof what, "chmod %s", a);
        return report(what, chmod(a, (mode_t)strtol(b, NULL, 8)) == 0);
    }
    if (!strcmp(c, "setid")) {
        /* setid PATH: try to leave set-user-ID / set-group-ID files behind. */
        int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 04755);
        report("create 4755", fd >= 0);
        if (fd >= 0) close(fd);
        fd = open(a, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0) close(fd);
        report("chmod 4755", chmod(a, 04755) == 0);
        report("chmod 2755", chmod(a, 02755) == 0);
        report("chmod 755", chmod(a, 0755) == 0);
        return 0;
    }
    if (!strcmp(c, "syscall")) {
        long nr = atol(a);
        errno = 0;
        long r = syscall(nr, 0, 0, 0, 0, 0, 0);
        if (r < 0) printf("syscall %ld: %s\n", nr, strerror(errno));
        else printf("syscall %ld: returned %ld\n", nr, r);
        return 0;
    }
    fprintf(stderr, "probe: unknown command %s\n", c);
    return 2;
}
