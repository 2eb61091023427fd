/* tls: the patched function uses thread-local variables of the program
 * (local-exec TLS: R_X86_64_TPOFF32): a static one that keeps counting
 * and a global one. */
#include <stdio.h>

static __thread int calls;
__thread int tls_bias = 5;

__attribute__((noinline)) int count_calls(void)
{
	return ++calls + tls_bias;
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "calls=%d", count_calls());
	(void)i;
	return buf;
}
