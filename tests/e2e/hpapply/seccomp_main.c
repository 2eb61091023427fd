/*
 * seccomp_main.c - main.c under a seccomp filter that makes memfd_create
 * fail with EPERM (everything else allowed): hpapply must refuse it unless
 * given --allow-seccomp, and then keep its record in an anonymous mapping
 * (found again by its magic) since it cannot make a memfd.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *step(int i);

static int deny_memfd(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_memfd_create, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (deny_memfd() < 0) {
		perror("seccomp");
		return 1;
	}
	for (int i = 0;; i++) {
		printf("%s\n", step(i));
		usleep(10000);
	}
}
