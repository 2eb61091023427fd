/* cumulative: hotpatch A (fixes check_size). */
#include <stdio.h>

__attribute__((noinline)) int check_size(int n)
{
	return n >= 0 && n < 200;
}

__attribute__((noinline)) const char *version_label(void)
{
	return "base";
}

const char *step(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "size_ok=%d label=%s", check_size(150), version_label());
	(void)i;
	return buf;
}
