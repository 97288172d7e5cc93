#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

int util_int_parse(const char *s, long long min, long long max, long long *out)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int duration_parse(const char *s, int64_t *ms)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	const char *p = s;
	int64_t whole = 0, frac = 0, scale = 1;
	int digits = 0;

	if (!s)
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (whole > (INT64_MAX - 9) / 10)
			return -1;
		whole = whole * 10 + (*p++ - '0');
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (scale < 1000000) {
				frac = frac * 10 + (*p - '0');
				scale *= 10;
			}
			p++;
			digits++;
		}
	}
	if (!digits)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) == 0) {
			/* the bound depends on the unit: "359999999640ms" is "99999.9999h"
			 * (found by fuzz/util.c: a duration clawss printed did not parse back) */
			if (whole > (INT64_MAX - units[i].ms) / units[i].ms)
				return -1;
			int64_t v = whole * units[i].ms + frac * units[i].ms / scale;
			if (v <= 0)
				return -1;
			*ms = v;
			return 0;
		}
	}
	return -1;
}

const char *duration_error(const char *s)
{
	int64_t ms;
	const char *p = s;
	if (duration_parse(s, &ms) == 0)
		return NULL;
	if (!s || !*s)
		return "it is empty";
	if (*s == '-')
		return "it is negative";
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	if (p == s || !strpbrk(s, "0123456789") || strpbrk(s, "0123456789") >= p)
		return "it does not start with a number";
	if (!*p)
		return "it has no unit";
	if (strcmp(p, "ms") && strcmp(p, "s") && strcmp(p, "m") && strcmp(p, "h") &&
	    strcmp(p, "d"))
		return "its unit is unknown";
	const char *dot = memchr(s, '.', (size_t)(p - s));
	if (dot && memchr(dot + 1, '.', (size_t)(p - dot - 1)))
		return "it is not a number";
	for (const char *q = s; q < (dot ? dot : p); q++)
		if (*q != '0')
			return "it is too large";
	for (const char *q = dot ? dot : p; q < p; q++)
		if (*q >= '1' && *q <= '9')
			return "it is shorter than a millisecond";
	return "it is zero";
}

const char *duration_format(int64_t ms, char *buf, size_t len)
{
	if (ms % 3600000 == 0)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
	return buf;
}

static int two(const char *p)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

static int leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int time_parse(const char *s, int64_t now, int64_t *ms)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t ago;

	if (!s)
		return -1;
	if (duration_parse(s, &ago) == 0) {
		*ms = now - ago;
		return 0;
	}
	/* YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) */
	if (strlen(s) < 20)
		return -1;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	long year = strtol((char[5]){ s[0], s[1], s[2], s[3], 0 }, NULL, 10);
	int mon = two(s + 5), day = two(s + 8), hh = two(s + 11), mm = two(s + 14), ss = two(s + 17);
	if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (mon < 1 || mon > 12 || day < 1 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
	    ss < 0 || ss > 60 || year < 1970)
		return -1;
	if (day > mdays[mon - 1] + (mon == 2 && leap(year)))
		return -1;
	const char *p = s + 19;
	int64_t frac = 0;
	if (*p == '.') {
		int n = 0;
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			if (n < 3) {
				frac = frac * 10 + (*p - '0');
				n++;
			}
			p++;
		}
		while (n++ < 3)
			frac *= 10;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (strlen(p) != 6)     /* ±HH:MM and nothing after: read nothing beyond */
			return -1;
		int oh = two(p + 1), om = two(p + 4);
		if (oh < 0 || oh > 23 || p[3] != ':' || om < 0 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60000LL * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	if (ss == 60)
		ss = 59;
	int64_t days = days_from_civil(year, mon, day);
	*ms = ((days * 24 + hh) * 60 + mm) * 60000LL + ss * 1000LL + frac - off;
	return 0;
}

const char *time_format(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)t * 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	return buf;
}

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_boot_ms(void)
{
	struct timespec rt, bt;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return ((int64_t)rt.tv_sec - bt.tv_sec) * 1000 + (rt.tv_nsec - bt.tv_nsec) / 1000000;
}

int util_boot_id_read(char *buf, size_t len)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char tmp[64];
	ssize_t n = read(fd, tmp, sizeof(tmp) - 1);
	close(fd);
	if (n < 36 || len < 37)
		return -1;
	memcpy(buf, tmp, 36);
	buf[36] = '\0';
	return 0;
}

int64_t util_proc_start_ms(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	/* field 22 is starttime; after ')' we are at field 3 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	unsigned long long ticks = strtoull(p + 1, NULL, 10);
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	return time_boot_ms() + (int64_t)(ticks * 1000 / (unsigned long long)hz);
}

int util_glob_match(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void util_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, size, cmp);
}

int util_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int util_grow(void *arr, size_t *cap, size_t need, size_t size)
{
	void **p = arr;
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need) {
		if (n > SIZE_MAX / 2) {
			errno = ENOMEM;
			return -1;
		}
		n *= 2;
	}
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;   /* said here, not left to the allocator (ASan aborts) */
		return -1;
	}
	void *q = reallocarray(*p, n, size);
	if (!q) {
		errno = ENOMEM;
		return -1;
	}
	*p = q;
	*cap = n;
	return 0;
}
