#!/bin/sh
test_description='report: burst and idle, flags, exit status, formats, filters (recorded data, no root)'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/r.db"

# sharness 1.0 has no test_line_count
test_line_count() {
	test "$(wc -l <"$3")" "$1" "$2" || {
		echo "test_line_count: $3 has $(wc -l <"$3") lines, want $1 $2" >&2
		return 1
	}
}


# Times are milliseconds after base 1700000000000 = 2023-11-14T22:13:20Z.
test_expect_success 'setup: a tool container with a burst, an idle gap and late traffic' '
	cat >timeline <<-\EOF &&
	base 1700000000000
	container tool started=0 ended=600s
	tcp out 192.0.2.1:40000 192.0.2.2:80 first=1s last=2s closed=2s sent=120 recv=5000 pid=100 comm=fetch
	tcp out 192.0.2.1:40001 192.0.2.2:80 first=5s last=6s closed=6s sent=120 recv=5000 pid=100 comm=fetch
	udp out 192.0.2.1:40002 192.0.2.2:53 first=20s pid=100 comm=fetch
	tcp listen 0.0.0.0:8080 - first=1s state=10
	udp out 0.0.0.0:5000 0.0.0.0:0 first=300s state=7
	tcp out 192.0.2.1:40003 192.0.2.2:8443 first=120s last=130s closed=130s sent=20000 recv=10 pid=101 comm=covert
	udp out 192.0.2.1:40004 192.0.2.2:5353 first=200s pid=101 comm=covert
	container quiet started=0
	tcp out 192.0.2.1:41000 192.0.2.2:80 first=1s closed=2s state=7
	tcp out 192.0.2.1:41001 192.0.2.2:80 first=10s closed=11s state=7
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <timeline
'

test_expect_success '--since-idle flags exactly the connections opened after the burst, exit 1' '
	test_expect_code 1 "$CLAWSS" report --since-idle --format json >out &&
	jcheck "len(d) == 2" <out &&
	jcheck "[r[\"remote_port\"] for r in d] == [8443, 5353]" <out &&
	jcheck "all(r[\"after_idle\"] and r[\"flags\"] == [\"after-idle\"] for r in d)" <out &&
	jcheck "all(r[\"container\"] == \"tool\" for r in d)" <out
'

test_expect_success 'without --since-idle: every connection, after_idle still told, nothing flagged, exit 0' '
	"$CLAWSS" report --format json >out &&
	jcheck "len(d) == 7" <out &&
	jcheck "[r[\"after_idle\"] for r in d if r[\"container\"] == \"tool\"] == [False, False, False, True, True]" <out &&
	jcheck "all(r[\"flags\"] == [] for r in d)" <out
'

test_expect_success 'listeners and unconnected UDP sockets are not report rows' '
	"$CLAWSS" report --format json >out &&
	jcheck "not any(r[\"local_port\"] in (8080, 5000) for r in d)" <out
'

test_expect_success 'a gap of exactly --idle ends the burst; 1 ms more does not' '
	test_expect_code 1 "$CLAWSS" report --since-idle --idle 100s --format json >out &&
	jcheck "[r[\"remote_port\"] for r in d] == [8443, 5353]" <out &&
	test_expect_code 0 "$CLAWSS" report --since-idle --idle 100001ms --format json >out &&
	jcheck "d == []" <out
'

test_expect_success 'a container that never went idle has no after-idle connection' '
	test_expect_code 0 "$CLAWSS" report --since-idle --container quiet --format json >out &&
	jcheck "d == []" <out &&
	"$CLAWSS" report --container quiet --format json >out &&
	jcheck "len(d) == 2 and not any(r[\"after_idle\"] for r in d)" <out
'

test_expect_success 'one that stayed silent for --idle after start: everything is after idle' '
	cat >silent <<-\EOF &&
	base 1700000000000
	container late started=0
	tcp out 192.0.2.1:40000 192.0.2.2:80 first=45s
	tcp out 192.0.2.1:40001 192.0.2.2:80 first=46s
	EOF
	"$CLAWSS_HELPERS/mkdb" silent.db <silent &&
	test_expect_code 1 "$CLAWSS" --db silent.db report --since-idle --format json >out &&
	jcheck "len(d) == 2" <out
'

