/*
 * main.c - the program the hpapply tests patch: every 10 ms it prints
 * what the unit under test answers (step(), defined by each case's old.c
 * or new.c), one line at a time, so a test sees the behaviour change when
 * a package is applied and change back when it is reverted.
 */
#include <stdio.h>
#include <unistd.h>

const char *step(int i);

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0;; i++) {
		printf("%s\n", step(i));
		usleep(10000);
	}
}
