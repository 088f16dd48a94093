/* Never ends on its own: `spin loop` burns CPU, `spin sleep` sleeps in poll_oneoff for an
 * hour, `spin read` blocks reading stdin. The time limit must end all three. */
#include "common.h"

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "loop";
    printf("spinning (%s)\n", how);
    fflush(stdout);
    if (!strcmp(how, "sleep")) {
        struct timespec ts = {3600, 0};
        nanosleep(&ts, NULL);
    } else if (!strcmp(how, "read")) {
        char buf[16];
        while (read(0, buf, sizeof buf) >= 0) {
        }
    } else {
        volatile unsigned long n = 0;
        for (;;) n++;
    }
    printf("not reached\n");
    return 0;
}
