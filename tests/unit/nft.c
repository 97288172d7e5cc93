/* The `inet clawss` table (sampler/nft.h) in a network namespace of this test's own
 * (unshare): installed, checked, found changed or missing, replaced, removed; with the
 * DNS log rules when asked. nft(8) is the oracle. Needs root; skips otherwise. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../tap.h"
#include "sampler/nft.h"

/* Counts the lines of `nft list table inet clawss` that contain what; -1 if no table. */
static int nft_lines(const char *what)
{
	FILE *p = popen("nft list table inet clawss 2>/dev/null", "r");
	char line[512];
	int n = 0, any = 0;
	if (!p)
		return -2;
	while (fgets(line, sizeof(line), p)) {
		any = 1;
		if (strstr(line, what))
			n++;
	}
	return pclose(p) == 0 && any ? n : -1;
}

static int run(const char *cmd)
{
	return system(cmd) == 0;
}

int main(void)
{
	if (geteuid() != 0 || system("command -v nft >/dev/null 2>&1") != 0) {
		printf("1..0 # skip needs root and nft\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..0 # skip unshare(CLONE_NEWNET) refused\n");
		return 0;
	}
	tap_plan(14);
	struct nft_opts o = { 0 };
	struct nft *n = nft_open(&o);
	ok(n != NULL, "a handle in a fresh namespace");
	if (!n)
		return 1;
	ok(nft_install(n) == 0, "the table is installed");
	is_int(nft_lines("ct state new"), 2, "one ct rule in each of the two chains");
	is_int(nft_lines("policy accept"), 2, "both chains accept");
	is_int(nft_lines("drop") + nft_lines("reject") + nft_lines("log"), 0,
	       "nothing else: no drop, no reject, no log");
	is_int(nft_check(n), 1, "check: as installed");
	ok(run("nft add rule inet clawss output counter"), "(the container adds a rule)");
	is_int(nft_check(n), 0, "check: a rule added is a change");
	ok(nft_install(n) == 0 && nft_lines("counter") == 0 && nft_check(n) == 1,
	   "installed again: replaced, the added rule gone");
	ok(run("nft delete table inet clawss") && nft_check(n) == 0, "check: a deleted table");
	ok(nft_install(n) == 0 && nft_remove(n) == 0 && nft_lines("chain") == -1,
	   "removed: no table left");
	ok(nft_remove(n) == 0, "removing a table already gone is not an error");
	nft_close(n);

	/* the DNS work's rules */
	struct nft_opts dns = { .dns_log_group = 5 };
	n = nft_open(&dns);
	ok(n && nft_install(n) == 0 && nft_lines("log group 5") == 4,
	   "dns_log_group: udp and tcp, queries on output and answers on input");
	ok(n && nft_lines("dport 53") == 2 && nft_lines("sport 53") == 2 && nft_check(n) == 1 &&
	   nft_remove(n) == 0, "the DNS rules match port 53 and check as installed");
	nft_close(n);
	return tap_failed ? 1 : 0;
}
