/* Memory limits: allocation beyond the limit fails cleanly (malloc returns NULL,
 * memory.grow returns -1) and the program carries on. Run with a 32 MiB limit. */
#include "common.h"

#define MiB (1024u * 1024u)

/* Keeps the compiler from assuming an unused malloc succeeds. */
static void *volatile sink;

static void *alloc(size_t n) {
    void *p = malloc(n);
    sink = p;
    return sink;
}

int main(void) {
    void *small = alloc(MiB);
    yesno("alloc(1 MiB)", small != NULL);
    /* (errno is not printed: LLVM assumes malloc leaves it alone.) */
    void *huge = alloc(64u * MiB);
    printf("alloc(64 MiB): %s\n", huge ? "succeeded" : "NULL");
    /* Fill memory 1 MiB at a time until the allocator gives up. */
    size_t chunks = 0;
    void *list[128];
    while (chunks < 128) {
        void *p = alloc(MiB);
        if (!p) break;
        memset(p, 0x5a, MiB);
        list[chunks++] = p;
    }
    yesno("1 MiB chunks stopped before 64", chunks < 64);
    yesno("at least 16 MiB was usable", chunks >= 16);
    size_t pages = __builtin_wasm_memory_size(0);
    yesno("linear memory <= 32 MiB", pages * 65536u <= 32u * MiB);
    long r = (long)__builtin_wasm_memory_grow(0, 1000);
    printf("memory.grow(1000 pages): %ld\n", r);
    r = (long)__builtin_wasm_memory_grow(0, 0);
    yesno("memory.grow(0) returns the current size", r == (long)pages);
    /* Freeing makes room again. */
    for (size_t i = 0; i < chunks; i++) free(list[i]);
    void *again = alloc(8u * MiB);
    yesno("alloc(8 MiB) after freeing", again != NULL);
    yesno("data in the first allocation intact", small != NULL && (memset(small, 1, 16), ((char *)small)[15] == 1));
    printf("done\n");
    return 0;
}
