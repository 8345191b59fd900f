/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live view's memory of past intervals: per row (a flow, a process, a group, or the
 * whole machine), the bytes of each of the last FA_HIST_SAMPLES intervals, for the history
 * graphs and the 2 s / 10 s / 40 s averages. Samples are taken together for every row, so
 * their lengths are kept once, not per row. Pure: no I/O, no clock.
 */
#ifndef FA_HISTORY_H
#define FA_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 40 one-second intervals: the longest average, iftop's 40 s */
#define FA_HIST_SAMPLES 40
/* the rows remembered at most; past it, rows without history show none (and say so) */
#define FA_HIST_MAX_ROWS (1u << 18)

enum fa_hist_dir { FA_HIST_RX, FA_HIST_TX, FA_HIST_BOTH };

struct fa_hist;

struct fa_hist *fa_hist_new(void);
void fa_hist_free(struct fa_hist *h);

/* A new sample of dt seconds begins: every row's share of it starts at zero. */
void fa_hist_begin(struct fa_hist *h, double dt);
/* Adds bytes to a row's share of the current sample (a row may be added to many times). */
void fa_hist_add(struct fa_hist *h, uint64_t key, uint64_t rx, uint64_t tx);
/* The sample is complete: rows that moved nothing for FA_HIST_SAMPLES samples are forgotten. */
void fa_hist_end(struct fa_hist *h);

/* How many samples there are (at most FA_HIST_SAMPLES). */
int fa_hist_depth(const struct fa_hist *h);
/* Is the row remembered (it moved bytes in a remembered sample)? */
bool fa_hist_known(const struct fa_hist *h, uint64_t key);
/* The row was not remembered for want of room (FA_HIST_MAX_ROWS): its history is unknown. */
bool fa_hist_full(const struct fa_hist *h);

/*
 * Bytes per second over the most recent samples that cover `window` seconds (whole
 * samples: at least the latest one), or fewer if history is shorter. 0 for an unknown row.
 */
double fa_hist_avg(const struct fa_hist *h, uint64_t key, double window, enum fa_hist_dir dir);
/* The highest rate of one sample among those remembered. */
double fa_hist_peak(const struct fa_hist *h, uint64_t key, enum fa_hist_dir dir);
/* The rates of the last n samples, oldest first, into out[n]; fewer samples: zeros first.
 * Returns how many are real samples. */
int fa_hist_series(const struct fa_hist *h, uint64_t key, enum fa_hist_dir dir, double *out, int n);

/* Keys: one 64-bit hash per row, from what the row is. */
uint64_t fa_hist_key(const void *data, size_t len, uint64_t seed);

#endif /* FA_HISTORY_H */
