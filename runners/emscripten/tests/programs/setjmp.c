/* setjmp/longjmp: same frame, across several frames, nested jmp_bufs, values 0 -> 1. */
#include <setjmp.h>
#include <stdio.h>

static jmp_buf outer, inner;
static int depth_reached;

static void dive(int depth, int target, jmp_buf *where, int val) {
    depth_reached = depth;
    if (depth == target) longjmp(*where, val);
    dive(depth + 1, target, where, val);
    printf("not reached (depth %d)\n", depth);
}

static int middle(void) {
    volatile int local = 10;
    int r = setjmp(inner);
    if (r == 0) {
        local = 20;
        dive(0, 5, &inner, 7);
        return -1;
    }
    printf("inner longjmp returned %d, local=%d, depth=%d\n", r, local, depth_reached);
    /* now jump out through this frame to main's buffer */
    dive(0, 3, &outer, 42);
    return -2;
}

int main(void) {
    jmp_buf here;
    volatile int count = 0;
    int r = setjmp(here);
    count++;
    printf("setjmp(here) returned %d, count=%d\n", r, count);
    if (count < 3) longjmp(here, count);

    r = setjmp(outer);
    if (r == 0) {
        middle();
        printf("not reached\n");
    } else {
        printf("outer longjmp returned %d, depth=%d\n", r, depth_reached);
    }

    r = setjmp(outer);
    if (r == 0) dive(0, 2, &outer, 0); /* longjmp with 0 makes setjmp return 1 */
    else printf("longjmp(buf, 0) made setjmp return %d\n", r);
    printf("done\n");
    return 0;
}
