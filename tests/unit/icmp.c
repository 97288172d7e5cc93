/* Ping sockets from /proc/net/icmp{,6}: the parser (fixtures as this kernel prints them,
 * a huge table, over-long and garbage lines) and the complete read of a large file. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../tap.h"
#include "sampler/icmp.h"
#include "sampler/procnet.h"

static struct sk got[4];
static int ngot;

static int collect(void *arg, const struct sk *s)
{
	(void)arg;
	if (ngot < 4)
		got[ngot] = *s;
	ngot++;
	return 0;
}

static const char hdr4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n";
/* a line as ping_v4_format_sock prints it; %5d etc. padded */
#define LINE4(sl, loc, rem, st, uid, ino) \
	"   " sl ": " loc " " rem " " st " 00000000:00000340 00:00000000 00000000 " uid \
	"        0 " ino " 2 000000006463ab5c 0        \n"

static void fixtures(void)
{
	char buf[64];
	char text[2048];
	/* an unconnected socket after sendto (remote 0), and the same connected */
	snprintf(text, sizeof(text), "%s%s%s", hdr4,
		 LINE4("35", "00000000:474C", "00000000:0000", "07", "    0", "532894"),
		 LINE4("36", "0100007F:474D", "020200C0:0000", "01", " 1000", "532895"));
	ngot = 0;
	is_int(icmp_parse(text, SKF_IPV4, collect, NULL), 0, "icmp parses");
	is_int(ngot, 2, "two ping sockets");
	ok(got[0].proto == SK_ICMP && got[0].family == SKF_IPV4, "proto icmp, ipv4");
	is_int(got[0].lport, 0x474C, "local port is the echo identifier");
	is_int(got[0].rport, 0, "remote port 0");
	is_int(got[0].state, SKS_CLOSE, "unconnected: CLOSE (UNCONN)");
	ok(!(got[0].have & SK_HAVE_RADDR), "no remote address before connect (null, not 0.0.0.0)");
	ok(got[1].have & SK_HAVE_RADDR, "a remote address once connected");
	is_int((long long)(got[0].cookie & ~SK_COOKIE_INODE), 532894, "keyed by inode");
	ok(got[0].cookie & SK_COOKIE_INODE, "in the inode cookie space");
	ok((got[0].have & (SK_HAVE_INODE | SK_HAVE_UID)) == (SK_HAVE_INODE | SK_HAVE_UID),
	   "inode and uid known (the owner lookup needs the inode)");
	is_int(got[1].state, SKS_ESTABLISHED, "connected: ESTABLISHED");
	is_str(sk_addr_text(got[1].family, got[1].laddr, buf, sizeof(buf)), "127.0.0.1",
	       "local address byte order");
	is_str(sk_addr_text(got[1].family, got[1].raddr, buf, sizeof(buf)), "192.0.2.2",
	       "remote address byte order");
	is_int(got[1].uid, 1000, "uid");

	const char *v6 =
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		"  112: B80D0120000000000000000001000000:0070 B80D0120000000000000000002000000:0000 01 00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0\n";
	ngot = 0;
	is_int(icmp_parse(v6, SKF_IPV6, collect, NULL), 0, "icmp6 parses");
	ok(ngot == 1 && got[0].family == SKF_IPV6 && got[0].lport == 0x70, "ICMPv6 ping socket");
	is_str(sk_addr_text(got[0].family, got[0].laddr, buf, sizeof(buf)), "2001:db8::1",
	       "IPv6 local address");
	is_str(sk_addr_text(got[0].family, got[0].raddr, buf, sizeof(buf)), "2001:db8::2",
	       "IPv6 remote address");
	ngot = 0;
	is_int(icmp_parse(hdr4, SKF_IPV4, collect, NULL), 0, "a header alone: no socket");
	is_int(icmp_parse("", SKF_IPV4, collect, NULL), 0, "an empty file: no socket");
	is_int(ngot, 0, "nothing called back");
}

