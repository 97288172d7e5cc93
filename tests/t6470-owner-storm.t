#!/bin/sh
test_description='owner lookup cannot be amplified: 100 000 fds and sockets whose owner cannot be found'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

HOSTILE="python3 $CLAWSS_SRC/tests/helpers/hostile.py"

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers
'

# Processes in tool hold 100 000 fds; a process outside holds 5 sockets of tool's. Each
# dump looks those 5 up again (they have no owner yet). Before: every dump swept every fd
# of every process (about 100 000 links) for them. Now: a miss is remembered (retried
# after 8, 16, ... rounds) and a round reads at most a budget of links. Counted by the
# watcher itself (-v), not timed.
test_expect_success 'a 100 000-fd owner storm: polls do not re-read every fd' '
	db_reset &&
	bg_ns $NS_TOOL $HOSTILE fds 100000 --for 300 >fds.out &&
	wait_for 120 grep -q "^holding 100000 fds" fds.out &&
	bg $HOSTILE orphans /run/netns/$NS_TOOL 5 192.0.2.2 --for 300 >orphans.out &&
	wait_for 30 grep -q "^holding 5 orphans" orphans.out &&
	"$CLAWSS" -v watch --interval 100ms --refresh 100ms --for 10s $NS_TOOL 2>watch.err &&
	cat watch.err &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port BETWEEN 7000 AND 7004 AND pid IS NULL")" = 5 &&
	dumps=$(sed -n "s/.* \([0-9]*\) dumps,.*/\1/p" watch.err) &&
	reads=$(sed -n "s/.* \([0-9]*\) owner fd links read.*/\1/p" watch.err) &&
	echo "dumps $dumps, fd links read $reads" &&
	test "$dumps" -ge 10 &&
	# every dump re-reading the 100 000 links would be dumps * 100000
	test $((reads * 4)) -lt $((dumps * 100000))
'

test_expect_success 'an owner that can be found still is' '
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 1 --for 60 --port 9002 &&
	HOLD=$BG &&
	wait_for 20 sh -c "ip netns exec $NS_TOOL ss -Htn state established | grep -q :9002" &&
	"$CLAWSS" sample $NS_TOOL &&
	test "$(sql "SELECT pid FROM sockets WHERE remote_port = 9002 AND closed_at IS NULL")" = $HOLD &&
	kill $HOLD
'

test_done
