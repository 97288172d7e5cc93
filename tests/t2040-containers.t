#!/bin/sh
test_description='containers: one row per container with its burst end and counts'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/c.db"


test_expect_success 'setup: an ended engine container, one never idle, one with no connection' '
	cat >desc <<-\EOF &&
	base 1700000000000
	container web id=abcdef0123456789abcdef netns=4026531999 started=0 ended=300s
	tcp out 192.0.2.1:40000 198.51.100.7:443 first=1s
	raw out 192.0.2.1:1 - first=2s
	tcp out 192.0.2.1:40001 198.51.100.7:443 first=5s
	tcp out 192.0.2.1:40002 203.0.113.66:443 first=100s
	tcp listen 0.0.0.0:80 - first=1s state=10
	container busy started=10s
	tcp out 192.0.2.2:40000 198.51.100.7:443 first=11s
	tcp out 192.0.2.2:40001 198.51.100.7:443 first=20s
	tcp out 192.0.2.2:40002 198.51.100.7:443 first=40s
	container fresh first=50s last=100s
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc
'

test_expect_success 'json: the fields of SPEC.md, one element per container' '
	"$CLAWSS" containers --format json >out &&
	python3 -m json.tool <out >/dev/null &&
	jcheck "[set(c) for c in d] == [{\"name\", \"id\", \"netns\", \"started\", \"first_seen\", \"last_seen\", \"ended\", \"burst_end\", \"connections\", \"flagged\", \"dns_queries\", \"dns_tunnel\"}] * 3" <out &&
	jcheck "d[0] == {\"name\": \"web\", \"id\": \"abcdef0123456789abcdef\", \"netns\": 4026531999, \"started\": \"2023-11-14T22:13:20.000Z\", \"first_seen\": \"2023-11-14T22:13:20.000Z\", \"last_seen\": \"2023-11-14T22:15:00.000Z\", \"ended\": True, \"burst_end\": \"2023-11-14T22:13:55.000Z\", \"connections\": 4, \"flagged\": 2, \"dns_queries\": 0, \"dns_tunnel\": 0}" <out
'

test_expect_success 'never idle: burst_end null; no connection: an empty burst ends at start + idle' '
	"$CLAWSS" containers --format json >out &&
	jcheck "(d[1][\"name\"], d[1][\"id\"], d[1][\"started\"], d[1][\"burst_end\"], d[1][\"connections\"], d[1][\"flagged\"], d[1][\"ended\"]) == (\"busy\", None, \"2023-11-14T22:13:30.000Z\", None, 3, 0, False)" <out &&
	jcheck "(d[2][\"started\"], d[2][\"first_seen\"], d[2][\"burst_end\"], d[2][\"connections\"]) == (None, \"2023-11-14T22:14:10.000Z\", \"2023-11-14T22:14:40.000Z\", 0)" <out
'

test_expect_success '--idle moves the burst end and the flagged count' '
	"$CLAWSS" containers --idle 2m --format json >out &&
	jcheck "(d[0][\"burst_end\"], d[0][\"flagged\"]) == (\"2023-11-14T22:17:00.000Z\", 1)" <out &&
	jcheck "d[2][\"burst_end\"] is None" <out
'

test_expect_success 'the table: a header, one line per container, short engine id' '
	"$CLAWSS" containers >out &&
	test "$(wc -l <out)" = 4 &&
	head -n 1 out | grep "^NAME   ID  *NETNS  STARTED  *FIRST_SEEN  *LAST_SEEN  *ENDED  BURST_END  *CONNECTIONS  FLAGGED\$" &&
	grep "^web    abcdef012345  4026531999  " out &&
	grep "^busy   -  .*  false  -  *3  *0\$" out
'

test_expect_success 'errors are exit 2 with one line' '
	test_expect_code 2 "$CLAWSS" containers --format xml 2>err &&
	grep "^clawss: containers: --format .xml.: unknown format" err &&
	test_expect_code 2 "$CLAWSS" --db "$PWD/missing.db" containers 2>err &&
	grep "^clawss: .*missing.db" err &&
	test ! -e missing.db
'

test_done
