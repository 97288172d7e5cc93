#!/bin/sh
test_description='which flags accepted (in) connections carry: clawss-report(8), issue 13'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/inbound.db"

test_expect_success 'setup: a server with regular health checks, a sandbox with exec windows' '
	cat >desc <<-\EOF &&
	base 1700000000000
	container web started=0
	tcp in 192.0.2.1:8080 198.51.100.30:50001 first=100s
	tcp in 192.0.2.1:8080 198.51.100.30:50002 first=110s
	tcp in 192.0.2.1:8080 198.51.100.30:50003 first=120s
	tcp in 192.0.2.1:8080 198.51.100.30:50004 first=130s
	tcp in 192.0.2.1:8080 198.51.100.30:50005 first=140s
	tcp out 192.0.2.1:40000 203.0.113.5:443 first=150s
	container sbx started=0
	activity exec start=10s end=12s
	tcp out 192.0.2.2:40000 192.0.2.9:443 first=11s
	tcp in 192.0.2.2:8080 198.51.100.20:50000 first=30s
	tcp in 127.0.0.1:8080 127.0.0.1:50001 first=31s
	tcp out 127.0.0.1:50001 127.0.0.1:8080 first=31s
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc &&
	echo "192.0.2.0/24" >allow
'

test_expect_success 'in rows are never undeclared nor beacons; out rows are' '
	test_expect_code 1 "$CLAWSS" report --container web --allow allow --format json >out &&
	jcheck "[(r[\"direction\"], r[\"flags\"]) for r in d] == [(\"in\", [])] * 5 + [(\"out\", [\"undeclared\"])]" <out
'

test_expect_success 'outside-exec: an in row from outside the container is flagged, its own loopback is judged by its out row' '
	test_expect_code 1 "$CLAWSS" report --container sbx --since-idle --idle 1h --format json >out &&
	jcheck "[(r[\"direction\"], r[\"remote_addr\"], r[\"flags\"]) for r in d] == [(\"in\", \"198.51.100.20\", [\"outside-exec\"]), (\"out\", \"127.0.0.1\", [\"outside-exec\"])]" <out
'

test_done
