#include <arpa/inet.h>
#include <string.h>
#include "sock.h"

int sk_has_peer(const struct sk *s)
{
	if (s->proto != SK_TCP && s->proto != SK_UDP)
		return 0;
	if (!(s->have & SK_HAVE_RADDR))
		return 0;
	static const uint8_t zero[16];
	return memcmp(s->raddr, zero, s->family == SKF_IPV4 ? 4 : 16) != 0;
}

const char *sk_proto_name(int proto)
{
	switch (proto) {
	case SK_TCP: return "tcp";
	case SK_UDP: return "udp";
	case SK_RAW: return "raw";
	case SK_PACKET: return "packet";
	case SK_ICMP: return "icmp";
	case SK_UNIX: return "unix";
	}
	return "unknown";
}

int sk_proto_parse(const char *name)
{
	static const char *const names[] = { NULL, "tcp", "udp", "raw", "packet", "icmp", "unix" };
	for (int i = 1; name && i <= SK_PROTO_MAX; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int sk_family_parse(const char *name)
{
	static const int fams[] = { SKF_IPV4, SKF_IPV6, SKF_PACKET, SKF_UNIX };
	for (size_t i = 0; name && i < sizeof(fams) / sizeof(fams[0]); i++)
		if (strcmp(name, sk_family_name(fams[i])) == 0)
			return fams[i];
	return -1;
}

int sk_dir_parse(const char *name)
{
	for (int d = SKD_OUT; name && d <= SKD_LISTEN; d++)
		if (strcmp(name, sk_dir_name(d)) == 0)
			return d;
	return -1;
}

const char *sk_family_name(int family)
{
	switch (family) {
	case SKF_IPV4: return "ipv4";
	case SKF_IPV6: return "ipv6";
	case SKF_PACKET: return "packet";
	case SKF_UNIX: return "unix";
	}
	return "unknown";
}

const char *sk_dir_name(int dir)
{
	switch (dir) {
	case SKD_OUT: return "out";
	case SKD_IN: return "in";
	case SKD_LISTEN: return "listen";
	}
	return "unknown";
}

const char *sk_state_name(int proto, int state)
{
	static const char *const tcp[] = {
		NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"NEW_SYN_RECV",
	};
	if (proto != SK_TCP && state == SKS_CLOSE)
		return "UNCONN";
	if (state > 0 && state < (int)(sizeof(tcp) / sizeof(tcp[0])))
		return tcp[state];
	return "UNKNOWN";
}

int sk_addr_normalise(int family, uint8_t *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (family == SKF_IPV6 && memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		return SKF_IPV4;
	}
	return family;
}

const char *sk_addr_text(int family, const uint8_t *addr, char *buf, size_t len)
{
	uint8_t a[16];
	memcpy(a, addr, 16);
	family = sk_addr_normalise(family, a);
	if (!inet_ntop(family == SKF_IPV4 ? AF_INET : AF_INET6, a, buf, len))
		buf[0] = '\0';
	return buf;
}
