/* library: built as a shared library the program loads.  Its functions
 * are hidden (as in a library built with -fvisibility=hidden: the linker
 * makes them local symbols) except step(), which the program calls. */
#include <stdio.h>

#define HIDDEN __attribute__((visibility("hidden"), noinline))

HIDDEN int lib_helper(int x)
{
	return x + 1;
}

HIDDEN const char *lib_label(void)
{
	return "library one";
}

HIDDEN int lib_compute(int x)
{
	return x * 2 + lib_helper(0);
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "lib=%d %s", lib_compute(10), lib_label());
	(void)i;
	return buf;
}
