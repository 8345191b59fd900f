// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rows live in a dense array (forgetting one moves the later ones down) and are found
 * through an open-addressed index of their positions, rebuilt only when rows were
 * forgotten: adding 100k rows a sample is one probe each, and no pointer into the array
 * survives a sample.
 */
#include <stdlib.h>
#include <string.h>
#include "history.h"

#define N FA_HIST_SAMPLES

/*
 * A sample's bytes in 16 bits, for memory (at 100k flows, 16 MB instead of 64): up to 2047
 * exactly, above it 11 significant bits and a power of two (at most 1/1024 off, up to
 * 4 TiB a sample). The graphs and averages need no more; totals come from the counters.
 */
typedef uint16_t sample_t;

static sample_t enc(uint64_t n)
{
	int e = 0;

	if (n >= 1ULL << 42)
		n = (1ULL << 42) - 1;
	if (n < 2048)
		return (sample_t)n;
	e = 64 - __builtin_clzll(n) - 11;
	return (sample_t)(e << 11 | (n >> e));
}

static uint64_t dec(sample_t c)
{
	return (uint64_t)(c & 2047) << (c >> 11);
}

struct entry {
	uint64_t key;
	uint32_t gen; /* the last sample it was added to */
	sample_t bytes[2][N]; /* [FA_HIST_RX or _TX][sample % N] */
};

struct fa_hist {
	uint32_t gen; /* samples begun; the current one is gen (its slot gen % N) */
	float dt[N];
	struct entry *rows;
	size_t nrows, cap;
	uint32_t *index; /* position + 1; 0 empty */
	size_t cursor; /* where the next add looks first: rows come in the same order each
			* sample, so most adds find their row there, without the index */
	size_t index_cap; /* a power of two, at least twice nrows */
	bool full;
};

/* Eight bytes at a time, each mixed in by a multiply (a row key is hashed 100k times a
 * sample at 100k flows: byte-wise FNV was a third of the feed's cost). */
uint64_t fa_hist_key(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ULL ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 32;
	return h ? h : 1;
}

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
}

static bool index_rebuild(struct fa_hist *h, size_t cap)
{
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return false;
	for (size_t i = 0; i < h->nrows; i++) {
		size_t s = slot_of(h->rows[i].key, cap);

		while (idx[s])
			s = (s + 1) & (cap - 1);
		idx[s] = i + 1;
	}
	free(h->index);
	h->index = idx;
	h->index_cap = cap;
	return true;
}

static struct entry *find(const struct fa_hist *h, uint64_t key)
{
	if (!h->index_cap)
		return NULL;
	for (size_t s = slot_of(key, h->index_cap); h->index[s]; s = (s + 1) & (h->index_cap - 1))
		if (h->rows[h->index[s] - 1].key == key)
			return &h->rows[h->index[s] - 1];
	return NULL;
}

struct fa_hist *fa_hist_new(void)
{
	return calloc(1, sizeof(struct fa_hist));
}

void fa_hist_free(struct fa_hist *h)
{
	if (!h)
		return;
	free(h->rows);
	free(h->index);
	free(h);
}

void fa_hist_begin(struct fa_hist *h, double dt)
{
	h->gen++;
	h->dt[h->gen % N] = dt > 0 ? dt : 0;
	h->full = false;
	h->cursor = 0;
}

/* The samples after the last one it was added to moved nothing. */
static void catch_up(const struct fa_hist *h, struct entry *e)
{
	uint32_t missed = h->gen - e->gen;

	for (uint32_t i = 1; i <= missed && i <= N; i++)
		for (int d = 0; d < 2; d++)
			e->bytes[d][(e->gen + i) % N] = 0;
	e->gen = h->gen;
}

