/* other: a different build of body/old.c (compute differs), to make a
 * package that must be refused by a process running body/old.c. */
#include <stdio.h>

__attribute__((noinline)) int compute(int x)
{
	return x * 2 + 5;
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "compute=%d", compute(7));
	(void)i;
	return buf;
}
