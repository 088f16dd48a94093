/* Allocates 64 MiB in 1 MiB chunks plus one 24 MiB block, past the initial 16 MiB memory
 * (built with -sALLOW_MEMORY_GROWTH=1), fills and re-reads them, prints checksums.
 * Then frees everything and checks a fresh allocation works. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNKS 64
#define CHUNK (1u << 20)

int main(void) {
    size_t pages_before = __builtin_wasm_memory_size(0);
    unsigned char *chunks[CHUNKS];
    for (int i = 0; i < CHUNKS; i++) {
        chunks[i] = malloc(CHUNK);
        if (!chunks[i]) {
            printf("malloc failed at chunk %d\n", i);
            return 1;
        }
        for (size_t j = 0; j < CHUNK; j += 64)
            chunks[i][j] = (unsigned char)(i * 7 + j / 64);
    }
    uint32_t sum = 0;
    for (int i = 0; i < CHUNKS; i++)
        for (size_t j = 0; j < CHUNK; j += 64)
            sum = sum * 33 + chunks[i][j];
    printf("chunks=%d checksum=%08x\n", CHUNKS, (unsigned)sum);

    size_t big_len = 24u << 20;
    unsigned char *big = malloc(big_len);
    if (!big) {
        printf("big malloc failed\n");
        return 1;
    }
    memset(big, 0xA5, big_len);
    big[big_len - 1] = 0x5A;
    uint32_t bsum = 0;
    for (size_t j = 0; j < big_len; j += 4096) bsum += big[j];
    printf("big: first=%02x last=%02x sum=%u\n", big[0], big[big_len - 1], (unsigned)bsum);

    size_t pages_after = __builtin_wasm_memory_size(0);
    printf("initial memory is 16 MiB: %s\n", pages_before * 65536 == 16u << 20 ? "yes" : "no");
    printf("memory grew past 88 MiB: %s\n", pages_after * 65536 >= 88u << 20 ? "yes" : "no");

    for (int i = 0; i < CHUNKS; i++) free(chunks[i]);
    free(big);
    char *again = malloc(1000);
    printf("malloc after free: %s\n", again ? "ok" : "failed");
    free(again);
    return 0;
}
