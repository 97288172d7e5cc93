/* The nftables table clawss keeps in a watched namespace, `inet clawss`, made with
 * libnftnl and sent as one batch over a NETLINK_NETFILTER socket created inside that
 * namespace (so no later call needs setns). Nothing in it accepts, drops or changes a
 * packet: base chains with policy accept whose rules only match (`ct state new`, which
 * turns conntrack on in the namespace) or log (`log group N`, for the DNS work).
 * Library style: -1 and errno, never print. */
#ifndef CLAWSS_NFT_H
#define CLAWSS_NFT_H

#include <stdint.h>

#define NFT_TABLE_NAME "clawss"

/* What the table holds besides the conntrack rules; a second feature adds its rules by
 * setting a field here (0 = none). */
struct nft_opts {
	uint16_t dns_log_group;   /* `udp/tcp sport/dport 53 log group G` in both chains */
};

struct nft;

/* A handle in the calling thread's network namespace (call it while inside). */
struct nft *nft_open(const struct nft_opts *o);
void nft_close(struct nft *n);

/* Puts the table in place, atomically replacing whatever table of that name is there
 * (one left by a crashed run, or one the container changed), and remembers its
 * fingerprint for nft_check. */
int nft_install(struct nft *n);
/* 1 when the table is there as installed, 0 when it is missing or changed, -1 on error. */
int nft_check(struct nft *n);
/* Deletes the table; a table already gone is not an error. */
int nft_remove(struct nft *n);

/* A socket that hears every nftables change in the namespace (NFNLGRP_NFTABLES), ours
 * included: a cheap "look again". Created inside the namespace; -1 with errno. */
int nft_events_open(void);
/* Drains it without blocking: the number of messages read (0: none; messages the
 * kernel dropped count as one), -1 with errno. */
int nft_events_drain(int fd);

#endif
