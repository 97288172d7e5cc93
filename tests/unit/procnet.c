/* /proc/net/raw parsing (no raw_diag here) and the sockstat change detector. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "../tap.h"
#include "sampler/procnet.h"

static struct sk got[4];
static int ngot;

static int collect(void *arg, const struct sk *s)
{
	(void)arg;
	if (ngot < 4)
		got[ngot++] = *s;
	return 0;
}

int main(void)
{
	char buf[64];
	const char *raw4 =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		"   1: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 123456 2 0000000000000000 0\n"
		"  17: 0100007F:0011 020200C0:0000 01 00000000:00000000 00:00000000 00000000  1000        0 654321 2 0000000000000000 0\n";
	const char *raw6 =
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		"  58: 00000000000000000000000001000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0\n";

	is_int(procnet_parse_raw(raw4, SKF_IPV4, collect, NULL), 0, "raw parses");
	is_int(ngot, 2, "two raw sockets");
	ok(got[0].proto == SK_RAW && got[0].lport == 1 && got[0].state == 7, "ICMP raw socket");
	is_int((long long)(got[0].cookie & ~SK_COOKIE_INODE), 123456, "keyed by inode");
	ok(got[0].cookie & SK_COOKIE_INODE, "in the inode cookie space");
	is_str(sk_addr_text(got[1].family, got[1].laddr, buf, sizeof(buf)), "127.0.0.1",
	       "local address byte order");
	is_str(sk_addr_text(got[1].family, got[1].raddr, buf, sizeof(buf)), "192.0.2.2",
	       "remote address byte order");
	is_int(got[1].uid, 1000, "uid");
	ngot = 0;
	is_int(procnet_parse_raw(raw6, SKF_IPV6, collect, NULL), 0, "raw6 parses");
	ok(ngot == 1 && got[0].lport == 58, "ICMPv6 raw socket");
	is_str(sk_addr_text(got[0].family, got[0].laddr, buf, sizeof(buf)), "::1", "IPv6 ::1");
	is_int(procnet_parse_raw("hdr\n  1: zz:1 00:0 07\n", SKF_IPV4, collect, NULL), -1,
	       "garbage refused");

	const char *s1 = "sockets: used 5\nTCP: inuse 1 orphan 0 tw 0 alloc 3 mem 1\nUDP: inuse 0 mem 0\nRAW: inuse 0\n";
	const char *s2 = "sockets: used 5\nTCP: inuse 1 orphan 7 tw 0 alloc 9 mem 99\nUDP: inuse 0 mem 4\nRAW: inuse 0\n";
	const char *s3 = "sockets: used 5\nTCP: inuse 2 orphan 0 tw 0 alloc 3 mem 1\nUDP: inuse 0 mem 0\nRAW: inuse 0\n";
	const char *s4 = "sockets: used 6\nTCP: inuse 1 orphan 0 tw 0 alloc 3 mem 1\nUDP: inuse 0 mem 0\nRAW: inuse 0\n";
	const char *v6a = "TCP6: inuse 0\nUDP6: inuse 0\nRAW6: inuse 0\n";
	const char *v6b = "TCP6: inuse 0\nUDP6: inuse 1\nRAW6: inuse 0\n";
	unsigned long long d1 = procnet_sockstat_digest(s1, v6a);
	ok(d1 == procnet_sockstat_digest(s2, v6a), "host-wide counters (orphan, alloc, mem) ignored");
	ok(d1 != procnet_sockstat_digest(s3, v6a), "TCP inuse moves the digest");
	ok(d1 != procnet_sockstat_digest(s4, v6a), "sockets used (PACKET too) moves the digest");
	ok(d1 != procnet_sockstat_digest(s1, v6b), "UDP6 inuse moves the digest");

	/* which dumps can show anything: a kind whose count is 0 has no socket */
	is_int(procnet_sockstat_kinds(s1, v6a), PROCNET_TCP4, "only TCP over IPv4");
	is_int(procnet_sockstat_kinds(s1, v6b), PROCNET_TCP4 | PROCNET_UDP6, "and UDP over IPv6");
	const char *tw = "sockets: used 0\nTCP: inuse 0 orphan 0 tw 2 alloc 0 mem 0\n"
			 "UDP: inuse 0 mem 0\nRAW: inuse 1\n";
	is_int(procnet_sockstat_kinds(tw, v6a), PROCNET_TCP4 | PROCNET_TCP6 | PROCNET_RAW4,
	       "TIME_WAIT (either family) keeps both TCP dumps");
	is_int(procnet_sockstat_kinds(s1, ""), PROCNET_TCP4 | PROCNET_TCP6 | PROCNET_UDP6 |
	       PROCNET_RAW6, "no sockstat6 (IPv6 off): IPv6 kinds are dumped (and fail softly)");
	is_int(procnet_sockstat_kinds("", ""), PROCNET_ALL, "nothing readable: every kind");
	is_int(procnet_sockstat_kinds("TCP: inuse x\n", v6a) & PROCNET_TCP4, PROCNET_TCP4,
	       "an unreadable count counts as present");

	/* a file far larger than the first buffer is read whole (issue 13: 700 RAW sockets
	 * overflowed a fixed 64 KiB buffer and all vanished) */
	char path[] = "/tmp/clawss-procnet-XXXXXX";
	int fd = mkstemp(path);
	size_t want;
	FILE *f = fdopen(dup(fd), "w");
	fputs("  sl  local_address rem_address   st\n", f);
	for (int i = 0; i < 5000; i++) {
		fprintf(f, "%5d: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 "
			"00000000     0        0 %d 2 0000000000000000 0\n", i, 100000 + i);
	}
	fclose(f);
	want = (size_t)lseek(fd, 0, SEEK_END);
	struct procnet_buf b = { 0 };
	ok(want > 4 * PROCNET_BUF_MIN, "the fixture is over 4 first buffers (%zu bytes)",
	   want);
	is_int(procnet_read_all(fd, &b, PROCNET_BUF_MAX), (long long)want, "read whole");
	is_int(b.len, (long long)want, "its length");
	is_int(b.p[b.len], 0, "NUL-terminated");
	int count = 0;
	for (const char *p = b.p; (p = strchr(p, '\n')); p++)
		count++;
	is_int(count, 5001, "every line");
	is_int(procnet_read_all(fd, &b, PROCNET_BUF_MAX), (long long)want, "reread from offset 0");
	struct procnet_buf small = { 0 };
	is_int(procnet_read_all(fd, &small, PROCNET_BUF_MIN * 2), -1, "over max: an error...");
	is_int(errno, EFBIG, "...EFBIG, never a shorter list");
	procnet_buf_free(&b);
	procnet_buf_free(&small);
	close(fd);
	unlink(path);
	return tap_done_testing();
}
