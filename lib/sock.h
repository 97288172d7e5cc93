/* The socket record: what the sampler decodes from the kernel and the store keeps.
 * Plain data, no netlink types: sampler -> store -> report all speak this. */
#ifndef CLAWSS_SOCK_H
#define CLAWSS_SOCK_H

#include <stddef.h>
#include <stdint.h>

/* SK_ICMP: ICMP/ICMPv6 echo (ping sockets, echo flows); its "ports" are the echo
 * identifier (lport) and 0 (rport), as /proc/net/icmp and conntrack give them.
 * SK_UNIX: a unix socket whose peer lives outside the container's namespace. */
enum sk_proto { SK_TCP = 1, SK_UDP = 2, SK_RAW = 3, SK_PACKET = 4, SK_ICMP = 5, SK_UNIX = 6 };
#define SK_PROTO_MAX SK_UNIX
enum sk_family { SKF_UNIX = 1, SKF_IPV4 = 4, SKF_IPV6 = 6, SKF_PACKET = 17 };
enum sk_dir { SKD_OUT = 0, SKD_IN = 1, SKD_LISTEN = 2 };

/* Which fields the kernel actually told us. An RST-closed TCP socket seen only at its
 * destruction has lost its remote port, local address and byte counters (README,
 * Design notes: "Sockets seen only at their end"). */
#define SK_HAVE_LADDR  0x01u
#define SK_HAVE_RADDR  0x02u
#define SK_HAVE_LPORT  0x04u
#define SK_HAVE_RPORT  0x08u
#define SK_HAVE_BYTES  0x10u
#define SK_HAVE_INODE  0x20u
#define SK_HAVE_UID    0x40u

/* Kernel TCP state numbers (include/net/tcp_states.h); UDP uses ESTABLISHED for a
 * connected socket and CLOSE for an unconnected one, as the kernel does. */
enum sk_state {
	SKS_ESTABLISHED = 1, SKS_SYN_SENT, SKS_SYN_RECV, SKS_FIN_WAIT1, SKS_FIN_WAIT2,
	SKS_TIME_WAIT, SKS_CLOSE, SKS_CLOSE_WAIT, SKS_LAST_ACK, SKS_LISTEN, SKS_CLOSING,
	SKS_NEW_SYN_RECV,
};

/* Raw sockets from /proc (no cookie there) are keyed by inode in this space. */
#define SK_COOKIE_INODE (UINT64_C(1) << 63)
/* Rows that come from a conntrack flow with no socket are keyed in this space. */
#define SK_COOKIE_FLOW (UINT64_C(1) << 62)

struct sk {
	uint64_t cookie;
	uint8_t proto;          /* enum sk_proto */
	uint8_t family;         /* enum sk_family */
	uint8_t state;          /* enum sk_state */
	uint8_t have;           /* SK_HAVE_* */
	uint16_t lport;         /* RAW: IP protocol number; PACKET: ethertype (host order) */
	uint16_t rport;
	uint8_t laddr[16];      /* IPv4 in the first 4 bytes; v4-mapped IPv6 is folded to IPv4 */
	uint8_t raddr[16];
	uint32_t ifindex;
	uint32_t uid;
	uint32_t inode;
	uint64_t bytes_sent;
	uint64_t bytes_received;
};

/* True when the socket has a peer: the rows `report` lists besides RAW and PACKET. */
int sk_has_peer(const struct sk *s);
const char *sk_proto_name(int proto);
const char *sk_family_name(int family);
const char *sk_dir_name(int dir);
/* State name without TCP_: UDP CLOSE is UNCONN. Unknown numbers give "UNKNOWN". */
const char *sk_state_name(int proto, int state);
/* The enum of a name the functions above give; -1 for anything else (NULL too). */
int sk_proto_parse(const char *name);
int sk_family_parse(const char *name);
int sk_dir_parse(const char *name);
/* Address as text; v4 for IPv4 and v4-mapped IPv6. buf holds at least 46 bytes. */
const char *sk_addr_text(int family, const uint8_t *addr, char *buf, size_t len);
/* Normalise a v4-mapped IPv6 address in place to IPv4; returns the resulting family. */
int sk_addr_normalise(int family, uint8_t *addr);

#endif
