/*
 * prog.c - the program tests/e2e/stripped.sh patches: every 10 ms it
 * prints what libdemo.so.1 answers (with an argument, one line and exits:
 * how the suite learns what a build answers).
 */
#include <stdio.h>
#include <unistd.h>

#include "demo.h"

int main(int argc, char **argv)
{
	int prev = 0;

	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		int now = demo_count();

		printf("score=%d clamp=%d step=%d other=%d\n", demo_score(5), demo_clampsum(300), now - prev,
		       other_clamp(-4));
		prev = now;
		if (argc > 1)
			return 0;
		usleep(10000);
	}
}