void fa_hist_add(struct fa_hist *h, uint64_t key, uint64_t rx, uint64_t tx)
{
	struct entry *e;

	/* nothing to add: a row's samples after its last add read as zero */
	if (!rx && !tx)
		return;
	if (h->cursor < h->nrows && h->rows[h->cursor].key == key)
		e = &h->rows[h->cursor];
	else
		e = find(h, key);
	if (e)
		h->cursor = e - h->rows + 1;
	if (!e) {
		if (h->nrows >= FA_HIST_MAX_ROWS) {
			h->full = true;
			return;
		}
		if ((h->nrows + 1) * 2 > h->index_cap &&
		    !index_rebuild(h, h->index_cap ? h->index_cap * 2 : 1024))
			return;
		if (h->nrows == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 256;
			struct entry *r = realloc(h->rows, cap * sizeof(*r));

			if (!r)
				return;
			h->rows = r;
			h->cap = cap;
		}
		e = &h->rows[h->nrows];
		memset(e, 0, sizeof(*e));
		e->key = key;
		e->gen = h->gen;
		/* its place in the index: the slot find() stops at */
		for (size_t s = slot_of(key, h->index_cap);; s = (s + 1) & (h->index_cap - 1)) {
			if (!h->index[s]) {
				h->index[s] = ++h->nrows;
				break;
			}
		}
		h->cursor = h->nrows;
	} else if (e->gen != h->gen) {
		catch_up(h, e);
	}
	e->bytes[FA_HIST_RX][h->gen % N] = enc(dec(e->bytes[FA_HIST_RX][h->gen % N]) + rx);
	e->bytes[FA_HIST_TX][h->gen % N] = enc(dec(e->bytes[FA_HIST_TX][h->gen % N]) + tx);
}

void fa_hist_end(struct fa_hist *h)
{
	size_t k = 0;

	for (size_t i = 0; i < h->nrows; i++) {
		if (h->gen - h->rows[i].gen >= N)
			continue; /* N samples without a byte */
		if (k != i)
			h->rows[k] = h->rows[i];
		k++;
	}
	if (k != h->nrows) {
		h->nrows = k;
		/* the index shrinks with the rows, so a burst does not leave it large */
		size_t cap = 1024;

		while (cap < k * 2)
			cap *= 2;
		if (!index_rebuild(h, cap))
			h->nrows = 0; /* no memory for the index: forget, rather than lose rows */
	}
}

int fa_hist_depth(const struct fa_hist *h)
{
	return h->gen < N ? (int)h->gen : N;
}

bool fa_hist_known(const struct fa_hist *h, uint64_t key)
{
	return find(h, key) != NULL;
}

bool fa_hist_full(const struct fa_hist *h)
{
	return h->full;
}

/* The bytes of a row `age` samples ago (0: the current one). */
static double bytes_at(const struct fa_hist *h, const struct entry *e, uint32_t age,
		       enum fa_hist_dir dir)
{
	uint32_t g = h->gen - age;
	double v = 0;

	if (g > e->gen || e->gen - g >= N)
		return 0; /* after its last sample: nothing moved */
	if (dir != FA_HIST_TX)
		v += dec(e->bytes[FA_HIST_RX][g % N]);
	if (dir != FA_HIST_RX)
		v += dec(e->bytes[FA_HIST_TX][g % N]);
	return v;
}

double fa_hist_avg(const struct fa_hist *h, uint64_t key, double window, enum fa_hist_dir dir)
{
	const struct entry *e = find(h, key);
	double bytes = 0, secs = 0;
	int depth = fa_hist_depth(h);

	if (!e)
		return 0;
	for (int age = 0; age < depth && (age == 0 || secs < window * 0.999); age++) {
		bytes += bytes_at(h, e, age, dir);
		secs += h->dt[(h->gen - age) % N];
	}
	return secs > 0 ? bytes / secs : 0;
}

double fa_hist_peak(const struct fa_hist *h, uint64_t key, enum fa_hist_dir dir)
{
	const struct entry *e = find(h, key);
	double peak = 0;

	for (int age = 0; e && age < fa_hist_depth(h); age++) {
		double dt = h->dt[(h->gen - age) % N];
		double r = dt > 0 ? bytes_at(h, e, age, dir) / dt : 0;

		if (r > peak)
			peak = r;
	}
	return peak;
}

int fa_hist_series(const struct fa_hist *h, uint64_t key, enum fa_hist_dir dir, double *out, int n)
{
	const struct entry *e = find(h, key);
	int depth = fa_hist_depth(h), real = n < depth ? n : depth;

	for (int i = 0; i < n; i++) {
		int age = n - 1 - i;
		double dt = h->dt[(h->gen - age) % N];

		out[i] = e && age < depth && dt > 0 ? bytes_at(h, e, age, dir) / dt : 0;
	}
	return real;
}
