#include <arpa/nameser.h>
#include "dnsname.h"

const char *dns_type_name(unsigned t)
{
	switch (t) {
	case ns_t_a: return "A";
	case ns_t_ns: return "NS";
	case ns_t_cname: return "CNAME";
	case ns_t_soa: return "SOA";
	case ns_t_null: return "NULL";
	case ns_t_ptr: return "PTR";
	case ns_t_mx: return "MX";
	case ns_t_txt: return "TXT";
	case ns_t_aaaa: return "AAAA";
	case ns_t_srv: return "SRV";
	case ns_t_naptr: return "NAPTR";
	case 64: return "SVCB";
	case 65: return "HTTPS";
	case ns_t_any: return "ANY";
	default: return NULL;
	}
}

const char *dns_rcode_name(unsigned r)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};
	return r < sizeof(names) / sizeof(names[0]) ? names[r] : NULL;
}
