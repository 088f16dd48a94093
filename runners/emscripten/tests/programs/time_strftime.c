/* Time functions on a fixed time_t (1700000000 = 2023-11-14 22:13:20 UTC), plus plausibility
 * checks of the clocks that print only booleans. Run with TZ=UTC (node: in its own environment,
 * since emscripten's _tzset_js/_localtime_js use the JS Date of the host). */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static void show(const char *label, const struct tm *tm) {
    printf("%s: %04d-%02d-%02d %02d:%02d:%02d wday=%d yday=%d isdst=%d\n", label,
           tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec,
           tm->tm_wday, tm->tm_yday, tm->tm_isdst);
}

int main(void) {
    tzset();
    time_t t = 1700000000;
    struct tm g, l;
    gmtime_r(&t, &g);
    localtime_r(&t, &l);
    show("gmtime", &g);
    show("localtime", &l);
    printf("timezone=%ld daylight=%d\n", (long)timezone, daylight);

    const char *formats[] = {
        "%Y-%m-%d %H:%M:%S", "%a %b %e %H:%M:%S %Y", "%A, %d %B %Y", "%j %U %W %V %G %u %w",
        "%I:%M:%S %p", "%D %T %R", "%y %C %g %h", "[%n%t%%]", "%c", "%x %X",
    };
    char buf[128];
    for (unsigned i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        size_t n = strftime(buf, sizeof buf, formats[i], &g);
        printf("strftime(\"%s\") -> %zu [%s]\n", formats[i], n, buf);
    }
    printf("strftime too small -> %zu\n", strftime(buf, 5, "%Y-%m-%d", &g));

    struct tm m = {0};
    m.tm_year = 2024 - 1900;
    m.tm_mon = 1;
    m.tm_mday = 29;
    m.tm_hour = 12;
    m.tm_isdst = -1;
    time_t mt = mktime(&m);
    printf("mktime(2024-02-29 12:00:00) = %lld\n", (long long)mt);
    show("normalised", &m);
    struct tm over = {0};
    over.tm_year = 2023 - 1900;
    over.tm_mon = 10;
    over.tm_mday = 31; /* Nov 31 -> Dec 1 (not across a year: 3.1.6's _mktime_js does not write tm_year back) */
    over.tm_isdst = -1;
    time_t ot = mktime(&over);
    printf("mktime(2023-11-31) = %lld\n", (long long)ot);
    show("overflow", &over);
    printf("timegm(gmtime(t)) == t: %s\n", timegm(&g) == t ? "yes" : "no");
    printf("difftime = %.1f\n", difftime(t + 90, t));

    time_t now = time(NULL);
    printf("time(NULL) after 2024: %s\n", now > 1704067200 ? "yes" : "no");
    struct timeval tv;
    int r = gettimeofday(&tv, NULL);
    printf("gettimeofday ok: %s\n", r == 0 && tv.tv_sec >= now && tv.tv_usec >= 0 && tv.tv_usec < 1000000 ? "yes" : "no");
    struct timespec rt, m1, m2;
    clock_gettime(CLOCK_REALTIME, &rt);
    printf("CLOCK_REALTIME close to time(NULL): %s\n", rt.tv_sec - now >= 0 && rt.tv_sec - now < 5 ? "yes" : "no");
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    printf("CLOCK_MONOTONIC non-decreasing: %s\n",
           (m2.tv_sec > m1.tv_sec || (m2.tv_sec == m1.tv_sec && m2.tv_nsec >= m1.tv_nsec)) ? "yes" : "no");
    printf("clock() >= 0: %s\n", clock() >= 0 ? "yes" : "no");
    return 0;
}
