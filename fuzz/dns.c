/* libFuzzer: the DNS path of the watcher (sampler/dns.h): an IP packet as NFLOG hands
 * it over, then the message in it; also the input as a bare message. Hostile packets
 * (truncated, pointer loops, huge counts) must not crash it, and what it returns must
 * stay within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sampler/dns.h"

static void check(const struct dns_msg *m)
{
	if (m->nanswers > DNS_MAX_ANSWERS || strlen(m->qname) >= DNS_NAME_MAX)
		abort();
	for (unsigned i = 0; i < m->nanswers; i++)
		if (m->an[i].family != 4 && m->an[i].family != 6)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_pkt p;
	struct dns_msg m;

	if (dns_parse(data, size, &m) == 0)
		check(&m);
	if (dns_packet(data, size, &p) == 0) {
		if (p.payload < data || p.payload + p.len > data + size)
			abort();
		if (dns_parse(p.payload, p.len, &m) == 0)
			check(&m);
	}
	return 0;
}
