// A WASI module that also imports a function no WASI runner provides (`env.webc_nope`):
// `webc-host run` must refuse it with exit code 126 and a message naming the import.
#include <stdio.h>

__attribute__((import_module("env"), import_name("webc_nope"))) int webc_nope(int);

int main(void) {
    printf("should not run\n");
    return webc_nope(1);
}
