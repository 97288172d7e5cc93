#!/bin/sh
test_description='report flags beacons: regular connections to one destination'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/beacon.db"

# "addr:port" of each row flagged beacon, in order.
beacons() {
	python3 -c 'import json, sys
print(" ".join("%s:%s" % (r["remote_addr"], r["remote_port"]) for r in json.load(sys.stdin) if "beacon" in r["flags"]))'
}

test_expect_success 'setup: a beacon among irregular, too few, and too fast connections' '
	cat >desc <<-\EOF &&
	base 1700000000000
	container agent started=0
	tcp out 192.0.2.1:30000 198.51.100.7:443 first=1s
	tcp out 192.0.2.1:30001 198.51.100.8:443 first=3000ms
	tcp out 192.0.2.1:30002 198.51.100.8:443 first=3001ms
	tcp out 192.0.2.1:30003 198.51.100.8:443 first=3002ms
	tcp out 192.0.2.1:30004 198.51.100.8:443 first=3003ms
	tcp out 192.0.2.1:40000 203.0.113.50:443 first=100s
	udp out 192.0.2.1:40001 203.0.113.51:53 first=105s
	tcp out 192.0.2.1:40002 203.0.113.52:80 first=110s
	udp out 192.0.2.1:40003 203.0.113.51:53 first=130s
	tcp out 192.0.2.1:40004 203.0.113.50:443 first=160s
	tcp out 192.0.2.1:40005 203.0.113.52:80 first=170s
	udp out 192.0.2.1:40006 203.0.113.51:53 first=200s
	udp out 192.0.2.1:40007 203.0.113.51:53 first=215s
	tcp out 192.0.2.1:40008 203.0.113.50:443 first=220s
	tcp out 192.0.2.1:40009 203.0.113.52:80 first=230s
	tcp out 192.0.2.1:40010 203.0.113.50:443 first=280s
	tcp out 192.0.2.1:40011 203.0.113.50:443 first=340s
	tcp out 192.0.2.1:40012 203.0.113.53:8080 first=400s
	tcp out 192.0.2.1:40013 203.0.113.53:8080 first=460s
	tcp out 192.0.2.1:40014 203.0.113.53:8080 first=526s
	tcp out 192.0.2.1:40015 203.0.113.53:8080 first=586s
	tcp out 192.0.2.1:40016 203.0.113.54:8080 first=600s
	tcp out 192.0.2.1:40017 203.0.113.54:8080 first=660s
	tcp out 192.0.2.1:40018 203.0.113.54:8080 first=742001ms
	tcp out 192.0.2.1:40019 203.0.113.54:8080 first=802001ms
	container pair1 started=0
	tcp out 192.0.2.2:40000 203.0.113.60:443 first=0
	tcp out 192.0.2.2:40001 203.0.113.60:443 first=120s
	container pair2 started=0
	tcp out 192.0.2.3:40000 203.0.113.60:443 first=60s
	tcp out 192.0.2.3:40001 203.0.113.60:443 first=180s
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc
'

test_expect_success 'every connection of a regular group of 4 or more is flagged beacon, exit 1' '
	test_expect_code 1 "$CLAWSS" report --format json >out &&
	test "$(beacons <out)" = "203.0.113.50:443 203.0.113.50:443 203.0.113.50:443 203.0.113.50:443 203.0.113.50:443 203.0.113.53:8080 203.0.113.53:8080 203.0.113.53:8080 203.0.113.53:8080"
'

test_expect_success 'irregular, fewer than 4, faster than 1s, a gap over 35% (of only 3), or split over containers: no beacon' '
	test_expect_code 1 "$CLAWSS" report --format json >out &&
	for d in 203.0.113.51:53 203.0.113.52:80 198.51.100.8:443 203.0.113.54:8080 203.0.113.60:443; do
		! beacons <out | grep -F "$d" || return 1
	done
'

test_expect_success 'without beacons nothing is flagged: exit 0' '
	test_expect_code 0 "$CLAWSS" report --container "pair*" >out
'

test_expect_success 'the summary carries the flag' '
	test_expect_code 1 "$CLAWSS" report --by destination --format json >out &&
	python3 -c "import json
d = json.load(open(\"out\"))
b = [(g[\"remote_addr\"], g[\"attempts\"]) for g in d if \"beacon\" in g[\"flags\"]]
assert b == [(\"203.0.113.50\", 5), (\"203.0.113.53\", 4)], b" &&
	test_expect_code 1 "$CLAWSS" report --by destination >out &&
	grep "^203.0.113.50:443  *tcp  *5 .*beacon\$" out
'

test_expect_success 'with --since-idle both flags show' '
	test_expect_code 1 "$CLAWSS" report --since-idle --container agent --format json >out &&
	python3 -c "import json
d = json.load(open(\"out\"))
assert [r[\"flags\"] for r in d if r[\"remote_port\"] == 443 and r[\"remote_addr\"] == \"203.0.113.50\"] == [[\"after-idle\", \"beacon\"]] * 5, d"
'

test_done
