/* stdin, stdout and stderr as streams: reads stdin to EOF in small reads, prints its size,
 * an FNV-1a hash and its lines upper-cased; writes to stderr; writes a larger block to
 * stdout in one call; reads again after EOF. */
#include "common.h"
#include <ctype.h>

int main(void) {
    static char in[1 << 16];
    size_t total = 0, reads = 0;
    for (;;) {
        size_t n = 0;
        __wasi_errno_t e = wread(0, in + total, total + 7 <= sizeof in ? 7 : sizeof in - total, &n);
        if (e) {
            printf("read: %s\n", errname(e));
            break;
        }
        if (n == 0) break;
        total += n;
        reads++;
    }
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < total; i++) h = (h ^ (uint8_t)in[i]) * 16777619u;
    printf("stdin: %zu bytes, fnv1a %08x, more than one read: %s\n", total, h, reads > 1 ? "yes" : "no");
    for (size_t i = 0; i < total; i++) putchar(toupper((unsigned char)in[i]));
    if (total && in[total - 1] != '\n') putchar('\n');
    size_t n = 99;
    wres("read after EOF", wread(0, in, 16, &n));
    printf("  got %zu\n", n);
    fflush(stdout);
    size_t w;
    wres("stderr write", wwrite(2, "this goes to stderr\n", &w));
    fprintf(stderr, "and so does this\n");
    /* One 3 000-byte fd_write (looping on short writes). */
    static char block[3000];
    for (size_t i = 0; i < sizeof block; i++) block[i] = (i % 60 == 59) ? '\n' : (char)('a' + (i / 60) % 26);
    size_t done = 0;
    while (done < sizeof block) {
        __wasi_ciovec_t iov = {(const uint8_t *)block + done, sizeof block - done};
        __wasi_size_t k = 0;
        if (__wasi_fd_write(1, &iov, 1, &k) || k == 0) break;
        done += k;
    }
    printf("block written: %zu\n", done);
    return 0;
}
