/* helper: the fix adds a new (static) helper function. */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static int clamp_len(size_t n, size_t max)
{
	return (int)(n > max ? max : n);
}

__attribute__((noinline)) int parse_len(const char *s)
{
	return clamp_len(strlen(s), 16);
}

const char *step(int i)
{
	static const char *const words[] = { "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ" };
	static char buf[64];

	snprintf(buf, sizeof(buf), "len=%d", parse_len(words[i % 2]));
	return buf;
}
