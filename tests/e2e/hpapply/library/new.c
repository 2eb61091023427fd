/* library: the fix changes lib_compute (still calling the library's
 * hidden lib_helper) and lib_label's string. */
#include <stdio.h>

#define HIDDEN __attribute__((visibility("hidden"), noinline))

HIDDEN int lib_helper(int x)
{
	return x + 1;
}

HIDDEN const char *lib_label(void)
{
	return "library two, patched";
}

HIDDEN int lib_compute(int x)
{
	return x * 20 + lib_helper(1);
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "lib=%d %s", lib_compute(10), lib_label());
	(void)i;
	return buf;
}
