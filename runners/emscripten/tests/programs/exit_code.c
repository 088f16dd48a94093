/* exit(N) with N from argv[1] (default 0), after registering atexit handlers.
 * Built twice: default (EXIT_RUNTIME=0: emscripten does not run atexit handlers)
 * and exit_code_rt with -sEXIT_RUNTIME=1 (handlers run, in reverse order). */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { printf("atexit: first registered\n"); }
static void second(void) { printf("atexit: second registered\n"); }

int main(int argc, char **argv) {
    atexit(first);
    atexit(second);
    int code = argc > 1 ? atoi(argv[1]) : 0;
    const char *how = argc > 2 ? argv[2] : "exit";
    printf("exiting with %d via %s\n", code, how);
    if (how[0] == 'r') return code;      /* "return": return from main */
    if (how[0] == '_') _Exit(code);      /* "_Exit": no atexit handlers */
    exit(code);
}