test_expect_success 'JSON has every field of SPEC.md with the right types' '
	"$CLAWSS" report --format json >out &&
	python3 -m json.tool <out >/dev/null &&
	jcheck "all(set(r) == {\"container\", \"proto\", \"family\", \"direction\", \"local_addr\", \"local_port\", \"remote_addr\", \"remote_port\", \"remote_name\", \"state\", \"first_seen\", \"last_seen\", \"closed\", \"bytes_sent\", \"bytes_received\", \"pid\", \"comm\", \"after_idle\", \"flags\"} for r in d)" <out &&
	jcheck "d[0] == {\"container\": \"tool\", \"proto\": \"tcp\", \"family\": \"ipv4\", \"direction\": \"out\", \"local_addr\": \"192.0.2.1\", \"local_port\": 40000, \"remote_addr\": \"192.0.2.2\", \"remote_port\": 80, \"remote_name\": None, \"state\": \"ESTABLISHED\", \"first_seen\": \"2023-11-14T22:13:21.000Z\", \"last_seen\": \"2023-11-14T22:13:22.000Z\", \"closed\": True, \"bytes_sent\": 120, \"bytes_received\": 5000, \"pid\": 100, \"comm\": \"fetch\", \"after_idle\": False, \"flags\": []}" <out &&
	jcheck "[r[\"bytes_sent\"] for r in d if r[\"proto\"] == \"udp\"] == [None, None]" <out &&
	jcheck "[r[\"state\"] for r in d if r[\"container\"] == \"quiet\"] == [\"CLOSE\", \"CLOSE\"]" <out
'

