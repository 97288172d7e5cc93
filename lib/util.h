/* Small parsers and clocks shared by every module. Library style: return -1 (or 0/1)
 * and never print or exit. Times are integer milliseconds since the Unix epoch.
 *
 * The error convention of the tree (libmnl's). Library code (lib/, store/, sampler/,
 * report/) never prints and never exits:
 * - a function that fails returns -1 (NULL where it returns a pointer) and sets errno;
 *   a parser whose only failure is "not one of those" just returns -1;
 * - where the caller needs a sentence to print, it passes "char *err, size_t errlen"
 *   last; the function writes one line there, without "clawss: " and without a newline
 *   ("what: why"), and still sets errno when a system call failed (watch and sample
 *   test EPERM to add "needs root");
 * - an object that outlives the call keeps its last message behind an accessor,
 *   store_errmsg(st), store_dns_errmsg(d); its constructor, with no object yet, takes
 *   err and errlen (store_open). A multi-step operation's state struct is such an
 *   object: struct store_prune keeps its message in p->err.
 * Only the command layer (cmd/, clawss.c) prints, as "clawss: what: why" (cmd_fail), and
 * turns failures into exit statuses. */
#ifndef CLAWSS_UTIL_H
#define CLAWSS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "250ms", "5s", "2m", "1h", "1.5s": a positive number with a unit. -1 on error. */
int duration_parse(const char *s, int64_t *ms);
/* Why s is not a duration, for the message of a command that refused it ("it has no unit",
 * "it is zero", ...); NULL when duration_parse takes it. */
const char *duration_error(const char *s);
/* Print a duration compactly ("1.5s", "2m", "250ms") into buf. */
const char *duration_format(int64_t ms, char *buf, size_t len);
/* RFC 3339 ("2026-11-22T10:00:00Z", "…T10:00:00.250+01:00") or a duration meaning
 * "that long before now". -1 on error. */
int time_parse(const char *s, int64_t now, int64_t *ms);
/* RFC 3339 UTC with milliseconds: "2026-11-22T10:00:00.123Z". buf >= 32 bytes. */
const char *time_format(int64_t ms, char *buf, size_t len);
int64_t time_now_ms(void);
/* CLOCK_MONOTONIC in milliseconds: for deadlines and intervals, never for rows. */
int64_t time_mono_ms(void);
/* Milliseconds since the epoch at which the machine booted (CLOCK_REALTIME minus
 * CLOCK_BOOTTIME), for turning /proc start times into wall-clock times. */
int64_t time_boot_ms(void);
/* This boot's id (/proc/sys/kernel/random/boot_id), 36 characters + NUL. -1 on error. */
int util_boot_id_read(char *buf, size_t len);
/* Start time of process pid in ms since the epoch from /proc/pid/stat; -1 on error. */
int64_t util_proc_start_ms(int pid);
/* Parse a whole decimal integer in [min, max]; -1 on error. */
int util_int_parse(const char *s, long long min, long long max, long long *out);
/* Shell-style glob match (fnmatch without flags); 1 on match. */
int util_glob_match(const char *pattern, const char *s);

/* qsort, which may be handed an empty array whose pointer is NULL (qsort(NULL, 0, ...)
 * is undefined: UBSan says so under check-sanitize). */
void util_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/* qsort comparator for int64_t. */
int util_cmp_i64(const void *a, const void *b);
/* Makes room for need elements of size bytes in the array *arr (capacity *cap):
 * grows by doubling (at least 16) with reallocarray. -1 with errno ENOMEM (overflow
 * too), the array unchanged. The one array growth of the project. */
int util_grow(void *arr, size_t *cap, size_t need, size_t size);

#endif
