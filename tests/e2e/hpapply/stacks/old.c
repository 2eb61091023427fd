/* stacks: the unit the stack tests patch.  count_lower() counts the
 * lower-case letters of a string; this version misses 'z' (new.c fixes
 * it).  It copies the string to a local buffer first and calls the
 * program's stacks_hook() in the middle, so that a return address into
 * count_lower is left deep below the caller's frame, where the frames of
 * nanosleep() never reach: a stale word the conservative scan took for a
 * frame for ever. */
#include <string.h>

void stacks_hook(void);

__attribute__((noinline)) int count_lower(const char *s)
{
	char copy[256];
	size_t n = strlen(s);
	int count = 0;

	if (n >= sizeof(copy))
		n = sizeof(copy) - 1;
	memcpy(copy, s, n);
	copy[n] = 0;
	stacks_hook();
	for (size_t i = 0; i < n; i++)
		if (copy[i] >= 'a' && copy[i] < 'z')
			count++;
	return count;
}
