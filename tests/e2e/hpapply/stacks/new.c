/* stacks: the fix: 'z' is a lower-case letter too. */
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
		if (copy[i] >= 'a' && copy[i] <= 'z')
			count++;
	return count;
}
