/* sock_accept, sock_recv, sock_send, sock_shutdown: preview1 cannot create sockets and no
 * socket is preopened, so every call answers ENOTSOCK on a descriptor that is not a socket
 * and EBADF on one that is not open. fd 3 is a preopened directory (wasmtime: the --dir;
 * us: `.`). Expects a directory "/data" holding "hello.txt". */
#include "common.h"
#include <sys/socket.h>

static void on(const char *what, __wasi_fd_t fd) {
    char label[96];
    __wasi_fd_t nfd = 12345;
    snprintf(label, sizeof label, "sock_accept(%s)", what);
    __wasi_errno_t e = __wasi_sock_accept(fd, 0, &nfd);
    printf("%s: %s%s\n", label, errname(e), e == 0 ? " (fd returned!)" : "");

    uint8_t buf[16];
    __wasi_iovec_t iov = {buf, sizeof buf};
    __wasi_size_t n = 777;
    __wasi_roflags_t ro = 0;
    snprintf(label, sizeof label, "sock_recv(%s)", what);
    wres(label, __wasi_sock_recv(fd, &iov, 1, 0, &n, &ro));
    snprintf(label, sizeof label, "sock_recv(%s, PEEK|WAITALL)", what);
    wres(label, __wasi_sock_recv(fd, &iov, 1, __WASI_RIFLAGS_RECV_PEEK | __WASI_RIFLAGS_RECV_WAITALL, &n, &ro));

    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    snprintf(label, sizeof label, "sock_send(%s)", what);
    wres(label, __wasi_sock_send(fd, &ciov, 1, 0, &n));

    snprintf(label, sizeof label, "sock_shutdown(%s, RD|WR)", what);
    wres(label, __wasi_sock_shutdown(fd, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR));
}

int main(void) {
    __wasi_fd_t data = open_dir("/data");
    __wasi_fd_t file;
    wres("open hello.txt", wopen(data, "hello.txt", 0, R_RO, 0, &file));
    on("stdin", 0);
    on("stdout", 1);
    on("preopened dir (fd 3)", 3);
    on("directory", data);
    on("regular file", file);
    on("fd 99", 99);
    /* libc's wrappers over the same calls. */
    char c;
    lres("recv(stdin)", recv(0, &c, 1, 0) < 0);
    lres("send(stdout)", send(1, "x", 1, 0) < 0);
    lres("shutdown(stdout)", shutdown(1, SHUT_RDWR) < 0);
    /* stdio still works afterwards. */
    printf("stdout still works\n");
    return 0;
}
