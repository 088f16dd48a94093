/* hello-dyn: a dynamically linked program (glibc), for the host-libs tests. Built by
 * scripts/build-posix-tests.sh with gcc (no -static). */
#include <stdio.h>

int main(void) {
    printf("hello from a dynamically linked program\n");
    return 0;
}
