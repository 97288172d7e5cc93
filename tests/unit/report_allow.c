/* The --allow file: parsing good and bad lines, and matching. */
#include <unistd.h>
#include "../tap.h"
#include "../../lib/sock.h"
#include "../../report/allow.h"

static char why[256];

static int parse(struct allowlist *al, const char *line)
{
	why[0] = '\0';
	return allow_parse_line(al, line, 1, why, sizeof(why));
}

static int match(const struct allowlist *al, const char *addr, int port, int proto)
{
	uint8_t a[16];
	int family;
	if (allow_addr_parse(addr, &family, a) < 0)
		return -1;
	return allow_match(al, family, a, port, proto);
}

/* A list of one rule. */
static int one(const char *rule, const char *addr, int port, int proto)
{
	struct allowlist al = { 0 };
	int rc = parse(&al, rule) == 0 && al.n == 1 ? match(&al, addr, port, proto) : -2;
	allow_free(&al);
	return rc;
}

static void test_good(void)
{
	static const char *const good[] = {
		"10.0.0.0/8", "198.51.100.7 443 tcp", "2001:db8::/32 1000-2000 udp", "::/0",
		"0.0.0.0/0", "::ffff:192.0.2.1", "192.0.2.1/32 53", "1.2.3.4 tcp", "1.2.3.4 UDP",
		"1.2.3.4 443 # trailing comment", "\t1.2.3.4\t443\ttcp\r", "2001:db8::1/128 0-65535",
		"10.1.2.3/8", "::ffff:10.0.0.0/104 80",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct allowlist al = { 0 };
		int rc = parse(&al, good[i]);
		ok(rc == 0 && al.n == 1, "parses '%s'%s%s", good[i], rc ? ": " : "", why);
		allow_free(&al);
	}
	static const char *const empty[] = { "", "   ", "# a comment", "   # indented", "\r" };
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		struct allowlist al = { 0 };
		ok(parse(&al, empty[i]) == 0 && al.n == 0, "blank or comment line %zu adds no rule", i);
		allow_free(&al);
	}
	struct allowlist al = { 0 };
	parse(&al, "2001:db8::/32 1000-2000 udp");
	ok(al.n == 1 && al.rules[0].family == SKF_IPV6 && al.rules[0].prefix == 32 &&
	   al.rules[0].has_port && al.rules[0].port_lo == 1000 && al.rules[0].port_hi == 2000 &&
	   al.rules[0].proto == SK_UDP, "fields of an IPv6 rule with range and proto");
	allow_free(&al);
	parse(&al, "::ffff:192.0.2.1");
	ok(al.n == 1 && al.rules[0].family == SKF_IPV4 && al.rules[0].prefix == 32,
	   "a v4-mapped IPv6 rule is folded to IPv4/32");
	allow_free(&al);
}

