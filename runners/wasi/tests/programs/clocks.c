/* clock_res_get, clock_time_get (every clock id), random_get, sched_yield.
 * Prints properties, never raw times or random bytes. */
#include "common.h"

static const char *const CLOCKS[] = {"realtime", "monotonic", "process_cputime", "thread_cputime"};

/* Realtime and monotonic: resolution and reading, and the properties they must have. */
static void t_clocks(void) {
    for (__wasi_clockid_t id = 0; id < 2; id++) {
        __wasi_timestamp_t res = 0, a = 0, b = 0;
        __wasi_errno_t e = __wasi_clock_res_get(id, &res);
        printf("%s res: %s\n", CLOCKS[id], errname(e));
        yesno("  res in (0, 1s]", e == 0 && res > 0 && res <= 1000000000ull);
        e = __wasi_clock_time_get(id, 1, &a);
        printf("%s time: %s\n", CLOCKS[id], errname(e));
        for (int i = 0; i < 1000; i++) (void)__wasi_clock_time_get(id, 1, &b);
        yesno("  nondecreasing", b >= a);
        if (id == __WASI_CLOCKID_REALTIME) {
            /* 2020-01-01 .. 2100-01-01 */
            yesno("  after 2020", a > 1577836800ull * 1000000000ull);
            yesno("  before 2100", a < 4102444800ull * 1000000000ull);
        }
    }
    /* The monotonic clock advances across a 5 ms sleep by at least 5 ms. */
    __wasi_timestamp_t a = 0, b = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &a);
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &b);
    yesno("monotonic advances >= 5ms over nanosleep(5ms)", b - a >= 5000000ull);
    /* libc views of the same clocks. */
    struct timespec r;
    lres("clock_gettime(CLOCK_REALTIME)", clock_gettime(CLOCK_REALTIME, &r) != 0);
    lres("clock_gettime(CLOCK_MONOTONIC)", clock_gettime(CLOCK_MONOTONIC, &r) != 0);
    lres("clock_getres(CLOCK_MONOTONIC)", clock_getres(CLOCK_MONOTONIC, &r) != 0);
    time_t t = time(NULL);
    yesno("time() after 2020", t > 1577836800);
}

static volatile uint64_t spin_sink;

/* CPU-time clocks (wasmtime-wasi 48 answers EBADF for both); where they work, they
 * advance while the program computes. */
static void t_cputime(void) {
    for (__wasi_clockid_t id = 2; id < 4; id++) {
        __wasi_timestamp_t res = 0, a = 0, b = 0;
        __wasi_errno_t e = __wasi_clock_res_get(id, &res);
        printf("%s res: %s\n", CLOCKS[id], errname(e));
        if (e == 0) yesno("  res in (0, 1s]", res > 0 && res <= 1000000000ull);
        e = __wasi_clock_time_get(id, 1, &a);
        printf("%s time: %s\n", CLOCKS[id], errname(e));
        if (e == 0) {
            for (uint64_t i = 0; i < 20000000; i++) spin_sink += i;
            (void)__wasi_clock_time_get(id, 1, &b);
            yesno("  advances over 20M additions", b > a);
        }
    }
}

static void t_badclock(void) {
    __wasi_timestamp_t t = 0;
    wres("res_get(4)", __wasi_clock_res_get(4, &t));
    wres("time_get(4)", __wasi_clock_time_get(4, 1, &t));
    wres("res_get(0xffffffff)", __wasi_clock_res_get(0xffffffffu, &t));
}

static void t_random(void) {
    uint8_t a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    wres("random_get(64)", __wasi_random_get(a, sizeof a));
    wres("random_get(64) again", __wasi_random_get(b, sizeof b));
    int nz = 0;
    for (size_t i = 0; i < sizeof a; i++) nz |= a[i];
    yesno("not all zero", nz != 0);
    yesno("two draws differ", memcmp(a, b, sizeof a) != 0);
    wres("random_get(0)", __wasi_random_get(a, 0));
    /* A large request is filled completely: count bytes still zero at the end. */
    size_t big = 1 << 20;
    uint8_t *p = calloc(big, 1);
    wres("random_get(1 MiB)", __wasi_random_get(p, big));
    size_t zeros = 0;
    for (size_t i = big - 4096; i < big; i++) zeros += p[i] == 0;
    yesno("tail of 1 MiB filled (< 64 zero bytes in last 4 KiB)", zeros < 64);
    free(p);
    /* The byte distribution is not degenerate. */
    uint8_t c[4096];
    (void)__wasi_random_get(c, sizeof c);
    int seen[256] = {0}, distinct = 0;
    for (size_t i = 0; i < sizeof c; i++) seen[c[i]]++;
    for (int i = 0; i < 256; i++) distinct += seen[i] > 0;
    yesno("at least 200 distinct byte values in 4 KiB", distinct >= 200);
    /* libc's wrapper. */
    lres("getentropy(32)", getentropy(c, 32) != 0);
}

static void t_yield(void) {
    for (int i = 0; i < 3; i++) wres("sched_yield", __wasi_sched_yield());
    lres("libc sched_yield", sched_yield() != 0);
}

SUBTESTS({"clocks", t_clocks}, {"cputime", t_cputime}, {"badclock", t_badclock},
         {"random", t_random}, {"yield", t_yield})
