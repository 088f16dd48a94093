// bench/wasi.sh: the hello-world start-up benchmark.
#include <stdio.h>

int main(void) {
    puts("hello, world");
    return 0;
}
