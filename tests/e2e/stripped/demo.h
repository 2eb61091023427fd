/* demo.h - the interface of the library tests/e2e/stripped.sh patches. */
#ifndef DEMO_H
#define DEMO_H
int demo_base(int x);
int demo_score(int x);
int demo_clampsum(int x);
int demo_count(void);
int other_clamp(int x);
int other_scale(int x);   /* hidden: not exported */
#endif
