#!/bin/sh
test_description='report --by destination and --by container: summaries per group'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/b.db"


test_expect_success 'setup: two containers sharing a destination, one late upload, one raw socket' '
	cat >desc <<-\EOF &&
	base 1700000000000
	container a started=0
	tcp out 192.0.2.1:40000 198.51.100.7:443 first=1s last=2s sent=100 recv=1000
	tcp out 192.0.2.1:40001 198.51.100.7:443 first=2s last=3s sent=200 recv=2000
	udp out 192.0.2.1:40002 192.0.2.53:53 first=3s
	tcp out 192.0.2.1:40003 203.0.113.66:4444 first=100s last=150s sent=50000 recv=10
	tcp out 192.0.2.1:40004 203.0.113.66:4444 first=160s last=170s sent=1000
	container b started=0
	tcp out 192.0.2.9:40000 198.51.100.7:443 first=5s last=6s sent=1 recv=2
	udp out 192.0.2.9:40001 198.51.100.7:443 first=6s
	raw out 192.0.2.9:1 - first=7s
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc
'

test_expect_success '--by destination: attempts, first/last seen, bytes, after-idle count per destination' '
	test_expect_code 1 "$CLAWSS" report --by destination --format json >out &&
	jcheck "[(g[\"remote_addr\"], g[\"remote_port\"], g[\"proto\"], g[\"attempts\"]) for g in d] == [(\"198.51.100.7\", 443, \"tcp\", 3), (\"192.0.2.53\", 53, \"udp\", 1), (\"198.51.100.7\", 443, \"udp\", 1), (None, None, \"raw\", 1), (\"203.0.113.66\", 4444, \"tcp\", 2)]" <out &&
	jcheck "d[0] == {\"remote_addr\": \"198.51.100.7\", \"remote_port\": 443, \"remote_name\": None, \"proto\": \"tcp\", \"attempts\": 3, \"first_seen\": \"2023-11-14T22:13:21.000Z\", \"last_seen\": \"2023-11-14T22:13:26.000Z\", \"bytes_sent\": 301, \"bytes_received\": 3002, \"after_idle\": 0, \"flags\": []}" <out &&
	jcheck "(d[4][\"bytes_sent\"], d[4][\"bytes_received\"], d[4][\"after_idle\"]) == (51000, 10, 2)" <out &&
	jcheck "d[1][\"bytes_sent\"] is None and d[3][\"flags\"] == [\"raw\"]" <out
'

test_expect_success '--by destination --since-idle: only late destinations and the raw socket' '
	test_expect_code 1 "$CLAWSS" report --by destination --since-idle --format json >out &&
	jcheck "[(g[\"proto\"], g[\"attempts\"], g[\"flags\"]) for g in d] == [(\"raw\", 1, [\"raw\"]), (\"tcp\", 2, [\"after-idle\"])]" <out
'

test_expect_success 'exit 0 when no group is flagged' '
	test_expect_code 0 "$CLAWSS" report --by destination --container a --format json >out &&
	jcheck "len(d) == 3 and all(g[\"flags\"] == [] for g in d)" <out
'

test_expect_success '--by container: one row per container' '
	test_expect_code 1 "$CLAWSS" report --by container --format json >out &&
	jcheck "d == [{\"container\": \"a\", \"attempts\": 5, \"first_seen\": \"2023-11-14T22:13:21.000Z\", \"last_seen\": \"2023-11-14T22:16:10.000Z\", \"bytes_sent\": 51300, \"bytes_received\": 3010, \"after_idle\": 2, \"flags\": []}, {\"container\": \"b\", \"attempts\": 3, \"first_seen\": \"2023-11-14T22:13:25.000Z\", \"last_seen\": \"2023-11-14T22:13:27.000Z\", \"bytes_sent\": 1, \"bytes_received\": 2, \"after_idle\": 0, \"flags\": [\"raw\"]}]" <out
'

test_expect_success 'table and csv of a summary' '
	test_expect_code 1 "$CLAWSS" report --by destination >out &&
	head -n 1 out | grep "^REMOTE  *PROTO  ATTEMPTS  FIRST_SEEN  *LAST_SEEN  *SENT  *RECV  AFTER_IDLE  FLAGS\$" &&
	grep "^203.0.113.66:4444  *tcp  *2 .* 51000 .* 2  -\$" out &&
	test_expect_code 1 "$CLAWSS" report --by destination --format csv >out &&
	head -n 1 out | tr -d "\r" >head &&
	echo "remote_addr,remote_port,remote_name,proto,attempts,first_seen,last_seen,bytes_sent,bytes_received,after_idle,flags" >want &&
	test_cmp want head &&
	test "$(wc -l <out)" = 6 &&
	test_expect_code 1 "$CLAWSS" report --by container --format csv >out &&
	head -n 1 out | tr -d "\r" >head &&
	echo "container,attempts,first_seen,last_seen,bytes_sent,bytes_received,after_idle,flags" >want &&
	test_cmp want head
'

test_done
