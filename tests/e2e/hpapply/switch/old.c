/* switch: a function compiled to a jump table. */
#include <stdio.h>

__attribute__((noinline)) int classify(int x)
{
	switch (x & 7) {
	case 0: return x + 1;
	case 1: return x * 3;
	case 2: return x - 7;
	case 3: return x ^ 0x55;
	case 4: return x << 2;
	case 5: return x / 3;
	case 6: return ~x;
	default: return x * x;
	}
}

const char *step(int i)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "classify=%d,%d,%d,%d,%d,%d,%d,%d", classify(8), classify(9),
		 classify(10), classify(11), classify(12), classify(13), classify(14), classify(15));
	(void)i;
	return buf;
}
