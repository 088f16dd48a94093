/* A passing assert, then a failing one (built without NDEBUG). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

static int check(int n) {
    assert(n > 0);
    return n * 2;
}

int main(int argc, char **argv) {
    (void)argv;
    printf("check(3)=%d\n", check(3));
    fflush(stdout);
    printf("check(%d)=%d\n", 1 - argc, check(1 - argc)); /* argc >= 1, so this fails */
    return 0;
}
