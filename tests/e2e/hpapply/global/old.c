/* global: the fix adds new global and static variables. */
#include <stdio.h>

__attribute__((noinline)) int scale(int x)
{
	return x + 1;
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "scale=%d", scale(5));
	(void)i;
	return buf;
}
