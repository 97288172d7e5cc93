#!/bin/sh
test_description='watch and sample record the sockets of real namespaces'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers
'

test_expect_success 'a bad target is exit 2 with one clear line, and creates no database' '
	test_expect_code 2 "$CLAWSS" --db "$PWD/none.db" watch no-such-thing-$$ 2>err &&
	test "$(lines err)" = 1 &&
	grep -q "^clawss: no such container or namespace: no-such-thing-$$\$" err &&
	test_expect_code 2 "$CLAWSS" --db "$PWD/none.db" sample pid:999999999 2>err &&
	grep -q "no such container or namespace: pid:999999999" err &&
	test_expect_code 2 "$CLAWSS" --db "$PWD/none.db" sample netns:/etc/passwd 2>err &&
	grep -q "not a network namespace" err &&
	test ! -e none.db
'

test_expect_success 'sample records held TCP and UDP connections, with bytes' '
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 3 --for 30 >hold.out &&
	HOLD=$BG &&
	wait_for 10 grep -q holding hold.out &&
	"$CLAWSS" sample $NS_TOOL &&
	test "$(sql "SELECT count(*) FROM sockets WHERE proto = '\''tcp'\'' AND remote_port = 9000 AND state = 1 AND closed_at IS NULL")" = 3 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE proto = '\''udp'\'' AND remote_port = 53 AND closed_at IS NULL")" = 3 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE proto = '\''tcp'\'' AND bytes_sent IS NOT NULL")" = 3 &&
	test "$(sql "SELECT name FROM containers")" = $NS_TOOL
'

test_expect_success 'a second sample writes nothing new and keeps one row per socket' '
	"$CLAWSS" sample $NS_TOOL &&
	test "$(sql "SELECT count(*) FROM sockets")" = 6 &&
	test "$(sql "SELECT count(*) FROM containers")" = 1
'

test_expect_success 'sample after the connections closed marks them closed' '
	kill $HOLD && wait_for 5 sh -c "! ip netns pids $NS_TOOL | grep -q ." &&
	"$CLAWSS" sample $NS_TOOL &&
	test "$(sql "SELECT count(*) FROM sockets WHERE closed_at IS NULL")" = 0
'

test_expect_success 'a pid:N target ends by itself when its process exits' '
	db_reset &&
	# the tool waits for its start signal until the watcher says it is watching
	bg_ns $NS_TOOL $TRAFFIC tool 192.0.2.2 --burst 2 --idle 1 --covert --linger 0.5 \
		--start-on go-tool >tool.out &&
	TOOL=$BG &&
	wait_for 20 grep -q ready tool.out &&
	PID=$(ip netns pids $NS_TOOL | head -n 1) &&
	test "$PID" = "$TOOL" &&
	bg timeout 60 "$CLAWSS" watch --interval 200ms pid:$PID 2>watch-pid.err &&
	W=$BG &&
	wait_for 30 grep -q "watching pid:$PID" watch-pid.err &&
	touch go-tool &&
	wait $W &&
	grep -q covert-done tool.out &&
	test "$(sql "SELECT ended IS NOT NULL FROM containers")" = 1 &&
	test "$(sql "SELECT name FROM containers")" = "pid:$PID"
'

test_expect_success 'the burst and the covert upload were recorded with bytes' '
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 80")" = 2 &&
	test "$(sql "SELECT bytes_sent >= 10000 FROM sockets WHERE remote_port = 8443")" = 1 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE closed_at IS NULL")" = 0
'

# sockets alone (--no-flows): t1300 has the same with flows, which fill in what RST loses
test_expect_success '500 connections closed with RST between two polls are all recorded' '
	db_reset &&
	bg "$CLAWSS" watch --no-flows --interval 5s $NS_TOOL &&
	WATCH=$BG &&
	wait_for 10 test -s "$CLAWSS_DB" &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM containers\")\" = 1" &&
	in_ns $NS_TOOL $TRAFFIC rst 192.0.2.2 500 --port 9001 >rst.out &&
	grep -q rst-done rst.out &&
	# all written before the watcher is stopped: the kernel sends destroy
	# notifications from a workqueue, possibly after close() returned, and a loaded
	# machine runs it late; SIGTERM cannot wait for what is not sent yet
	wait_for 60 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE proto = '\''tcp'\'' AND remote_addr = '\''192.0.2.2'\'' AND (remote_port IS NULL OR remote_port = 9001)\" 2>/dev/null)\" -ge 500" &&
	kill -TERM $WATCH && wait $WATCH &&
	test "$(sql "SELECT count(*) FROM sockets WHERE proto = '\''tcp'\'' AND remote_addr = '\''192.0.2.2'\'' AND (remote_port IS NULL OR remote_port = 9001)")" = 500
'

test_expect_success 'RST-closed sockets have an unknown remote port and no made-up bytes' '
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_addr = '\''192.0.2.2'\'' AND remote_port IS NULL AND bytes_sent IS NULL")" = 500
'

test_expect_success 'SIGTERM flushes and exits 0; the namespace is not marked ended' '
	db_reset &&
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 2 --for 30 --port 9002 >hold2.out &&
	HOLD=$BG &&
	wait_for 10 grep -q holding hold2.out &&
	bg "$CLAWSS" watch --interval 10s $NS_TOOL &&
	WATCH=$BG &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_port = 9002\" 2>/dev/null)\" = 2" &&
	kill -TERM $WATCH && wait $WATCH &&
	test "$(sql "SELECT ended IS NULL FROM containers")" = 1 &&
	kill $HOLD
'

test_expect_success 'a /run/netns target ends when its namespace is deleted' '
	db_reset &&
	ip netns add clawss-$$-gone &&
	bg "$CLAWSS" watch --interval 100ms clawss-$$-gone &&
	WATCH=$BG &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM containers\" 2>/dev/null)\" = 1" &&
	ip netns del clawss-$$-gone &&
	wait_for 10 sh -c "! kill -0 $WATCH" &&
	wait $WATCH &&
	test "$(sql "SELECT ended IS NOT NULL FROM containers")" = 1
'

test_expect_success '--for ends a watch of a live namespace with exit 0' '
	timeout 10 "$CLAWSS" watch --interval 100ms --for 300ms $NS_TOOL
'

test_expect_success 'many namespaces under a low soft open-file limit: clawss raises it' '
	db_reset &&
	names= &&
	for i in $(seq 20); do
		ip netns add clawss-$$-nf$i || return 1
		names="$names clawss-$$-nf$i"
	done &&
	(ulimit -Sn 64 && "$CLAWSS" sample $names) &&
	test "$(sql "SELECT count(*) FROM containers")" = 20
'

test_expect_success 'bad durations are exit 2' '
	for d in 0 -5s abc 5; do
		test_expect_code 2 "$CLAWSS" watch --interval $d $NS_TOOL 2>err || return 1
		grep -q "bad duration" err || return 1
	done
'

test_done
