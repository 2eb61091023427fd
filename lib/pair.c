/*
 * pair.c - the per-pair pipeline and its worker threads (pair.h).
 *
 * Each worker takes the next pair index from an atomic counter; every
 * library object it touches (Elf handles, Dwarf_Debug, capstone handles,
 * XXH3 states) belongs to that pair alone.  libelf's version is set once
 * before any thread starts.
 */
#include "pair.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static void analyse(struct hp_pair *p, const struct pair_options *opt)
{
	diff_objects(p->old, p->new, opt && opt->diff_all, &p->diff);
	plan_pair(&p->plan, p->old, p->new, &p->diff, opt ? &opt->plan : NULL);
}

int pair_open(struct hp_pair *p, const struct load_input *old, const struct load_input *new,
	      const struct pair_options *opt, struct hp_err *err)
{
	memset(p, 0, sizeof(*p));
	if (diff_load_two(old, new, &p->old, &p->new, err) < 0) {
		p->status = -1;
		return -1;
	}
	analyse(p, opt);
	return 0;
}

static void prepare_one(struct hp_pair *p, const struct pair_options *opt, pair_hook hook, void *arg)
{
	const struct input_pair *ip = p->in;

	if (!ip->old.data || !ip->new.data) {
		p->status = 1;
		return;
	}
	{
		/* the inputs live until the caller frees them, after every pair */
		struct load_input a = { ip->old.label, ip->old.data, ip->old.size, true, ip->old.mapped };
		struct load_input b = { ip->new.label, ip->new.data, ip->new.size, true, ip->new.mapped };

		if (diff_load_two(&a, &b, &p->old, &p->new, &p->err) < 0) {
			p->status = -1;
			return;
		}
	}
	analyse(p, opt);
	if (hook)
		hook(p, arg);
	p->status = 0;
}

struct work {
	struct hp_pair *out;
	size_t n;
	size_t next;   /* atomic */
	const struct pair_options *opt;
	pair_hook hook;
	void *arg;
};

static void *worker(void *arg)
{
	struct work *w = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED)) < w->n)
		prepare_one(&w->out[i], w->opt, w->hook, w->arg);
	return NULL;
}

void pairs_prepare(const struct input_pair *pairs, size_t n, struct hp_pair *out, int jobs,
		   const struct pair_options *opt, pair_hook hook, void *arg)
{
	struct work w = { out, n, 0, opt, hook, arg };
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

void pair_close(struct hp_pair *p)
{
	if (p->old && p->new) {
		diff_free(&p->diff);
		plan_free(&p->plan);
	}
	findings_free(&p->findings);
	elf_close(p->new);
	elf_close(p->old);
	p->old = p->new = NULL;
}
