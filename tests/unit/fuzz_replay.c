/* Replays every input under fuzz/corpus/NAME and fuzz/regressions/NAME through the
 * libFuzzer harness fuzz/NAME.c, compiled here as a plain function: the inputs that
 * once crashed clawss stay fixed (under check-sanitize and valgrind too), without clang. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/tap.h"

#define LLVMFuzzerTestOneInput fuzz_one_diag
#include "fuzz/diag.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_procnet
#include "fuzz/procnet.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_allow
#include "fuzz/allow.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_util
#include "fuzz/util.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_engine
#include "fuzz/engine.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_escape
#include "fuzz/escape.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_ct
#include "fuzz/ct.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_dns
#define check dns_check
#include "fuzz/dns.c"
#undef check
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_icmp
#include "fuzz/icmp.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_unixdiag
#include "fuzz/unixdiag.c"
#undef LLVMFuzzerTestOneInput

/* regressions: how many inputs fuzz/regressions/NAME held when this list was last
 * written; the directory may grow, never shrink or vanish (a missing directory would
 * otherwise replay nothing and pass). */
static const struct {
	const char *name;
	int (*one)(const uint8_t *, size_t);
	int regressions;
} harnesses[] = {
	{ "diag", fuzz_one_diag, 3 }, { "procnet", fuzz_one_procnet, 0 },
	{ "allow", fuzz_one_allow, 0 }, { "util", fuzz_one_util, 2 },
	{ "engine", fuzz_one_engine, 0 }, { "escape", fuzz_one_escape, 1 },
	{ "ct", fuzz_one_ct, 3 },
	{ "dns", fuzz_one_dns, 5 },
	{ "icmp", fuzz_one_icmp, 0 }, { "unixdiag", fuzz_one_unixdiag, 0 },
};

/* Runs every file of dir; returns how many, or -1 if dir or one of its files could not
 * be read. A directory that does not exist holds 0 inputs when missing_ok. */
static int replay_dir(const char *dir, int (*one)(const uint8_t *, size_t), int missing_ok)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return errno == ENOENT && missing_ok ? 0 : -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[1024];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		if (!f) {
			n = -1;
			break;
		}
		uint8_t *buf = malloc(1 << 20);
		size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
		fclose(f);
		if (!buf) {
			n = -1;
			break;
		}
		/* libFuzzer hands over a buffer of exactly len bytes: so do we, for ASan */
		uint8_t *exact = malloc(len ? len : 1);
		if (exact) {
			memcpy(exact, buf, len);
			one(exact, len);
			free(exact);
		}
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

/* Every directory under fuzz/regressions names a harness here: one this test does not
 * know would never be replayed. Returns the first stranger's name, or NULL. */
static const char *unknown_regressions(const char *src, char *name, size_t size)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/fuzz/regressions", src);
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(name, size, "(cannot open fuzz/regressions)");
		return name;
	}
	const char *found = NULL;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		size_t i;
		for (i = 0; i < sizeof(harnesses) / sizeof(harnesses[0]); i++)
			if (strcmp(de->d_name, harnesses[i].name) == 0)
				break;
		if (i == sizeof(harnesses) / sizeof(harnesses[0])) {
			snprintf(name, size, "%s", de->d_name);
			found = name;
		}
	}
	closedir(d);
	return found;
}

int main(void)
{
	const char *src = getenv("CLAWSS_SRC") ? getenv("CLAWSS_SRC") : ".";
	size_t nh = sizeof(harnesses) / sizeof(harnesses[0]);
	char stranger[256];
	tap_plan((int)nh * 2 + 1);
	for (size_t i = 0; i < nh; i++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", src, harnesses[i].name);
		int n = replay_dir(dir, harnesses[i].one, 0);
		ok(n > 0, "%s: the seed corpus replays (%d inputs)", harnesses[i].name, n);
		snprintf(dir, sizeof(dir), "%s/fuzz/regressions/%s", src, harnesses[i].name);
		n = replay_dir(dir, harnesses[i].one, harnesses[i].regressions == 0);
		ok(n >= harnesses[i].regressions,
		   "%s: every input that once crashed replays (%d inputs, at least %d)",
		   harnesses[i].name, n, harnesses[i].regressions);
	}
	const char *s = unknown_regressions(src, stranger, sizeof(stranger));
	ok(s == NULL, "every fuzz/regressions directory belongs to a harness replayed here%s%s",
	   s ? ": " : "", s ? s : "");
	return tap_done();
}
