/* inside: the function to be replaced never returns (it loops, sleeping
 * in usleep), so a thread always has it on its stack: hpapply must wait,
 * retry, and then refuse, leaving the process as it was. */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) void serve_forever(void)
{
	for (;;) {
		puts("serving");
		usleep(10000);
	}
}

const char *step(int i)
{
	(void)i;
	serve_forever();
	return "not reached";
}
