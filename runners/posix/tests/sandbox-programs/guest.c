/* One static test guest for the sandbox tests: argv[1] selects what it does.
 * Results are printed as short lines; errno values as numbers. */
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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int list_dir(const char *path) {
    DIR *d = opendir(path);
    if (!d) { printf("opendir errno=%d\n", errno); return 1; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) printf("%s\n", e->d_name);
    }
    closedir(d);
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(mode, "exit")) return atoi(arg);
    if (!strcmp(mode, "args")) {
        for (int i = 0; i < argc; i++) printf("arg:%s\n", argv[i]);
        for (char **e = environ; *e; e++) printf("env:%s\n", *e);
        return 0;
    }
    if (!strcmp(mode, "cat")) {
        char buf[4096]; ssize_t n; size_t total = 0;
        while ((n = read(0, buf, sizeof buf)) > 0) { fwrite(buf, 1, n, stdout); total += n; }
        fflush(stdout);
        fprintf(stderr, "read %zu bytes\n", total);
        return 3;
    }
    if (!strcmp(mode, "ignore-stdin")) { printf("done\n"); return 0; }
    if (!strcmp(mode, "segv")) { fflush(stdout); raise(SIGSEGV); return 99; }
    if (!strcmp(mode, "kill9")) { kill(getpid(), SIGKILL); return 99; }
    if (!strcmp(mode, "read")) {
        FILE *f = fopen(arg, "r");
        if (!f) { printf("open errno=%d\n", errno); return 1; }
        char buf[4096]; size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        fclose(f);
        return 0;
    }
    if (!strcmp(mode, "write")) {
        int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) { printf("open errno=%d\n", errno); return 1; }
        if (write(fd, "written\n", 8) != 8) { printf("write errno=%d\n", errno); return 1; }
        close(fd);
        printf("ok\n");
        return 0;
    }
    if (!strcmp(mode, "ls")) return list_dir(arg);
    if (!strcmp(mode, "readlink")) {
        char buf[4096]; ssize_t n = readlink(arg, buf, sizeof buf - 1);
        if (n < 0) { printf("readlink errno=%d\n", errno); return 1; }
        buf[n] = 0; printf("%s\n", buf); return 0;
    }
    if (!strcmp(mode, "dotdot")) {
        if (chdir("../../../..") < 0) { printf("chdir errno=%d\n", errno); return 1; }
        char cwd[4096]; if (!getcwd(cwd, sizeof cwd)) return 1;
        printf("cwd:%s\n", cwd);
        return list_dir(".");
    }
    if (!strcmp(mode, "symlink-escape")) {
        /* a symlink to an absolute host path resolves inside the sandbox */
        if (symlink("/etc/passwd", "/tmp/link") < 0) { printf("symlink errno=%d\n", errno); return 1; }
        int fd = open("/tmp/link", O_RDONLY);
        printf("open %s errno=%d\n", fd < 0 ? "failed" : "ok", fd < 0 ? errno : 0);
        return 0;
    }
    if (!strcmp(mode, "socket")) {
        int fam = !strcmp(arg, "unix") ? AF_UNIX : !strcmp(arg, "inet6") ? AF_INET6 :
                  !strcmp(arg, "netlink") ? AF_NETLINK : AF_INET;
        int fd = socket(fam, fam == AF_NETLINK ? SOCK_RAW : SOCK_STREAM, 0);
        printf("socket %s errno=%d\n", fd < 0 ? "failed" : "ok", fd < 0 ? errno : 0);
        return 0;
    }
    if (!strcmp(mode, "connect")) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) { printf("socket errno=%d\n", errno); return 0; }
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET; a.sin_port = htons(atoi(arg)); a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int r = connect(fd, (struct sockaddr *)&a, sizeof a);
        printf("connect %s errno=%d\n", r < 0 ? "failed" : "ok", r < 0 ? errno : 0);
        return 0;
    }
    if (!strcmp(mode, "abstract")) {
        /* abstract NAME: connect to the abstract unix socket "\0NAME". */
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) { printf("socket errno=%d\n", errno); return 0; }
        struct sockaddr_un a = {0};
        a.sun_family = AF_UNIX;
        strncpy(a.sun_path + 1, arg, sizeof a.sun_path - 2);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(arg));
        int r = connect(fd, (struct sockaddr *)&a, len);
        printf("abstract %s errno=%d\n", r < 0 ? "failed" : "ok", r < 0 ? errno : 0);
        return 0;
    }
    if (!strcmp(mode, "privileged")) {
        long r = ptrace(PTRACE_TRACEME, 0, 0, 0);
        printf("ptrace %ld errno=%d\n", r, r < 0 ? errno : 0);
        r = mount("none", "/tmp", "tmpfs", 0, 0);
        printf("mount %ld errno=%d\n", r, r < 0 ? errno : 0);
        r = unshare(CLONE_NEWUSER);
        printf("unshare %ld errno=%d\n", r, r < 0 ? errno : 0);
        r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (r == 0) _exit(0);
        printf("clone-newuser %ld errno=%d\n", r < 0 ? -1L : 0L, r < 0 ? errno : 0);
        r = mknod("/tmp/null", S_IFCHR | 0666, makedev(1, 3));
        printf("mknod %ld errno=%d\n", r, r < 0 ? errno : 0);
        r = sethostname("x", 1);
        printf("sethostname %ld\n", r);
        int fd = open("/newfile", O_WRONLY | O_CREAT, 0644);
        printf("create-in-root errno=%d\n", fd < 0 ? errno : 0);
        fd = open("/proc/sys/kernel/domainname", O_WRONLY);
        printf("proc-sys-write errno=%d\n", fd < 0 ? errno : 0);
        fd = open("/proc/sysrq-trigger", O_WRONLY);
        printf("sysrq errno=%d\n", fd < 0 ? errno : 0);
        /* /proc is mounted read-write: only landlock stops this one. */
        fd = open("/proc/self/comm", O_WRONLY);
        printf("landlock-proc-comm errno=%d\n", fd < 0 ? errno : 0);
        return 0;
    }
    if (!strcmp(mode, "forkbomb")) {
        int n = 0;
        for (;;) {
            pid_t p = fork();
            if (p < 0) break;
            if (p == 0) { pause(); _exit(0); }
            if (++n > 100000) break;
        }
        printf("forked %d errno=%d\n", n, errno);
        return 0;
    }
    if (!strcmp(mode, "membomb")) {
        size_t mb = 0;
        for (;;) {
            char *p = malloc(1 << 20);
            if (!p) break;
            memset(p, 1, 1 << 20);
            if (++mb > 100000) break;
        }
        printf("allocated %zu MiB\n", mb);
        return 0;
    }
    if (!strcmp(mode, "spin")) { for (;;) {} }
    if (!strcmp(mode, "filltmp")) {
        int fd = open("/tmp/fill", O_WRONLY | O_CREAT, 0644);
        if (fd < 0) { printf("open errno=%d\n", errno); return 1; }
        static char buf[65536];
        memset(buf, 'x', sizeof buf);
        long total = 0;
        for (;;) {
            ssize_t n = write(fd, buf, sizeof buf);
            if (n <= 0) { printf("wrote %ld errno=%d\n", total, errno); return 0; }
            total += n;
        }
    }
    if (!strcmp(mode, "tty")) {
        printf("isatty0=%d\n", isatty(0));
        fflush(stdout);
        int fd = open("/dev/tty", O_RDWR);
        if (fd < 0) { printf("open /dev/tty errno=%d\n", errno); return 1; }
        if (write(fd, "via-dev-tty\n", 12) != 12) return 1;
        printf("isatty(/dev/tty)=%d\n", isatty(fd));
        return 0;
    }
    if (!strcmp(mode, "hostname")) {
        struct utsname u; uname(&u); printf("%s\n", u.nodename); return 0;
    }
    if (!strcmp(mode, "ids")) {
        printf("uid=%d pid=%d ppid=%d\n", getuid(), getpid(), getppid());
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 64;
}
