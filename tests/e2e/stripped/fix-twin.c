/*
 * old.c - the library as the distribution built it (libdemo.so.1's
 * demo.c): exported functions that use static functions (weigh() keeps
 * registers on its stack: its unwind table has several rows), a static
 * const table, a writable static, clamp8(), whose identical twin is in
 * other.c, order[], a constant other.c has too, and other_scale(), a
 * hidden function of other.c that the stripped library does not name.  The fixes (fix-*.c) each change one function: an exported one, or weigh() (fix-weigh.c).
 * noipa keeps the statics out of line and unchanged, as in a library
 * where they are called from several places.
 */
#include "demo.h"

static const int weights[8] = { 3, 1, 4, 1, 5, 9, 2, 6 };
static const unsigned char order[16] = { 7, 3, 11, 0, 5, 14, 2, 9, 12, 1, 15, 4, 8, 13, 6, 10 };
static int counter;

__attribute__((noipa)) static int fold(int x)
{
	return (x * 7 + 3) % 101;
}

__attribute__((noipa)) static int mix(int a, int b)
{
	return (a ^ (b << 1)) & 0xffff;
}

__attribute__((noipa)) static int clamp8(int x)
{
	return x < 0 ? 0 : x > 255 ? 255 : x;
}

__attribute__((noipa)) static int weigh(int x)
{
	int s = 0;

	for (int i = 0; i < 8; i++)
		s += weights[i] * fold(x + order[i]);
	return s;
}

int demo_base(int x)
{
	return x + 1000;
}

int demo_score(int x)
{
	return mix(weigh(x), other_scale(x));
}

int demo_clampsum(int x)
{
	return clamp8(x) + 2;	/* the fix: clamp8 has an identical twin */
}

int demo_count(void)
{
	return ++counter;
}
