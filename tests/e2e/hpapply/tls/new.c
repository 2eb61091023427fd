/* tls: the fix negates the answer; the counter goes on. */
#include <stdio.h>

static __thread int calls;
__thread int tls_bias = 5;

__attribute__((noinline)) int count_calls(void)
{
	return -(++calls + tls_bias);
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "calls=%d", count_calls());
	(void)i;
	return buf;
}