test_expect_success 'setup: hostile names, raw and packet sockets, an RST-closed socket, v4-mapped' '
	cat >hostile <<-\EOF &&
	base 1700000000000
	container ev\x1b]0;owned\x07il\x1b[2J started=0
	tcp out 192.0.2.1:40000 192.0.2.2:80 first=1s pid=7 comm=a\x1b[31m\x07"q",x\x0ay\xc2\x9bz\xff
	raw out 192.0.2.1:1 - first=2s pid=8 comm=ping family=ipv4
	packet out *:768 - first=3s pid=9 comm=sniff
	tcp out *:40001 192.0.2.2:* first=4s closed=4s state=7
	tcp out [::ffff:192.0.2.1]:40002 [::ffff:192.0.2.2]:443 first=5s family=ipv6
	EOF
	"$CLAWSS_HELPERS/mkdb" hostile.db <hostile
'

test_expect_success 'table output never carries a control byte from container text' '
	test_expect_code 1 "$CLAWSS" --db hostile.db report >out &&
	test $(tr -d -c "\033\007" <out | wc -c) = 0 &&
	test $(tr -d "\n" <out | tr -d -c "\000-\037\177" | wc -c) = 0 &&
	test $(tr -d -c "\200-\237\377" <out | wc -c) = 0 &&
	grep -F "ev\\x1b]0;owned\\x07il\\x1b[2J" out &&
	grep -F "a\\x1b[31m\\x07\"q\",x\\x0ay\\u009bz\\xff" out &&
	test_line_count = 6 out
'

test_expect_success 'the table is aligned: every row as wide as the header up to FLAGS' '
	"$CLAWSS" report >out &&
	head -n 1 out | grep "^CONTAINER  PROTO  DIR  LOCAL" &&
	col=$(head -n 1 out | awk "{ print index(\$0, \"FLAGS\") }") &&
	awk -v c=$col "NR > 1 && substr(\$0, c - 2, 2) != \"  \" { bad = 1 } END { exit bad }" out
'

test_expect_success 'json keeps hostile text exact and stays valid' '
	test_expect_code 1 "$CLAWSS" --db hostile.db report --format json >out &&
	python3 -m json.tool <out >/dev/null &&
	test $(tr -d "\n" <out | tr -d -c "\000-\037\177" | wc -c) = 0 &&
	jcheck "d[0][\"container\"] == \"ev\x1b]0;owned\x07il\x1b[2J\"" <out &&
	jcheck "d[0][\"comm\"] == \"a\x1b[31m\x07\\\"q\\\",x\ny\u009bz\ufffd\"" <out
'

test_expect_success 'csv: header row, RFC 4180 quoting, one record per line' '
	test_expect_code 1 "$CLAWSS" --db hostile.db report --format csv >out &&
	head -n 1 out | tr -d "\r" >head &&
	echo "container,proto,family,direction,local_addr,local_port,remote_addr,remote_port,remote_name,state,first_seen,last_seen,closed,bytes_sent,bytes_received,pid,comm,after_idle,flags" >want &&
	test_cmp want head &&
	test_line_count = 6 out &&
	test $(tr -d "\r\n" <out | tr -d -c "\000-\037\177" | wc -c) = 0 &&
	python3 -c "import csv, sys
rows = list(csv.reader(open(\"out\", newline=\"\")))
assert len(rows) == 6 and all(len(r) == 19 for r in rows), rows
assert rows[1][16] == \"a\\\\x1b[31m\\\\x07\\\"q\\\",x\\\\x0ay\\\\u009bz\\\\xff\", rows[1][16]
assert rows[1][0] == \"ev\\\\x1b]0;owned\\\\x07il\\\\x1b[2J\", rows[1][0]
assert rows[2][18] == \"raw\" and rows[3][18] == \"packet\"
assert rows[4][14] == \"\" and rows[4][7] == \"\"
" &&
	grep -F ",\"a\\x1b[31m\\x07\"\"q\"\",x\\x0ay\\u009bz\\xff\"," out
'

test_expect_success 'RAW and PACKET sockets are always flagged, even in the burst with --since-idle' '
	test_expect_code 1 "$CLAWSS" --db hostile.db report --since-idle --format json >out &&
	jcheck "[(r[\"proto\"], r[\"flags\"], r[\"after_idle\"]) for r in d] == [(\"raw\", [\"raw\"], False), (\"packet\", [\"packet\"], False)]" <out
'

test_expect_success 'an RST-closed socket has null remote port and bytes; v4-mapped prints as IPv4' '
	test_expect_code 1 "$CLAWSS" --db hostile.db report --format json >out &&
	jcheck "[(r[\"remote_addr\"], r[\"remote_port\"], r[\"local_addr\"], r[\"bytes_sent\"]) for r in d if r[\"local_port\"] == 40001] == [(\"192.0.2.2\", None, None, None)]" <out &&
	jcheck "[(r[\"family\"], r[\"remote_addr\"], r[\"local_addr\"]) for r in d if r[\"remote_port\"] == 443] == [(\"ipv6\", \"192.0.2.2\", \"192.0.2.1\")]" <out
'

test_expect_success '--container takes globs and can be repeated' '
	"$CLAWSS" report --container "t*" --format json >out &&
	jcheck "{r[\"container\"] for r in d} == {\"tool\"}" <out &&
	"$CLAWSS" report --container "q?iet" --container tool --format json >out &&
	jcheck "{r[\"container\"] for r in d} == {\"tool\", \"quiet\"}" <out &&
	"$CLAWSS" report --container nothing --format json >out 2>err &&
	jcheck "d == []" <out &&
	grep "^clawss: report: no recorded container matches .nothing.\$" err &&
	"$CLAWSS" report --container "t*" --container nothing --format json >out 2>err &&
	test_line_count = 1 err &&
	"$CLAWSS" -q report --container nothing >out 2>err &&
	test_must_be_empty err
'

test_expect_success '--since/--until filter on open time but do not move the burst' '
	"$CLAWSS" report --since 2023-11-14T22:15:00Z --format json >out &&
	jcheck "[r[\"remote_port\"] for r in d] == [8443, 5353]" <out &&
	"$CLAWSS" report --until 2023-11-14T22:13:25Z --format json >out &&
	jcheck "[r[\"local_port\"] for r in d] == [40000, 40001, 41000]" <out &&
	test_expect_code 1 "$CLAWSS" report --since-idle --since 2023-11-14T22:15:10Z --format json >out &&
	jcheck "[r[\"remote_port\"] for r in d] == [8443, 5353]" <out &&
	test_expect_code 0 "$CLAWSS" report --since-idle --until 2023-11-14T22:15:00Z >out &&
	test_line_count = 1 out &&
	test_expect_code 0 "$CLAWSS" report --since 1h --format json >out &&
	jcheck "d == []" <out
'

test_expect_success 'a missing database is exit 2 with one line, and is not created' '
	test_expect_code 2 "$CLAWSS" --db "$PWD/nope.db" report 2>err &&
	test_line_count = 1 err &&
	grep "^clawss: .*nope.db" err &&
	test ! -e nope.db
'

test_expect_success 'bad options are exit 2 with one line saying what and why' '
	for args in "--format xml" "--by nope" "--idle 5x" "--idle 0s" "--since yesterday" \
		    "--until 2023-13-01T00:00:00Z" "--bogus" "extra" "--allow" "--since 1h --until 2h"; do
		test_expect_code 2 "$CLAWSS" report $args >out 2>err &&
		test_line_count = 1 err &&
		grep "^clawss: report: " err &&
		test ! -s out || return 1
	done
'

test_expect_success 'report --help prints the synopsis and exits 0' '
	"$CLAWSS" report --help >out &&
	head -n 1 out | grep "^usage: clawss report \[--since-idle\]"
'

test_done
