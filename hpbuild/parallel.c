/*
 * parallel.c - per-pair preparation on worker threads (parallel.h).
 *
 * Each worker takes the next pair index from an atomic counter; every
 * library object it touches (Elf handles, Dwarf_Debug, capstone handles,
 * XXH3 states) belongs to that pair alone.  libelf's version is set once by
 * elf_open_mem() before any thread starts (prepare_pairs() does a first
 * call on the main thread).
 */
#include "parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "correlate.h"

int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static void prepare_one(struct prepared_pair *p, const struct rules_options *ropt)
{
	const struct input_pair *ip = p->in;

	if (!ip->old.data || !ip->new.data) {
		p->status = 1;
		return;
	}
	{
		/* the inputs live until main() frees them, after every pair */
		struct load_input a = { ip->old.label, ip->old.data, ip->old.size, true, ip->old.mapped };
		struct load_input b = { ip->new.label, ip->new.data, ip->new.size, true, ip->new.mapped };

		if (diff_load_two(&a, &b, &p->old, &p->new, &p->err) < 0) {
			p->status = -1;
			return;
		}
	}
	diff_objects(p->old, p->new, false, &p->diff);
	rules_check_pair_opts(p->old, p->new, &p->diff, ropt, &p->findings);
	p->status = 0;
}

struct work {
	struct prepared_pair *out;
	size_t n;
	size_t next;   /* atomic */
	const struct rules_options *ropt;
};

static void *worker(void *arg)
{
	struct work *w = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED)) < w->n)
		prepare_one(&w->out[i], w->ropt);
	return NULL;
}

void prepare_pairs(const struct input_pair *pairs, size_t n, struct prepared_pair *out, int jobs,
		   const struct rules_options *ropt)
{
	struct work w = { out, n, 0, ropt };
	pthread_t *tids;
	int started = 0;

	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i].in = &pairs[i];
	elf_version(EV_CURRENT);
	if (jobs > (int)n)
		jobs = (int)n;
	tids = xcalloc(jobs > 1 ? (size_t)jobs : 1, sizeof(*tids));
	for (int t = 1; t < jobs; t++)
		if (pthread_create(&tids[started], NULL, worker, &w) == 0)
			started++;
	worker(&w);  /* this thread works too */
	for (int t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
}

void prepared_pair_free(struct prepared_pair *p)
{
	if (p->status == 0)
		diff_free(&p->diff);
	findings_free(&p->findings);
	elf_close(p->new);
	elf_close(p->old);
	p->old = p->new = NULL;
}

void findings_move(struct findings *dst, struct findings *src)
{
	for (size_t i = 0; i < src->n; i++) {
		GROW(dst->v, dst->cap, dst->n + 1);
		dst->v[dst->n++] = src->v[i];
	}
	if (src->nr_not_run) {
		dst->not_run = xrealloc(dst->not_run, (dst->nr_not_run + src->nr_not_run) * sizeof(char *));
		memcpy(dst->not_run + dst->nr_not_run, src->not_run, src->nr_not_run * sizeof(char *));
		dst->nr_not_run += src->nr_not_run;
	}
	free(src->v);
	free(src->not_run);
	memset(src, 0, sizeof(*src));
}
