/* body: the fix changes a function's body (old: x*2+1). */
#include <stdio.h>

__attribute__((noinline)) int compute(int x)
{
	return x * 2 + 1;
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "compute=%d", compute(7));
	(void)i;
	return buf;
}
