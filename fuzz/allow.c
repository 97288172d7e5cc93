/* libFuzzer: the allowlist parser (report/allow.h), one line at a time as allow_load
 * feeds it; whatever it accepts must be a well-formed rule that matches its own
 * address, or its own name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/sock.h"
#include "report/allow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allowlist al = { 0 };
	char why[256];
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	unsigned lineno = 0;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		why[0] = '\0';
		if (allow_parse_line(&al, line, ++lineno, why, sizeof(why)) < 0 && !why[0])
			abort();          /* a refusal always says why */
	}
	for (size_t i = 0; i < al.n; i++) {
		const struct allow_rule *r = &al.rules[i];
		if (r->name) {
			/* a NAME rule: a name of 1-253 characters that covers itself (a name
			 * under it, for *.DOMAIN) */
			char probe[300];
			size_t n = strlen(r->name);
			if (r->family || n == 0 || n > 253)
				abort();
			snprintf(probe, sizeof(probe), "%s%s", r->wild ? "x." : "", r->name);
			int port = r->has_port ? r->port_lo : 80;
			if (!allow_match_name(&al, probe, port, r->proto ? r->proto : SK_TCP) ||
			    (r->wild && allow_name_covers(r->name, 1, r->name)))
				abort();
			continue;
		}
		if ((r->family != SKF_IPV4 && r->family != SKF_IPV6) ||
		    r->prefix > (r->family == SKF_IPV4 ? 32 : 128) ||
		    (r->has_port && r->port_lo > r->port_hi))
			abort();
		int port = r->has_port ? r->port_lo : 80;
		int proto = r->proto ? r->proto : SK_TCP;
		if (!allow_match(&al, r->family, r->addr, port, proto))
			abort();
	}
	allow_free(&al);
	free(text);
	return 0;
}