static void test_bad(void)
{
	static const struct { const char *line, *why; } bad[] = {
		{ "10.0.0.0/33", "prefix" }, { "2001:db8::/129", "prefix" },
		{ "1.2.3.4/", "prefix" }, { "1.2.3.4/-1", "prefix" }, { "1.2.3.4/ 8", "prefix" },
		{ "1.2.3.4:443", "address" }, { "host..example.com 443", "empty label" },
		{ "host_$x.example.com", "DNS name" }, { "*.", "DNS name" }, { "1.2.3.999", "address" },
		{ "1.2.3.4 70000", "port" }, { "1.2.3.4 2000-1000", "backwards" },
		{ "1.2.3.4 443 sctp", "tcp, udp or icmp" }, { "1.2.3.4 443 tcp extra", "unexpected" },
		{ "1.2.3.4 tcp 443", "unexpected" }, { "1.2.3.4 -5", "port" },
		{ "1.2.3.4 443-", "port" }, { "1.2.3.4 44x3", "port" }, { "256.1.1.1", "address" },
		{ "[2001:db8::1] 443", "address" }, { "fe80::1%eth0", "address" },
		{ "1.2.3.4 443 tcp udp", "unexpected" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct allowlist al = { 0 };
		int rc = parse(&al, bad[i].line);
		ok(rc < 0 && al.n == 0 && strstr(why, bad[i].why), "rejects '%s' (%s)",
		   bad[i].line, why);
		allow_free(&al);
	}
	struct allowlist al = { 0 };
	parse(&al, "1.2.3.4 \x1b[31m");
	ok(!strchr(why, '\x1b') && strstr(why, "\\x1b"), "the reason quotes a token safely: %s", why);
	allow_free(&al);
}

static void test_match(void)
{
	is_int(one("0.0.0.0/0", "203.0.113.9", 443, SK_TCP), 1, "/0 matches any IPv4");
	is_int(one("0.0.0.0/0", "2001:db8::1", 443, SK_TCP), 0, "IPv4 /0 does not match IPv6");
	is_int(one("::/0", "2001:db8::1", 53, SK_UDP), 1, "::/0 matches any IPv6");
	is_int(one("::/0", "10.0.0.1", 53, SK_UDP), 0, "::/0 does not match IPv4");
	is_int(one("192.0.2.7/32", "192.0.2.7", 1, SK_TCP), 1, "/32 matches its address");
	is_int(one("192.0.2.7/32", "192.0.2.8", 1, SK_TCP), 0, "/32 matches nothing else");
	is_int(one("2001:db8::7/128", "2001:db8::7", 1, SK_TCP), 1, "/128 matches its address");
	is_int(one("2001:db8::7/128", "2001:db8::8", 1, SK_TCP), 0, "/128 matches nothing else");
	is_int(one("172.16.0.0/12", "172.31.255.255", 1, SK_TCP), 1, "/12: last address inside");
	is_int(one("172.16.0.0/12", "172.32.0.0", 1, SK_TCP), 0, "/12: first address outside");
	is_int(one("172.16.0.0/12", "172.15.255.255", 1, SK_TCP), 0, "/12: address below");
	is_int(one("10.9.9.9/8", "10.200.0.1", 1, SK_TCP), 1, "host bits past the prefix are ignored");
	is_int(one("2001:db8:8000::/33", "2001:db8:ffff::1", 1, SK_TCP), 1, "IPv6 /33 inside");
	is_int(one("2001:db8:8000::/33", "2001:db8:7fff::1", 1, SK_TCP), 0, "IPv6 /33 outside");
	is_int(one("1.2.3.4 1000-2000", "1.2.3.4", 1000, SK_TCP), 1, "range: low end included");
	is_int(one("1.2.3.4 1000-2000", "1.2.3.4", 2000, SK_UDP), 1, "range: high end included");
	is_int(one("1.2.3.4 1000-2000", "1.2.3.4", 2001, SK_TCP), 0, "range: above");
	is_int(one("1.2.3.4 1000-2000", "1.2.3.4", 999, SK_TCP), 0, "range: below");
	is_int(one("1.2.3.4 443 tcp", "1.2.3.4", 443, SK_UDP), 0, "proto must agree");
	is_int(one("1.2.3.4 443", "1.2.3.4", 443, SK_UDP), 1, "no proto: either");
	is_int(one("1.2.3.4 udp", "1.2.3.4", 9, SK_UDP), 1, "proto without port");
	is_int(one("1.2.3.4 443", "1.2.3.4", -1, SK_TCP), 0, "unknown port: a rule with a port does not match");
	is_int(one("1.2.3.4", "1.2.3.4", -1, SK_TCP), 1, "unknown port: a rule without port matches");
	is_int(one("1.2.3.4 0-65535", "1.2.3.4", -1, SK_TCP), 0, "unknown port: not even the full range");
	is_int(one("::ffff:192.0.2.1", "192.0.2.1", 80, SK_TCP), 1, "v4-mapped rule matches IPv4");
	is_int(one("192.0.2.1", "::ffff:192.0.2.1", 80, SK_TCP), 1, "IPv4 rule matches a v4-mapped address");
	is_int(one("::ffff:10.0.0.0/104", "10.1.1.1", 80, SK_TCP), 1, "mapped /104 is IPv4 /8");
	is_int(one("::ffff:0:0/95", "10.1.1.1", 80, SK_TCP), 0, "a rule wider than the mapped block stays IPv6");
}

static void test_load(void)
{
	char path[] = "/tmp/clawss-allow-XXXXXX", err[512];
	int fd = mkstemp(path);
	struct allowlist al = { 0 };
	const char good[] = "# declared\n10.0.0.0/8\n\n198.51.100.7 443 tcp  # api\n2001:db8::/32\n";
	const char bad[] = "10.0.0.0/8\n# fine\n10.0.0.0/40\n1.1.1.1\n";

	ok(fd >= 0 && write(fd, good, sizeof(good) - 1) == (ssize_t)sizeof(good) - 1, "temp file");
	is_int(allow_load(&al, path, err, sizeof(err)), 0, "loads a good file");
	is_int(al.n, 3, "three rules");
	is_int(al.rules[1].line, 4, "rules remember their line");
	allow_free(&al);
	ok(ftruncate(fd, 0) == 0 && pwrite(fd, bad, sizeof(bad) - 1, 0) == (ssize_t)sizeof(bad) - 1,
	   "rewrite");
	is_int(allow_load(&al, path, err, sizeof(err)), -1, "a bad line fails the file");
	char want[600];
	snprintf(want, sizeof(want), "%s:3: ", path);
	ok(strncmp(err, want, strlen(want)) == 0, "error names file and line: %s", err);
	allow_free(&al);
	close(fd);
	unlink(path);
	is_int(allow_load(&al, path, err, sizeof(err)), -1, "a missing file fails");
	ok(strstr(err, path) && strstr(err, "No such file"), "and says so: %s", err);
	allow_free(&al);
}

int main(void)
{
	test_good();
	test_bad();
	test_match();
	test_load();
	return tap_done_testing();
}
