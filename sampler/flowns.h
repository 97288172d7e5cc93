/* The flow view's handles in one namespace, all made inside it (like netns.h's): the
 * `inet clawss` table (nft.h), the conntrack event socket (ct.h), a socket that hears
 * nftables changes (tamper), and a rtnetlink socket for the namespace's own addresses
 * (which side of a socketless flow is the container's). Library style: -1 and errno. */
#ifndef CLAWSS_FLOWNS_H
#define CLAWSS_FLOWNS_H

#include <stddef.h>
#include <stdint.h>
#include "ct.h"
#include "flow.h"
#include "nft.h"

struct flowns {
	struct nft *nft;
	struct ct *ct;
	int nft_events;           /* NFNLGRP_NFTABLES listener, or -1 */
	struct flows *flows;
	struct mnl_socket *rt;
	uint8_t (*addrs)[17];     /* local addresses: family byte, then 16 */
	size_t naddrs;
	int64_t addrs_at;         /* when they were read (ms, CLOCK_REALTIME) */
	int64_t ct_dump_at;       /* the last request for live flows' counters */
};

/* Call while inside the namespace. On failure, why says which step failed (the
 * namespace's flows are then off), and everything is closed. */
int flowns_open(struct flowns *fn, const struct nft_opts *o, char *why, size_t whylen);
/* remove_table: the namespace lives on and is no longer watched. */
void flowns_close(struct flowns *fn, int remove_table);
/* A flows_local_fn (arg: the flowns): reads the addresses again when addr is not among
 * them and they are older than a second. */
int flowns_is_local(void *arg, int family, const uint8_t *addr);

#endif
