/* other.c - a second unit of libdemo.so.1 with a static clamp8()
 * identical to demo.c's: found by content, it matches twice. */
#include "demo.h"

__attribute__((noipa)) static int clamp8(int x)
{
	return x < 0 ? 0 : x > 255 ? 255 : x;
}

int other_clamp(int x)
{
	return clamp8(x) * 2;
}
