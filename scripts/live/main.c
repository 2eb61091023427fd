/*
 * main.c - the "server" of the live-patch demo (scripts/live-demo.sh):
 * every 200 ms it asks the request parser whether a request of a given
 * length fits its 64-byte buffer, and prints the answer.
 */
#include <stdio.h>
#include <unistd.h>

int request_fits(unsigned long len);

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long n = 0;; n++) {
		unsigned long len = 62 + n % 4;

		printf("request of %lu bytes: %s\n", len, request_fits(len) ? "accepted" : "rejected");
		usleep(200000);
	}
}
