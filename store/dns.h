/* The store's DNS writes (schema version 4: names, dns_queries), made by the watcher in
 * the transaction of its tick. Its own prepared statements on the store's connection.
 * Library style: -1 with a message in store_dns_errmsg(). */
#ifndef CLAWSS_STORE_DNS_H
#define CLAWSS_STORE_DNS_H

#include <stdint.h>

struct store;
struct store_dns;

struct store_dns *store_dns_new(struct store *st);   /* NULL: out of memory */
void store_dns_free(struct store_dns *d);
const char *store_dns_errmsg(const struct store_dns *d);

/* Rows a container has already (a restarted watch goes on counting its budget). */
int store_dns_count(struct store_dns *d, int64_t container_id, int64_t *queries,
		    int64_t *names);

struct store_dns_query {
	int64_t container_id;
	int64_t t;
	const char *resolver_addr;
	int resolver_port;
	const char *proto;         /* "udp", "tcp" */
	const char *qname;
	int qtype;
	int rcode;                 /* -1: no answer seen */
	const char *answers;       /* NULL: none */
	int64_t answered_at;       /* 0: none */
};

int store_dns_query(struct store_dns *d, const struct store_dns_query *q, int64_t *rowid);
/* The answer to a query stored earlier. */
int store_dns_answer(struct store_dns *d, int64_t rowid, int rcode, const char *answers,
		     int64_t t);
/* name resolved to addr at t. Extends the address's current episode when it is this
 * name's, else begins one (only when may_insert; *inserted says if it did). */
int store_dns_name(struct store_dns *d, int64_t container_id, const char *name,
		   const char *addr, int64_t t, uint32_t ttl, const char *resolver,
		   int may_insert, int *inserted);
/* The 'dns-budget' activity row of a container: created (*rowid 0) or updated. */
int store_dns_budget(struct store_dns *d, int64_t container_id, int64_t t, int64_t count,
		     const char *detail, int64_t *rowid);

#endif
