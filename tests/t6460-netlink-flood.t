#!/bin/sh
test_description='a container root flooding clawss netlink sockets with forged messages: refused or dropped, and the other namespaces are still served'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

HOSTILE="python3 $CLAWSS_SRC/tests/helpers/hostile.py"

# db_has QUERY: the database answers QUERY with a non-zero, non-empty value
db_has() {
	v=$(sqlite3 "$CLAWSS_DB" "$1" 2>/dev/null) && test -n "$v" && test "$v" != 0
}

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers
'

# tool floods (4 processes, as its root may: CAP_NET_ADMIN in its namespace); ext is an
# honest neighbour watched by the same process. Before: the destroy socket's read loop
# dropped forged datagrams one by one until none was left, which a flood never allows,
# so no tick ran again and ext's connection was never recorded.
test_expect_success 'a forged-sender flood in one namespace: ignored, and the other is still served' '
	db_reset &&
	bg "$CLAWSS" -v watch --interval 200ms $NS_TOOL $NS_EXT 2>watch.err &&
	W=$BG &&
	wait_for 20 db_has "SELECT count(*) = 2 FROM containers" &&
	bg_ns $NS_TOOL $HOSTILE forge-flood 4 60 >flood.out &&
	FLOOD=$BG &&
	wait_for 20 grep -q flooding flood.out &&
	wait_for 20 grep -q "dropping netlink messages that the kernel did not send" watch.err &&
	bg_ns $NS_EXT $TRAFFIC hold 192.0.2.2 1 --for 60 --port 9004 &&
	HOLD=$BG &&
	wait_for 30 db_has "SELECT count(*) FROM sockets s JOIN containers c ON c.id = s.container_id
		WHERE c.name = '\''$NS_EXT'\'' AND s.remote_port = 9004" &&
	kill -0 $W &&
	kill $FLOOD $HOLD &&
	wait $FLOOD; wait $HOLD;
	kill -TERM $W && wait $W &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_addr = '\''203.0.113.66'\''")" = 0 &&
	grep "forged netlink messages dropped" watch.err &&
	grep -q " [1-9][0-9]* forged netlink messages dropped" watch.err
'

test_expect_success 'unicast from inside the namespace is refused by the kernel (sockets connected to it)' '
	db_reset &&
	bg "$CLAWSS" watch --interval 200ms $NS_TOOL &&
	W=$BG &&
	wait_for 20 db_has "SELECT count(*) FROM containers" &&
	in_ns $NS_TOOL $HOSTILE forge >forge.out &&
	cat forge.out &&
	test "$(grep -c "^refused [0-9]*: .*Connection refused" forge.out)" -ge 2 &&
	kill -TERM $W && wait $W
'

test_done
