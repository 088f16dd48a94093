/* poll_oneoff: clock subscriptions (relative, absolute, realtime, several), fd readiness
 * (regular file, stdin, stdout), errors. Expects a directory "/data" holding "hello.txt"
 * (non-empty) and stdin with some bytes. */
#include "common.h"

#define MS 1000000ull

static __wasi_timestamp_t now(void) {
    __wasi_timestamp_t t = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
    return t;
}

static __wasi_subscription_t clock_sub(__wasi_userdata_t ud, __wasi_clockid_t id,
                                       __wasi_timestamp_t timeout, __wasi_subclockflags_t flags) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.precision = 0;
    s.u.u.clock.flags = flags;
    return s;
}

static __wasi_subscription_t fd_sub(__wasi_userdata_t ud, __wasi_eventtype_t type, __wasi_fd_t fd) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = type;
    if (type == __WASI_EVENTTYPE_FD_READ) s.u.u.fd_read.file_descriptor = fd;
    else s.u.u.fd_write.file_descriptor = fd;
    return s;
}

static const char *evtype(__wasi_eventtype_t t) {
    switch (t) {
        case __WASI_EVENTTYPE_CLOCK: return "clock";
        case __WASI_EVENTTYPE_FD_READ: return "fd_read";
        case __WASI_EVENTTYPE_FD_WRITE: return "fd_write";
        default: return "?";
    }
}

/* Whether to print nbytes>0 for fd events (at EOF the count is implementation-defined:
 * wasmtime-wasi 48 reports 1 with HANGUP). */
static int show_nbytes = 1;

/* Polls, then prints the count and the events sorted by userdata. */
static void poll_print(const char *label, const __wasi_subscription_t *subs, size_t n) {
    __wasi_event_t ev[8];
    memset(ev, 0xAA, sizeof ev);
    __wasi_size_t got = 12345;
    __wasi_errno_t e = __wasi_poll_oneoff(subs, ev, n, &got);
    printf("%s: %s", label, errname(e));
    if (e != 0) {
        printf("\n");
        return;
    }
    printf(", %u event(s)\n", (unsigned)got);
    for (__wasi_size_t i = 0; i < got && i < 8; i++) {
        for (__wasi_size_t j = i + 1; j < got && j < 8; j++) {
            if (ev[j].userdata < ev[i].userdata) {
                __wasi_event_t t = ev[i];
                ev[i] = ev[j];
                ev[j] = t;
            }
        }
    }
    for (__wasi_size_t i = 0; i < got && i < 8; i++) {
        printf("  userdata=%llu type=%s error=%s", (unsigned long long)ev[i].userdata,
               evtype(ev[i].type), errname(ev[i].error));
        if (ev[i].type != __WASI_EVENTTYPE_CLOCK) {
            if (show_nbytes) printf(" nbytes>0=%s", ev[i].fd_readwrite.nbytes > 0 ? "yes" : "no");
            printf(" hangup=%s",
                   (ev[i].fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP) ? "yes" : "no");
        }
        printf("\n");
    }
}

