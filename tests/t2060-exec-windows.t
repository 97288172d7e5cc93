#!/bin/sh
test_description='outside-exec: the 2 s grace after an exec ends, and windows whose end never
came (Podman) lasting until the container ends (recorded data from mkdb activity rows)'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/x.db"

# flagged PORT...: the remote ports report --since-idle flags outside-exec, sorted
outside() {
	"$CLAWSS" report --since-idle --idle 2s --format json >out.json
	test $? -le 1 || return 1
	python3 -c 'import json
rows = json.load(open("out.json"))
print(" ".join(str(p) for p in sorted(r["remote_port"] for r in rows if "outside-exec" in r["flags"])))'
}

# A sandbox whose burst ends at 1 s (idle 2 s: burst over by 3 s), then two tool runs in
# execs: 10-12 s (closed: grace until 14 s) and 30 s with no end (Podman). Each remote
# port names the moment of its connection.
test_expect_success 'setup: a sandbox with a closed exec window and an open one' '
	cat >desc <<-\EOF &&
	base 1700000000000
	container sbx id=0123456789abcdef0123456789abcdef started=0
	tcp out 192.0.2.1:40000 198.51.100.7:1000 first=1s
	tcp out 192.0.2.1:40001 198.51.100.7:5000 first=5s
	activity exec 10s 12s
	tcp out 192.0.2.1:40002 198.51.100.7:11000 first=11s
	tcp out 192.0.2.1:40003 198.51.100.7:13900 first=13900
	tcp out 192.0.2.1:40004 198.51.100.7:14000 first=14000
	tcp out 192.0.2.1:40005 198.51.100.7:14001 first=14001
	tcp out 192.0.2.1:40006 198.51.100.7:20000 first=20s
	activity exec 30s
	tcp out 192.0.2.1:40007 198.51.100.7:31000 first=31s
	tcp out 192.0.2.1:40008 198.51.100.7:50000 first=500s
	udp out 192.0.2.1:40009 198.51.100.7:53 first=600s
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc &&
	test "$(sqlite3 "$CLAWSS_DB" "SELECT count(*) FROM activity WHERE kind = '\''exec'\'' AND \"end\" IS NULL")" = 1
'

test_expect_success 'before the first exec: start-up, never outside-exec' '
	outside >got &&
	! grep -qw 5000 got
'

test_expect_success 'inside a window and within 2 s after it: not flagged; 1 ms later: flagged' '
	outside >got &&
	! grep -qw 11000 got &&
	! grep -qw 13900 got &&
	! grep -qw 14000 got &&
	grep -qw 14001 got &&
	grep -qw 20000 got
'

test_expect_success 'a window with no end lasts until the container ends: nothing after 30 s is flagged' '
	outside >got &&
	echo "14001 20000" >want &&
	test_cmp want got
'

test_expect_success 'the control: the same container with the open window closed at 40 s' '
	sed "s/^activity exec 30s\$/activity exec 30s 40s/" desc >desc2 &&
	rm -f "$CLAWSS_DB" &&
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc2 &&
	outside >got &&
	echo "53 14001 20000 50000" >want &&
	test_cmp want got
'

test_done
