/* The words DNS gives numbers: query types and response codes, for the store's readers
 * (report --dns) and whoever else prints them. */
#ifndef CLAWSS_DNSNAME_H
#define CLAWSS_DNSNAME_H

/* "A", "AAAA", "TXT", ... or NULL for a type without a common name. */
const char *dns_type_name(unsigned qtype);
/* "NOERROR", "NXDOMAIN", ... or NULL. */
const char *dns_rcode_name(unsigned rcode);

#endif
