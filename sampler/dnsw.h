/* DNS in the watcher: one per watched namespace. Packets from its log group (dnslog.h)
 * are parsed as they arrive (dns.h) and queued; the tick writes them (store/dns.h) in
 * its own transaction: queries, the answers matched to them, and which name resolved to
 * which address. Bounded: the queue, the recent-query ring, and per container the rows
 * stored (past DNSW_QUERY_BUDGET queries or DNSW_NAME_BUDGET names, rows are counted,
 * not written, in a 'dns-budget' activity row). */
#ifndef CLAWSS_DNSW_H
#define CLAWSS_DNSW_H

#include <stdint.h>

#define DNSW_QUERY_BUDGET 20000
#define DNSW_NAME_BUDGET 5000
#define DNSW_QUEUE_MAX 4096     /* packets between two ticks; more are counted */

struct dnsw;
struct dnslog;
struct store_dns;

/* Takes ownership of log. NULL when out of memory (log closed). */
struct dnsw *dnsw_new(struct dnslog *log);
int dnsw_fd(const struct dnsw *w);
/* Reads and parses what the log socket holds. Packets read (0 if none), -1 on a
 * socket error (errno); *lost when the kernel or the queue dropped some. */
int dnsw_read(struct dnsw *w, int *lost);
int dnsw_pending(const struct dnsw *w);
/* Writes the queue, inside the caller's transaction. Seeds the budget counts on the
 * first call. 0, or -1 (store_dns_errmsg). */
int dnsw_flush(struct dnsw *w, struct store_dns *sd, int64_t container_id);
void dnsw_free(struct dnsw *w);

#endif