static void t_sleep(void) {
    __wasi_subscription_t s = clock_sub(7, __WASI_CLOCKID_MONOTONIC, 20 * MS, 0);
    __wasi_timestamp_t t0 = now();
    poll_print("relative monotonic 20ms", &s, 1);
    yesno("  slept >= 20ms", now() - t0 >= 20 * MS);

    t0 = now();
    s = clock_sub(8, __WASI_CLOCKID_MONOTONIC, now() + 20 * MS, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    poll_print("absolute monotonic now+20ms", &s, 1);
    yesno("  slept >= 20ms", now() - t0 >= 20 * MS);

    t0 = now();
    s = clock_sub(9, __WASI_CLOCKID_REALTIME, 10 * MS, 0);
    poll_print("relative realtime 10ms", &s, 1);
    yesno("  slept >= 10ms", now() - t0 >= 10 * MS);

    __wasi_timestamp_t rt = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &rt);
    t0 = now();
    s = clock_sub(10, __WASI_CLOCKID_REALTIME, rt + 10 * MS, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    poll_print("absolute realtime now+10ms", &s, 1);
    yesno("  slept >= 5ms", now() - t0 >= 5 * MS);

    /* An absolute time in the past fires at once. */
    s = clock_sub(11, __WASI_CLOCKID_MONOTONIC, 0, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    poll_print("absolute monotonic 0 (past)", &s, 1);

    /* Zero relative timeout. */
    s = clock_sub(12, __WASI_CLOCKID_MONOTONIC, 0, 0);
    poll_print("relative 0", &s, 1);

    /* The shorter of two clocks fires; the call returns long before the longer one. */
    __wasi_subscription_t two[2] = {clock_sub(1, __WASI_CLOCKID_MONOTONIC, 10 * MS, 0),
                                    clock_sub(2, __WASI_CLOCKID_MONOTONIC, 5000 * MS, 0)};
    t0 = now();
    poll_print("two clocks 10ms and 5s", two, 2);
    yesno("  returned before 2s", now() - t0 < 2000 * MS);

    /* libc wrappers. */
    struct timespec ts = {0, 10 * MS};
    t0 = now();
    lres("nanosleep(10ms)", nanosleep(&ts, NULL) != 0);
    yesno("  slept >= 10ms", now() - t0 >= 10 * MS);
    t0 = now();
    lres("usleep(10000)", usleep(10000) != 0);
    yesno("  slept >= 10ms", now() - t0 >= 10 * MS);
}

static void t_errors(void) {
    __wasi_event_t ev[2];
    __wasi_size_t got = 0;
    wres("no subscriptions", __wasi_poll_oneoff(NULL, ev, 0, &got));
    __wasi_subscription_t two[2] = {clock_sub(1, __WASI_CLOCKID_THREAD_CPUTIME_ID, 1 * MS, 0),
                                    clock_sub(2, __WASI_CLOCKID_MONOTONIC, 1 * MS, 0)};
    poll_print("thread cputime + monotonic", two, 2);
    __wasi_subscription_t bad[2] = {fd_sub(1, __WASI_EVENTTYPE_FD_READ, 99),
                                    clock_sub(2, __WASI_CLOCKID_MONOTONIC, 1 * MS, 0)};
    poll_print("fd_read on fd 99", bad, 2);
    bad[0] = fd_sub(1, __WASI_EVENTTYPE_FD_WRITE, 99);
    poll_print("fd_write on fd 99", bad, 2);
    __wasi_fd_t data = open_dir("/data");
    bad[0] = fd_sub(1, __WASI_EVENTTYPE_FD_READ, data);
    poll_print("fd_read on a directory", bad, 2);
}

static void t_fds(void) {
    __wasi_fd_t data = open_dir("/data");
    __wasi_fd_t f;
    wres("open hello.txt", wopen(data, "hello.txt", 0, R_RO, 0, &f));
    __wasi_subscription_t s[2] = {fd_sub(1, __WASI_EVENTTYPE_FD_READ, f),
                                  clock_sub(2, __WASI_CLOCKID_MONOTONIC, 5000 * MS, 0)};
    __wasi_timestamp_t t0 = now();
    poll_print("file readable (with 5s clock)", s, 2);
    yesno("  returned before 2s", now() - t0 < 2000 * MS);
    __wasi_filesize_t pos;
    wres("seek to end", __wasi_fd_seek(f, 0, __WASI_WHENCE_END, &pos));
    show_nbytes = 0;
    poll_print("file at EOF (with 5s clock)", s, 2);
    show_nbytes = 1;

    __wasi_fd_t w;
    wres("open out.txt for writing", wopen(data, "out.txt", __WASI_OFLAGS_CREAT, R_WO, 0, &w));
    s[0] = fd_sub(3, __WASI_EVENTTYPE_FD_WRITE, w);
    poll_print("file writable (with 5s clock)", s, 2);

    s[0] = fd_sub(4, __WASI_EVENTTYPE_FD_WRITE, 1);
    poll_print("stdout writable (with 5s clock)", s, 2);
    s[0] = fd_sub(5, __WASI_EVENTTYPE_FD_WRITE, 2);
    poll_print("stderr writable (with 5s clock)", s, 2);
    s[0] = fd_sub(6, __WASI_EVENTTYPE_FD_READ, 0);
    poll_print("stdin readable (with 5s clock)", s, 2);

    /* Two fds at once: both ready. */
    __wasi_subscription_t both[2] = {fd_sub(1, __WASI_EVENTTYPE_FD_WRITE, 1),
                                     fd_sub(2, __WASI_EVENTTYPE_FD_WRITE, w)};
    poll_print("stdout and file writable", both, 2);
    (void)__wasi_fd_close(f);
    (void)__wasi_fd_close(w);
}

/* stdin at end of input is readable at once (a read would return 0), before and after
 * reading it. */
static void t_stdin_eof(void) {
    __wasi_subscription_t s[2] = {fd_sub(1, __WASI_EVENTTYPE_FD_READ, 0),
                                  clock_sub(2, __WASI_CLOCKID_MONOTONIC, 5000 * MS, 0)};
    show_nbytes = 0;
    __wasi_timestamp_t t0 = now();
    poll_print("stdin readable (with 5s clock)", s, 2);
    yesno("  returned before 2s", now() - t0 < 2000 * MS);
    char buf[64];
    size_t total = 0, n = 0;
    while (wread(0, buf, sizeof buf, &n) == 0 && n > 0) total += n;
    printf("read stdin: %zu bytes\n", total);
    t0 = now();
    poll_print("stdin at EOF (with 5s clock)", s, 2);
    yesno("  returned before 2s", now() - t0 < 2000 * MS);
}

SUBTESTS({"sleep", t_sleep}, {"errors", t_errors}, {"fds", t_fds}, {"stdin_eof", t_stdin_eof})
