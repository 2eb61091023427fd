/* counter: a static local whose value must survive the patch. */
#include <stdio.h>

__attribute__((noinline)) int next_ticket(void)
{
	static int counter;

	counter += 1;
	return 1000000 + counter;
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "ticket=%d", next_ticket());
	(void)i;
	return buf;
}
