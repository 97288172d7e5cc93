#!/bin/sh
test_description='report --allow: declared destinations, undeclared flags, malformed files'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/a.db"

test_line_count() {
	test "$(wc -l <"$3")" "$1" "$2" || {
		echo "test_line_count: $3 has $(wc -l <"$3") lines, want $1 $2" >&2
		return 1
	}
}

# The local ports of the rows flagged undeclared, in order.
undeclared() {
	python3 -c 'import json, sys
print(" ".join(str(r["local_port"]) for r in json.load(sys.stdin) if "undeclared" in r["flags"]))'
}

test_expect_success 'setup: connections to declared and undeclared destinations' '
	cat >desc <<-\EOF &&
	base 1700000000000
	container app started=0
	tcp out 192.0.2.1:40000 198.51.100.7:443 first=1s
	tcp out 192.0.2.1:40001 198.51.100.9:8443 first=2s
	udp out 192.0.2.1:40002 192.0.2.53:53 first=3s
	tcp out [2001:db8::1]:40003 [2001:db8:1::7]:443 first=4s
	tcp out [::ffff:192.0.2.1]:40004 [::ffff:203.0.113.5]:25 first=5s family=ipv6
	tcp out *:40005 203.0.113.9:* first=6s closed=6s state=7
	tcp in 192.0.2.1:80 198.51.100.99:50000 first=7s
	raw out 192.0.2.1:1 - first=8s
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc &&
	cat >allow <<-\EOF
	# what app may talk to
	198.51.100.0/24 443 tcp
	192.0.2.53 53 udp     # dns

	2001:db8:1::/48 443
	203.0.113.5 25
	203.0.113.9 443
	EOF
'

test_expect_success 'without --allow nothing is undeclared' '
	test_expect_code 1 "$CLAWSS" report --format json >out &&
	test "$(undeclared <out)" = ""
'

test_expect_success 'rows outside the list are flagged undeclared, the others are not' '
	test_expect_code 1 "$CLAWSS" report --allow allow --format json >out &&
	test "$(undeclared <out)" = "40001 40005"
'

test_expect_success 'an unknown remote port (RST) matches only a rule without a port' '
	echo "203.0.113.9 tcp" >>allow &&
	test_expect_code 1 "$CLAWSS" report --allow allow --format json >out &&
	test "$(undeclared <out)" = "40001"
'

test_expect_success 'the protocol of a rule must agree' '
	sed "s/53 udp/53 tcp/" allow >allow-tcp &&
	test_expect_code 1 "$CLAWSS" report --allow allow-tcp --format json >out &&
	test "$(undeclared <out)" = "40001 40002"
'

test_expect_success 'connections accepted from a listener and raw sockets are never undeclared' '
	: >empty &&
	test_expect_code 1 "$CLAWSS" report --allow empty --format json >out &&
	test "$(undeclared <out)" = "40000 40001 40002 40003 40004 40005" &&
	python3 -c "import json, sys
d = json.load(open(\"out\"))
assert [r[\"flags\"] for r in d if r[\"local_port\"] in (80, 1)] == [[], [\"raw\"]], d"
'

test_expect_success 'everything declared and nothing raw: exit 0' '
	printf "0.0.0.0/0\n::/0\n" >all &&
	test_expect_code 0 "$CLAWSS" report --allow all --until 2023-11-14T22:13:26.999Z >out &&
	test_line_count = 7 out &&
	! grep undeclared out
'

test_expect_success 'the table shows the flag' '
	test_expect_code 1 "$CLAWSS" report --allow allow >out &&
	grep "198.51.100.9:8443 .* undeclared\$" out
'

test_expect_success 'a malformed line is exit 2 naming the file and line, with nothing on stdout' '
	printf "# ok\n10.0.0.0/8\n10.0.0.0/33 443\n" >bad &&
	test_expect_code 2 "$CLAWSS" report --allow bad >out 2>err &&
	test_line_count = 1 err &&
	grep "^clawss: bad:3: bad prefix length" err &&
	test ! -s out &&
	printf "1.2.3.4 443 tcp\n\n1.2.3.4:443\n" >bad2 &&
	test_expect_code 2 "$CLAWSS" report --allow bad2 2>err &&
	grep "^clawss: bad2:3: not an IPv4 or IPv6 address: .1.2.3.4:443.\$" err &&
	printf "1.2.3.4 http\n" >bad3 &&
	test_expect_code 2 "$CLAWSS" report --allow bad3 2>err &&
	grep "^clawss: bad3:1: " err
'

test_expect_success 'a missing allow file is exit 2 saying so' '
	test_expect_code 2 "$CLAWSS" report --allow nowhere 2>err &&
	test_line_count = 1 err &&
	grep "^clawss: nowhere: No such file or directory\$" err
'

test_done
