/* The DNS packets of one network namespace, as its `inet clawss` nftables table logs
 * them to an nfnetlink_log group: queries leaving (output hook, destination port 53)
 * and answers arriving (input hook, source port 53), UDP and TCP. Logging changes no
 * packet and no verdict. Both netlink sockets are created inside the namespace (they
 * stay bound to it), so reading needs no setns. Library style: -1 and errno. */
#ifndef CLAWSS_DNSLOG_H
#define CLAWSS_DNSLOG_H

#include <stddef.h>
#include <stdint.h>

/* The nfnetlink_log group: groups are per network namespace, so one number serves all. */
#define DNSLOG_GROUP 5353
/* Bytes of each packet copied to clawss: a whole DNS message over UDP (EDNS0 allows up
 * to 4096) with its headers; a longer TCP segment is cut and then ignored. */
#define DNSLOG_COPY 4200

struct dnslog;

/* Enters the namespace behind nsfd, binds the log group (the namespace's `inet clawss`
 * table holds the rules that log to it: nft.h), and returns to home_fd. NULL with errno; *stranded when the return failed (fatal). */
struct dnslog *dnslog_open(int home_fd, int nsfd, int *stranded);
int dnslog_fd(const struct dnslog *d);

/* t_ms: the kernel's timestamp of the packet when it gave one, else now. */
typedef void (*dnslog_cb)(void *arg, const uint8_t *pkt, size_t len, int64_t t_ms);
/* Reads what is queued, at most a bounded number of datagrams per call (a flood cannot
 * hold the event loop). The number of packets, or -1 (errno; EAGAIN: nothing more).
 * *lost is set when the kernel dropped some (ENOBUFS). */
int dnslog_read(struct dnslog *d, dnslog_cb cb, void *arg, int *lost);
/* Closes the socket (which unbinds the group). */
void dnslog_close(struct dnslog *d);

#endif
