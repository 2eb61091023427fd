/* other.c - a second unit of libdemo.so.1 with a static clamp8() and a
 * constant order[] identical to demo.c's (found by content, each matches
 * twice), and other_scale(), hidden: the library does not export it. */
#include "demo.h"

static const unsigned char order[16] = { 7, 3, 11, 0, 5, 14, 2, 9, 12, 1, 15, 4, 8, 13, 6, 10 };

__attribute__((visibility("hidden"), noipa)) int other_scale(int x)
{
	return x * 3 + order[x & 15];
}

__attribute__((noipa)) static int clamp8(int x)
{
	return x < 0 ? 0 : x > 255 ? 255 : x;
}

int other_clamp(int x)
{
	return clamp8(x) * 2;
}