static void garbage(void)
{
	char text[4096];
	static const char *const bad[] = {
		"   1: zz:1 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n",
		"   1: 00000000:474C 00000000:0000 07\n",                 /* cut short */
		"   1: 0000000:474C 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n",
		"   1: 00000000:474C 00000000:0000 00 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n",
		"   1: 00000000:1474C 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n",
		"   1: 00000000:474C 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 99999999999 2 0 0\n",
		"\n",                                                   /* a blank line */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", hdr4, bad[i]);
		ngot = 0;
		ok(icmp_parse(text, SKF_IPV4, collect, NULL) == -1 && ngot == 0,
		   "garbage line %zu refused", i);
	}
	/* an IPv6 line handed to the IPv4 parser (wrong address length) */
	snprintf(text, sizeof(text), "%s   1: B80D0120000000000000000001000000:0070 B80D0120000000000000000002000000:0000 01 00000000:00000000 00:00000000 00000000 0 0 7 2 0 0\n", hdr4);
	is_int(icmp_parse(text, SKF_IPV4, collect, NULL), -1, "IPv6 text as IPv4 refused");
	/* a line longer than any buffer on the stack: parsed whole, or refused, never cut */
	size_t n = 100000;
	char *longl = malloc(n + sizeof(hdr4) + 200);
	strcpy(longl, hdr4);
	strcat(longl, "   1: 00000000:474C 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 42 2 0 ");
	size_t l = strlen(longl);
	memset(longl + l, '7', n);
	strcpy(longl + l + n, "\n");
	ngot = 0;
	ok(icmp_parse(longl, SKF_IPV4, collect, NULL) == 0 && ngot == 1 && got[0].inode == 42,
	   "a 100 kB line (a long trailing field) parses");
	free(longl);
	is_int(icmp_parse(hdr4, 99, collect, NULL), -1, "unknown family refused");
}

static int stop_cb(void *arg, const struct sk *s)
{
	(void)s;
	return ++*(int *)arg == 3 ? 7 : 0;
}

/* A table far larger than the 64 KiB a fixed buffer would hold, written to a file and
 * read back whole. */
static void huge(void)
{
	char path[] = "/tmp/clawss-icmp-XXXXXX";
	int fd = mkstemp(path);
	int nsock = 20000;
	size_t cap = (size_t)nsock * 160 + sizeof(hdr4);
	char *text = malloc(cap), *p = text;
	p += sprintf(p, "%s", hdr4);
	for (int i = 0; i < nsock; i++)
		p += sprintf(p, "%5d: 0100007F:%04X 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 %d 2 000000006463ab5c 0\n",
			     i % 64, i & 0xffff, 100000 + i);
	size_t len = (size_t)(p - text);
	ok(fd >= 0 && write(fd, text, len) == (ssize_t)len, "a %zu-byte table written", len);
	struct procnet_buf b = { 0 };
	long got_len = procnet_read_all(fd, &b, ICMP_READ_MAX);
	is_int(got_len, (long long)len, "read whole (not cut at 64 KiB)");
	ok(b.p && memcmp(b.p, text, len) == 0 && b.p[len] == '\0', "same bytes, NUL-terminated");
	ngot = 0;
	is_int(icmp_parse(b.p, SKF_IPV4, collect, NULL), 0, "parses");
	is_int(ngot, nsock, "every socket of the huge table");
	/* read again from the start: the fd is reread with pread, the buffer reused */
	is_int(procnet_read_all(fd, &b, ICMP_READ_MAX), (long long)len, "reread from offset 0");
	int calls = 0;
	is_int(icmp_parse(b.p, SKF_IPV4, stop_cb, &calls), 7, "a callback's stop is returned");
	is_int(calls, 3, "and stops the walk");
	procnet_buf_free(&b);
	free(text);
	close(fd);
	unlink(path);
	is_int(procnet_read_all(-1, &b, ICMP_READ_MAX), -1, "a bad fd fails");
	procnet_buf_free(&b);
}

int main(void)
{
	fixtures();
	garbage();
	huge();
	return tap_done_testing();
}
