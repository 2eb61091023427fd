/* inside: the fix (never applied: the old function never returns). */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) void serve_forever(void)
{
	for (;;) {
		puts("serving, fixed");
		usleep(10000);
	}
}

const char *step(int i)
{
	(void)i;
	serve_forever();
	return "not reached";
}
