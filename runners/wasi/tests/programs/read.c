/* Reading a larger file: whole (libc fread, 4 KiB at a time, and raw fd_read of odd sizes),
 * at offsets (fd_pread, fd_seek from every whence), past the end. Expects /data/big.bin:
 * 300 000 bytes, byte i = (i * 7 + i / 251) & 0xff (written by the harness). */
#include "common.h"

#define SIZE 300000u

static uint8_t expect(size_t i) { return (uint8_t)((i * 7 + i / 251) & 0xff); }

static uint32_t fnv(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

int main(void) {
    static uint8_t buf[SIZE + 100];
    FILE *f = fopen("/data/big.bin", "rb");
    lres("fopen", f == NULL);
    if (!f) return 1;
    size_t total = 0, n;
    while ((n = fread(buf + total, 1, 4096, f)) > 0) total += n;
    fclose(f);
    printf("fread total: %zu, fnv1a %08x\n", total, fnv(buf, total));
    int ok = total == SIZE;
    for (size_t i = 0; ok && i < total; i++) ok = buf[i] == expect(i);
    yesno("content as expected", ok);

    __wasi_fd_t dir = open_dir("/data");
    __wasi_fd_t fd;
    wres("open", wopen(dir, "big.bin", 0, R_RO, 0, &fd));
    /* Odd-sized raw reads. */
    total = 0;
    size_t sizes[] = {1, 7, 4095, 4097, 65536, 100000, 3};
    size_t k = 0, calls = 0;
    for (;;) {
        size_t want = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
        if (total + want > sizeof buf) want = sizeof buf - total;
        size_t got = 0;
        __wasi_errno_t e = wread(fd, (char *)buf + total, want, &got);
        calls++;
        if (e) {
            printf("read: %s\n", errname(e));
            break;
        }
        if (got == 0) break;
        total += got;
    }
    printf("raw reads: %zu bytes, fnv1a %08x\n", total, fnv(buf, total));
    __wasi_filesize_t pos = 0;
    wres("tell at EOF", __wasi_fd_tell(fd, &pos));
    printf("  %llu\n", (unsigned long long)pos);
    /* pread at offsets, position unchanged. */
    size_t offs[] = {0, 1, 250, 251, 4096, 65535, 65536, 299990, 299999};
    ok = 1;
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        uint8_t b[16];
        __wasi_iovec_t iov = {b, sizeof b};
        __wasi_size_t got = 0;
        if (__wasi_fd_pread(fd, &iov, 1, offs[i], &got) != 0) ok = 0;
        size_t want = SIZE - offs[i] < 16 ? SIZE - offs[i] : 16;
        if (got != want) ok = 0;
        for (size_t j = 0; j < got; j++) ok &= b[j] == expect(offs[i] + j);
    }
    yesno("pread at 9 offsets (short at the end)", ok);
    (void)__wasi_fd_tell(fd, &pos);
    printf("tell after preads: %llu\n", (unsigned long long)pos);
    uint8_t b[16];
    __wasi_iovec_t iov = {b, sizeof b};
    __wasi_size_t got = 99;
    wres("pread past the end", __wasi_fd_pread(fd, &iov, 1, SIZE + 10, &got));
    printf("  got %u\n", (unsigned)got);
    /* Seeks. */
    wres("seek END -10", __wasi_fd_seek(fd, -10, __WASI_WHENCE_END, &pos));
    printf("  %llu\n", (unsigned long long)pos);
    size_t r = 0;
    (void)wread(fd, (char *)b, sizeof b, &r);
    ok = r == 10;
    for (size_t j = 0; j < r; j++) ok &= b[j] == expect(SIZE - 10 + j);
    yesno("last 10 bytes", ok);
    wres("seek SET 123456", __wasi_fd_seek(fd, 123456, __WASI_WHENCE_SET, &pos));
    wres("seek CUR -56", __wasi_fd_seek(fd, -56, __WASI_WHENCE_CUR, &pos));
    printf("  %llu\n", (unsigned long long)pos);
    (void)wread(fd, (char *)b, 4, &r);
    yesno("4 bytes at 123400", r == 4 && b[0] == expect(123400) && b[3] == expect(123403));
    wres("seek SET past the end", __wasi_fd_seek(fd, SIZE + 1000, __WASI_WHENCE_SET, &pos));
    r = 99;
    wres("read past the end", wread(fd, (char *)b, sizeof b, &r));
    printf("  got %zu\n", r);
    __wasi_filestat_t st;
    wres("filestat", __wasi_fd_filestat_get(fd, &st));
    printf("  size %llu type %u\n", (unsigned long long)st.size, st.filetype);
    (void)__wasi_fd_close(fd);
    return 0;
}
