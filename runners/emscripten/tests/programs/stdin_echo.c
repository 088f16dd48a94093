/* Reads all of stdin, prints the byte and line counts and the content upper-cased. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    size_t cap = 1024, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    size_t lines = 0;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') lines++;
        sum = sum * 31 + buf[i];
    }
    printf("bytes=%zu lines=%zu hash=%08x eof=%s\n", len, lines, sum, feof(stdin) ? "yes" : "no");
    printf("---\n");
    for (size_t i = 0; i < len; i++)
        putchar(toupper(buf[i]));
    if (len && buf[len - 1] != '\n') putchar('\n');
    printf("---\n");
    free(buf);
    return 0;
}
