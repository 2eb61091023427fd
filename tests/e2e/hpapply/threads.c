/*
 * threads.c - four threads (or as many as the first argument says) call
 * compute() (body/old.c or body/new.c) all the time while the test applies
 * and reverts the package again and again.  Each checks every answer: the old one (x*2+1) or the new one
 * (x*3+1), nothing else.  Every 10 ms the main thread prints
 * "calls=N old=N new=N wrong=N"; a wrong answer also prints a line
 * "WRONG x=X got=G" (and a crash kills the process, which the test sees).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int compute(int x);

static atomic_long calls, old_answers, new_answers, wrong;

static void *worker(void *arg)
{
	int x = (int)(long)arg;

	for (;;) {
		int r;

		x = (x * 1103515245 + 12345) & 0xffff;
		r = compute(x);
		if (r == x * 2 + 1) {
			old_answers++;
		} else if (r == x * 3 + 1) {
			new_answers++;
		} else {
			wrong++;
			printf("WRONG x=%d got=%d\n", x, r);
		}
		/* some work outside compute(), as a real caller has, and a
		 * short sleep now and then: four threads spinning on a small
		 * machine would measure the scheduler, not hpapply */
		for (volatile int k = 0; k < 100; k++)
			;
		if (++calls % 64 == 0)
			usleep(100);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 4;
	pthread_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long i = 0; i < n; i++)
		pthread_create(&t, NULL, worker, (void *)(i + 1));
	for (;;) {
		printf("calls=%ld old=%ld new=%ld wrong=%ld\n", (long)calls, (long)old_answers,
		       (long)new_answers, (long)wrong);
		usleep(10000);
	}
}
