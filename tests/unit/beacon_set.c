/* The beacon rule (report/burst.h) on a labelled synthetic set: several hundred series
 * from a seeded generator, beacons and the traffic that must not look like one. Prints
 * precision and recall (the README quotes them) and asserts floors.
 *
 * Beacons: period log-uniform over 1 s .. 4 h, each gap the period times 1 + U(-J, J)
 * with J uniform over 0 .. 30%, 4 .. 300 connections (log-uniform), each open time late
 * by up to 100 ms (when the sampler sees it); a quarter of those with 12 or more
 * connections also miss one beat in twenty.
 * Not beacons: Poisson arrivals (mean gap 1 s .. 1 h); bursts (2 .. 20 connections a
 * few hundred ms apart, then a quiet spell of 10 s .. 1 h); keep-alive pools (2 .. 8
 * connections to one place, each reopened after 0.3 .. 1.7 of a 5 s .. 10 min timeout);
 * browsing (pages of 1 .. 6 connections within 0.5 s, log-normal think times around
 * 30 s). */
#include <math.h>
#include "../tap.h"
#include "../../report/burst.h"

#define MAXN 300

static uint64_t rng = 13;

static uint64_t next(void)
{
	/* splitmix64: a seeded, portable sequence */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double unif(double a, double b)
{
	return a + (b - a) * ((double)(next() >> 11) / 9007199254740992.0);
}

static double logu(double a, double b)
{
	return exp(unif(log(a), log(b)));
}

static double expo(double mean)
{
	return -mean * log(1.0 - unif(0, 1));
}

static double lognorm(double median, double sigma)
{
	double u1 = unif(1e-12, 1), u2 = unif(0, 1);
	return median * exp(sigma * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static size_t count(void)
{
	return (size_t)logu(4, MAXN + 0.999);
}

static size_t gen_beacon(double *t, double *jitter)
{
	size_t n = count();
	double p = logu(1000, 4 * 3600e3), j = unif(0, 0.30);
	int miss = n >= 12 && unif(0, 1) < 0.25;
	t[0] = 0;
	for (size_t i = 1; i < n; i++) {
		double g = p * (1 + unif(-j, j));
		if (miss && unif(0, 1) < 0.05)
			g += p * (1 + unif(-j, j));
		t[i] = t[i - 1] + g;
	}
	for (size_t i = 0; i < n; i++)
		t[i] += unif(0, 100);
	*jitter = j;
	return n;
}

static size_t gen_poisson(double *t)
{
	size_t n = count();
	double mean = logu(1000, 3600e3);
	t[0] = 0;
	for (size_t i = 1; i < n; i++)
		t[i] = t[i - 1] + expo(mean);
	return n;
}

static size_t gen_bursts(double *t)
{
	size_t n = count(), i = 0;
	double now = 0;
	while (i < n) {
		int k = (int)unif(2, 21);
		for (int j = 0; j < k && i < n; j++) {
			t[i++] = now;
			now += expo(unif(20, 400));
		}
		now += expo(logu(10e3, 3600e3));
	}
	return n;
}

static size_t gen_pool(double *t)
{
	size_t n = count(), m = 0;
	int k = (int)unif(2, 9);
	double timeout = logu(5e3, 600e3);
	static double all[MAXN * 9 * 2];
	for (int c = 0; c < k; c++) {
		double x = unif(0, timeout);
		for (size_t i = 0; i < n; i++) {
			all[m++] = x;
			x += timeout * unif(0.3, 1.7);
		}
	}
	qsort(all, m, sizeof(*all), cmp_d);
	memcpy(t, all, n * sizeof(*t));
	return n;
}

static size_t gen_browse(double *t)
{
	size_t n = count(), i = 0;
	double now = 0;
	while (i < n) {
		int k = (int)unif(1, 7);
		for (int j = 0; j < k && i < n; j++)
			t[i++] = now + unif(0, 500);
		now += lognorm(30e3, 1.5);
	}
	qsort(t, n, sizeof(*t), cmp_d);
	return n;
}

static int flagged(const double *t, size_t n)
{
	int64_t ms[MAXN], scratch[MAXN];
	for (size_t i = 0; i < n; i++)
		ms[i] = (int64_t)t[i];
	return report_beacon(ms, n, scratch);
}

int main(void)
{
	static double t[MAXN];
	enum { NB = 500, NN = 200 };
	int tp = 0, tp6 = 0, n6 = 0, tp_hi = 0, n_hi = 0, fp_total = 0;
	static const char *const names[] = { "Poisson", "bursts", "keep-alive pools", "browsing" };
	size_t (*const gens[])(double *) = { gen_poisson, gen_bursts, gen_pool, gen_browse };
	int fp[4] = { 0 };

	for (int i = 0; i < NB; i++) {
		double j;
		size_t n = gen_beacon(t, &j);
		int f = flagged(t, n);
		tp += f;
		if (n >= 6) {
			n6++;
			tp6 += f;
		}
		if (j >= 0.25 && n >= 6) {
			n_hi++;
			tp_hi += f;
		}
	}
	for (int g = 0; g < 4; g++) {
		for (int i = 0; i < NN; i++) {
			size_t n = gens[g](t);
			fp[g] += flagged(t, n);
		}
		fp_total += fp[g];
	}
	double recall = (double)tp / NB, recall6 = (double)tp6 / n6,
	       recall_hi = (double)tp_hi / n_hi,
	       precision = (double)tp / (tp + fp_total);
	printf("# %d beacons, %d other series (%d each of: Poisson, bursts, keep-alive "
	       "pools, browsing)\n", NB, 4 * NN, NN);
	printf("# recall %.3f (%d/%d); with >= 6 connections %.3f (%d/%d); "
	       "jitter 25-30%% and >= 6 connections %.3f (%d/%d)\n",
	       recall, tp, NB, recall6, tp6, n6, recall_hi, tp_hi, n_hi);
	printf("# precision %.3f (%d flagged, %d of them not beacons)\n", precision,
	       tp + fp_total, fp_total);
	for (int g = 0; g < 4; g++)
		printf("# false positives among %s: %d/%d\n", names[g], fp[g], NN);
	ok(recall >= 0.95, "recall >= 0.95 over every beacon (4..300 connections, jitter 0..30%%)");
	ok(recall6 >= 0.97, "recall >= 0.97 on beacons of 6 connections or more");
	ok(recall_hi >= 0.95, "recall >= 0.95 at 25-30%% jitter, 6 connections or more");
	ok(precision >= 0.97, "precision >= 0.97");
	for (int g = 0; g < 4; g++)
		ok(fp[g] * 100 <= NN * 3, "at most 3%% of %s flagged", names[g]);
	return tap_done_testing();
}
