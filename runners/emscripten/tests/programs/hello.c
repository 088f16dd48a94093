/* Smallest program: one line on stdout, exit 0. */
#include <stdio.h>

int main(void) {
    printf("hello from emscripten\n");
    return 0;
}
