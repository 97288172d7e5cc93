/* Replays every input under fuzz/corpus/NAME and fuzz/regressions/NAME through the
 * libFuzzer harness fuzz/NAME.c, compiled here as a plain function: the inputs that
 * once crashed clawss stay fixed (under check-sanitize and valgrind too), without clang. */
#include <dirent.h>
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
#define LLVMFuzzerTestOneInput fuzz_one_icmp
#include "fuzz/icmp.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_unixdiag
#include "fuzz/unixdiag.c"
#undef LLVMFuzzerTestOneInput

static const struct {
	const char *name;
	int (*one)(const uint8_t *, size_t);
} harnesses[] = {
	{ "diag", fuzz_one_diag }, { "procnet", fuzz_one_procnet },
	{ "allow", fuzz_one_allow }, { "util", fuzz_one_util },
	{ "engine", fuzz_one_engine }, { "escape", fuzz_one_escape },
	{ "icmp", fuzz_one_icmp }, { "unixdiag", fuzz_one_unixdiag },
};

/* Runs every file of dir; returns how many, or -1 if one could not be read. */
static int replay_dir(const char *dir, int (*one)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
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

int main(void)
{
	const char *src = getenv("CLAWSS_SRC") ? getenv("CLAWSS_SRC") : ".";
	size_t nh = sizeof(harnesses) / sizeof(harnesses[0]);
	tap_plan((int)nh * 2);
	for (size_t i = 0; i < nh; i++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", src, harnesses[i].name);
		int n = replay_dir(dir, harnesses[i].one);
		ok(n > 0, "%s: the seed corpus replays (%d inputs)", harnesses[i].name, n);
		snprintf(dir, sizeof(dir), "%s/fuzz/regressions/%s", src, harnesses[i].name);
		n = replay_dir(dir, harnesses[i].one);
		ok(n >= 0, "%s: every input that once crashed replays (%d inputs)",
		   harnesses[i].name, n);
	}
	return tap_done();
}
