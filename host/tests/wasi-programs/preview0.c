// Calls the legacy `wasi_unstable` (preview0) functions directly, next to wasi-libc's
// preview1 ones, for host/tests/wasi.rs: fd_write, fd_seek (whose `whence` numbering
// differs: 0 = cur, 1 = end, 2 = set), fd_filestat_get (whose `nlink` is a u32, so `size`
// sits at offset 24, not 32) and proc_exit. Prints what it saw and exits 7.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const void *buf;
    uint32_t len;
} ciovec;

#define U(name) __attribute__((import_module("wasi_unstable"), import_name(#name)))
U(fd_write) uint16_t u_fd_write(uint32_t fd, const ciovec *iovs, uint32_t n, uint32_t *written);
U(fd_seek) uint16_t u_fd_seek(uint32_t fd, int64_t offset, uint32_t whence, uint64_t *newoffset);
U(fd_filestat_get) uint16_t u_fd_filestat_get(uint32_t fd, uint8_t *filestat);
U(proc_exit) __attribute__((noreturn)) void u_proc_exit(uint32_t code);

static void say(const char *msg) {
    ciovec iov = {msg, (uint32_t)strlen(msg)};
    uint32_t written = 0;
    if (u_fd_write(1, &iov, 1, &written) != 0 || written != iov.len) u_proc_exit(1);
}

int main(void) {
    say("hello from wasi_unstable\n");
    int fd = open("/tmp/p0.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "0123456789", 10) != 10) u_proc_exit(2);
    uint64_t pos = 0;
    char line[128];
    uint16_t e = u_fd_seek((uint32_t)fd, -3, 1 /* end */, &pos);
    snprintf(line, sizeof line, "seek end-3: errno %u offset %llu\n", e, (unsigned long long)pos);
    say(line);
    e = u_fd_seek((uint32_t)fd, 2, 2 /* set */, &pos);
    snprintf(line, sizeof line, "seek set+2: errno %u offset %llu\n", e, (unsigned long long)pos);
    say(line);
    uint8_t st[56];
    memset(st, 0xff, sizeof st);
    e = u_fd_filestat_get((uint32_t)fd, st);
    uint32_t nlink;
    uint64_t size;
    memcpy(&nlink, st + 20, 4);
    memcpy(&size, st + 24, 8);
    snprintf(line, sizeof line, "filestat: errno %u filetype %u nlink %u size %llu\n", e, st[16],
             nlink, (unsigned long long)size);
    say(line);
    u_proc_exit(7);
}
