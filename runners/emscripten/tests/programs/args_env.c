/* Prints argc, argv[1..] and a few named environment variables.
 * argv[0] is only checked for being non-empty: node gives the script's path there. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    printf("argv[0] non-empty: %s\n", (argv[0] && argv[0][0]) ? "yes" : "no");
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    printf("argv[argc] is NULL: %s\n", argv[argc] == NULL ? "yes" : "no");
    const char *names[] = {"GREETING", "EMPTY", "WITH_EQUALS", "SPACES", "MISSING"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v)
            printf("%s=[%s]\n", names[i], v);
        else
            printf("%s unset\n", names[i]);
    }
    return 0;
}
