/*
 * zprog.c - the program bench/distro-zlib.sh patches, linked with the
 * system's stock libz.so.1: every 10 ms it calls inflate() with an
 * invalid flush value (99) on a fresh stream and prints what it returns
 * (Z_BUF_ERROR, -5, before the fix; Z_STREAM_ERROR, -2, after), then
 * compresses and uncompresses 20000 bytes (one changed each time) and
 * says whether they came back the same.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
int main(void) {
	static unsigned char src[20000], comp[30000], back[20000];
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < (int)sizeof(src); i++) src[i] = (unsigned char)((i * 7) ^ (i >> 5));
	for (int n = 0;; n++) {
		z_stream s; unsigned char out[16]; uLongf cl = sizeof(comp), bl = sizeof(back);
		int ok, bad;
		memset(&s, 0, sizeof(s));
		inflateInit(&s);
		s.next_out = out; s.avail_out = sizeof(out);
		bad = inflate(&s, 99);
		inflateEnd(&s);
		src[n % sizeof(src)] ^= 1;
		ok = compress2(comp, &cl, src, sizeof(src), 6) == Z_OK && uncompress(back, &bl, comp, cl) == Z_OK &&
		     bl == sizeof(src) && !memcmp(src, back, bl);
		printf("flush99=%d roundtrip=%s\n", bad, ok ? "ok" : "BAD");
		usleep(10000);
	}
}
