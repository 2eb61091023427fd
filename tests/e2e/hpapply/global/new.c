/* global: the fix adds new global and static variables. */
#include <stdio.h>

int scale_factor = 40;
static int scale_calls;

__attribute__((noinline)) int scale(int x)
{
	scale_calls++;
	return x * scale_factor + (scale_calls > 0);
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "scale=%d", scale(5));
	(void)i;
	return buf;
}
