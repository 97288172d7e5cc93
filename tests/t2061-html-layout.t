#!/bin/sh
test_description='report --format html from made-up databases: hostile names, days-long lives, exec windows, many destinations'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/layout.db"
CHECK="python3 $CLAWSS_SRC/tests/helpers/htmlcheck.py"

test_expect_success 'setup: a hostile container name, three days of a beacon, 60 destinations' '
	python3 - >desc <<-\EOF &&
	print("base 1700000000000")
	print("container <svg/onload=alert(1)>\\s</text><script>x</script> started=0 ended=3d")
	print("tcp out 192.0.2.1:30000 198.51.100.1:443 first=1s sent=2000000 comm=<b>bold</b>")
	t, p = 20 * 60000, 30001
	while t < 3 * 86400000:
	    print("tcp out 192.0.2.1:%d 203.0.113.9:8443 first=%d" % (p, t)); t += 3600000; p += 1
	for i in range(60):
	    print("tcp out 192.0.2.1:%d 203.0.113.%d:80 first=%d" % (p + i, 100 + i, 7200000 + i * 3600000))
	print("raw out - - first=2d")
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc &&
	sqlite3 "$CLAWSS_DB" "INSERT INTO activity (container_id, kind, start, end)
		SELECT id, '\''exec'\'', started + 3600000, started + 7200000 FROM containers"
'

test_expect_success 'hostile container and process names are escaped text' '
	test_expect_code 1 "$CLAWSS" report --format html >page.html &&
	$CHECK inert page.html &&
	$CHECK text page.html "<svg/onload=alert(1)> </text><script>x</script>" &&
	$CHECK text page.html "<b>bold</b>" &&
	! grep -q "<svg/onload\|<script\|<b>bold" page.html
'

test_expect_success 'a days-long life: ticks with dates, the beacon says its period' '
	grep -q ">Nov 15 00:00</text>" page.html &&
	grep -q ">12:00</text>" page.html &&
	grep -q "every ~1.0h</tspan>" page.html
'

test_expect_success 'exec windows are drawn, and named in the legend' '
	test "$(grep -c "<title>exec window</title>" page.html)" = 1 &&
	grep -q "</svg>exec window</li>" page.html
'

test_expect_success 'the legend names only the flags on the page' '
	grep -q "</svg>beacon</li>" page.html &&
	grep -q "</svg>raw</li>" page.html &&
	! grep -q "</svg>after-idle</li>" page.html &&
	! grep -q "</svg>undeclared</li>" page.html
'

test_expect_success 'at most 40 rows: flagged lanes keep theirs, the rest fold' '
	$CHECK lane page.html "203.0.113.9:8443 tcp" &&
	$CHECK lane page.html "raw socket" &&
	grep -q ">other destinations (24)<tspan> 24" page.html &&
	test "$(grep -c "text-anchor=\"end\"><title>" page.html)" = 39
'

test_expect_success 'a big transfer draws a big mark' '
	grep -q "r=\"9.0\"" page.html
'

test_expect_success '--since-idle: the page shows the same rows as json' '
	test_expect_code 1 "$CLAWSS" report --since-idle --format json >late.json &&
	test_expect_code 1 "$CLAWSS" report --since-idle --format html >late.html &&
	n=$(python3 -c "import json; print(len(json.load(open(\"late.json\"))))") &&
	grep -q ">[0-9]* of $n rows flagged<" late.html &&
	test "$(grep -c "^<tr" late.html)" = "$n"
'

test_expect_success 'containers refuses html' '
	test_expect_code 2 "$CLAWSS" containers --format html 2>err &&
	grep -q "unknown format" err
'

test_done
