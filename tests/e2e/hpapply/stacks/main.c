/*
 * main.c - the program the stack tests patch (tests/e2e/hpapply-stacks.sh):
 * a single thread calls count_lower() (stacks/old.c) every 2 ms and sleeps
 * in nanosleep() in between, printing "lower=N" every 25 calls.  It sleeps
 * through sleep_2ms(), whose large local buffer (mostly never written, as
 * such buffers often are) spans the place where count_lower's call left a
 * return address: a stale word above the stack pointer all the time the
 * thread sleeps.  The argument picks what else is on its stack:
 *   sleep     nothing (stale words only)
 *   stale     a local array holds pointers into count_lower: data, not frames
 *   signal    at the 50th call, count_lower's hook raises SIGUSR1, whose
 *             handler prints "in handler" and blocks for ever: count_lower's
 *             frame stays below the signal frame
 *   altstack  the same, with the handler on an alternate signal stack (a
 *             mapping of its own), so count_lower's frame is on another stack
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int count_lower(const char *s);

static int raise_at;            /* call number at which the hook raises, 0: never */
static volatile int calls;

static void blocked(int sig)
{
	static const char line[] = "in handler\n";

	(void)sig;
	if (write(1, line, sizeof(line) - 1) < 0)
		_exit(3);
	for (;;)
		pause();
}

__attribute__((noinline)) void stacks_hook(void)
{
	if (++calls == raise_at)
		raise(SIGUSR1);
}

static void on_signal(int altstack)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = blocked;
	if (altstack) {
		stack_t ss = { .ss_size = 1 << 16 };

		ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) < 0) {
			perror("sigaltstack");
			exit(2);
		}
		sa.sa_flags = SA_ONSTACK;
	}
	sigaction(SIGUSR1, &sa, NULL);
	raise_at = 50;
}

__attribute__((noinline)) static void sleep_2ms(void)
{
	char buf[1024];
	struct timespec ts = { 0, 2000000 };

	/* the buffer escapes (so it is really there), unwritten */
	__asm__ volatile("" : : "r"(buf) : "memory");
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	static const char text[] = "the lazy dozen zebras";
	const char *mode = argc > 1 ? argv[1] : "sleep";
	volatile uintptr_t table[4];
	int n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* pointers into count_lower's body, live all along: data words */
	for (int i = 0; i < 4; i++)
		table[i] = !strcmp(mode, "stale") ? (uintptr_t)&count_lower + 1 + (uintptr_t)i : 0;
	if (!strcmp(mode, "signal") || !strcmp(mode, "altstack"))
		on_signal(!strcmp(mode, "altstack"));
	for (unsigned long i = 0;; i++) {
		/* the answer of the call before: the call is the last thing
		 * before every sleep (printf's deep frames would wipe the stale
		 * word out now and then) */
		if (i % 25 == 1)
			printf("lower=%d\n", n);
		n = count_lower(text);
		sleep_2ms();
	}
	return table[0] == 1;
}
