#!/bin/sh
test_description='flows: sendto, ICMP echo, RST and refused connections are rows; the table comes back; --no-flows'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"
command -v nft >/dev/null || { skip_all="needs nft (the container's root, and an oracle)"; test_done; }

# jcheck EXPR: reads JSON on stdin; EXPR (Python, with d the document) must be true.
jcheck() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
ok = eval(sys.argv[1])
if not ok:
    print("jcheck failed:", sys.argv[1], file=sys.stderr)
    print(json.dumps(d, indent=1)[:4000], file=sys.stderr)
sys.exit(0 if ok else 1)' "$1"
}

has_table() {
	in_ns $NS_TOOL nft list table inet clawss >/dev/null 2>&1
}

# the container's traffic, from python inside the tool namespace (only to ext's addresses)
tool_py() {
	in_ns $NS_TOOL python3 -c "import socket, struct, time
$1"
}

sendto_two='u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"x" * 100, ("192.0.2.2", 5353)); u.sendto(b"y" * 50, ("192.0.2.3", 5454))'
# an ICMP echo ("ping") socket, as Docker lets any process open (ping_group_range)
echo3='s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
for i in range(3):
    s.sendto(struct.pack("!BBHHH", 8, 0, 0, 0, i) + b"p" * 56, ("192.0.2.2", 0)); time.sleep(0.05)'
# a connection that lives 50 ms and ends in RST, then one refused
rst_refused='c = socket.create_connection(("192.0.2.2", 9003)); c.send(b"z" * 20); time.sleep(0.05)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
try:
    socket.create_connection(("192.0.2.2", 7001))
except OSError:
    pass'

test_expect_success 'setup: namespaces, servers, a second address, short conntrack timeouts' '
	netns_setup && ext_servers &&
	ip -n $NS_EXT addr add 192.0.2.3/24 dev clw$$e &&
	in_ns $NS_TOOL sysctl -qw net.ipv4.ping_group_range="0 2147483647" \
		net.netfilter.nf_conntrack_udp_timeout=1 net.netfilter.nf_conntrack_icmp_timeout=1 \
		net.netfilter.nf_conntrack_tcp_timeout_close=1
'

test_expect_success 'watch adds the table, turns on counters in that namespace only' '
	db_reset &&
	HOST_ACCT=$(sysctl -n net.netfilter.nf_conntrack_acct) &&
	bg "$CLAWSS" -v watch --interval 200ms --refresh 1s $NS_TOOL 2>watch.err &&
	WATCH=$BG &&
	wait_for 10 has_table &&
	tool_py "socket.create_connection((\"192.0.2.2\", 80)).close()" &&
	in_ns $NS_TOOL nft list table inet clawss >table &&
	grep -q "ct state new" table &&
	! grep -Eq "drop|reject|queue|mark set|snat|dnat|accept$" table &&
	test "$(in_ns $NS_TOOL sysctl -n net.netfilter.nf_conntrack_acct)" = 1 &&
	test "$(in_ns $NS_TOOL sysctl -n net.netfilter.nf_conntrack_timestamp)" = 1 &&
	test "$(sysctl -n net.netfilter.nf_conntrack_acct)" = "$HOST_ACCT"
'

# the burst: the connection to :80 made in the test above, right after the attach
test_expect_success 'a burst, an idle gap, then sendto, ICMP echo, an RST-closed and a refused connection' '
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_port = 80\" 2>/dev/null)\" -ge 1" &&
	sleep 6 &&
	tool_py "$sendto_two" &&
	tool_py "$echo3" &&
	tool_py "$rst_refused" &&
	wait_for 60 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE bytes_sent IS NOT NULL AND remote_port IN (5353, 5454, 0, 9003, 7001)\")\" -ge 5"
'

test_expect_success 'unconnected UDP: one row per destination, with its remote address and port' '
	test_expect_code 1 "$CLAWSS" report --since-idle --idle 4s --format json >after.json &&
	jcheck "sorted((r[\"remote_addr\"], r[\"remote_port\"]) for r in d if r[\"proto\"] == \"udp\") == [(\"192.0.2.2\", 5353), (\"192.0.2.3\", 5454)]" <after.json &&
	jcheck "all(r[\"bytes_sent\"] and r[\"direction\"] == \"out\" for r in d if r[\"proto\"] == \"udp\")" <after.json
'

# the echo is a flow row with its destination and bytes; the ping socket that sent it
# unconnected (sendto) is a row of its own with its owner and no remote address: one
# socket may ping many hosts, so the two are not joined (README, Limits)
test_expect_success 'ICMP echo is a row with proto icmp and bytes' '
	jcheck "[(r[\"remote_addr\"], r[\"bytes_sent\"] >= 3 * 64) for r in d if r[\"proto\"] == \"icmp\" and r[\"remote_addr\"]] == [(\"192.0.2.2\", True)]" <after.json &&
	# the socket is a row only when a poll saw it alive (no destroy notification for
	# ping sockets); when it is, it has its owner
	jcheck "all(r[\"pid\"] is not None for r in d if r[\"proto\"] == \"icmp\" and not r[\"remote_addr\"])" <after.json
'

# the RST-closed one has tcp_info bytes (payload) if a poll saw it alive, else the flow's
test_expect_success 'the RST-closed connection has its remote port and bytes; the refused one too' '
	jcheck "sorted(r[\"remote_port\"] for r in d if r[\"proto\"] == \"tcp\") == [7001, 9003]" <after.json &&
	jcheck "[r[\"bytes_sent\"] >= 20 for r in d if r[\"remote_port\"] == 9003] == [True]" <after.json &&
	jcheck "[r[\"bytes_sent\"] > 0 and r[\"bytes_received\"] > 0 for r in d if r[\"remote_port\"] == 7001] == [True]" <after.json &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9003")" = 1
'

test_expect_success 'all of them are flagged after-idle; the burst is not' '
	jcheck "len([r for r in d if r[\"remote_addr\"]]) == 5 and all(\"after-idle\" in r[\"flags\"] for r in d)" <after.json &&
	"$CLAWSS" report --format json >all.json &&
	jcheck "[r[\"after_idle\"] for r in d if r[\"remote_port\"] == 80] == [False]" <all.json
'

test_expect_success 'the unconnected UDP socket itself stays unlisted' '
	jcheck "not any(r[\"remote_addr\"] in (None, \"0.0.0.0\") for r in d if r[\"proto\"] == \"udp\")" <all.json
'

test_expect_success '200 connections closed with RST between two polls: 200 rows, each with its remote port' '
	in_ns $NS_TOOL $TRAFFIC rst 192.0.2.2 200 --port 9001 >rst.out &&
	grep -q rst-done rst.out &&
	if ! wait_for 60 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_port = 9001 AND bytes_sent IS NOT NULL\")\" -ge 200"; then
		sql "SELECT count(*), remote_port, bytes_sent IS NULL, flow, seen_alive FROM sockets WHERE remote_addr = '\''192.0.2.2'\'' AND (remote_port IS NULL OR remote_port = 9001) GROUP BY 2, 3, 4, 5" >&2
		false
	fi &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_addr = '\''192.0.2.2'\'' AND (remote_port IS NULL OR remote_port = 9001)")" = 200
'

test_expect_success 'the table deleted by the container root comes back, with a tamper incident' '
	T0=$(sql "SELECT count(*) FROM activity WHERE kind = '\''tamper'\''") &&
	in_ns $NS_TOOL nft delete table inet clawss &&
	wait_for 10 has_table &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM activity WHERE kind = '\''tamper'\''\")\" -gt $T0" &&
	wait_for 5 grep -q "table inet clawss was deleted or changed" watch.err
'

test_expect_success 'a table changed by the container root is put back as it was' '
	T0=$(sql "SELECT count(*) FROM activity WHERE kind = '\''tamper'\''") &&
	in_ns $NS_TOOL nft add rule inet clawss output counter &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM activity WHERE kind = '\''tamper'\''\")\" -gt $T0" &&
	wait_for 10 sh -c "! ip netns exec $NS_TOOL nft list table inet clawss | grep -q counter"
'

test_expect_success 'a sendto after the tamper is still recorded' '
	tool_py "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b\"q\", (\"192.0.2.3\", 6000))" &&
	wait_for 20 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_addr = '\''192.0.2.3'\'' AND remote_port = 6000\")\" = 1"
'

# one unconnected ping socket, alive long enough for a poll, pings two hosts: each echo
# is a flow row of its own, and both carry the socket's owner
test_expect_success 'echo flows of a ping socket a poll saw have its owner' '
	tool_py "import os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
s.sendto(struct.pack(\"!BBHHH\", 8, 0, 0, 0, 1) + b\"o\" * 8, (\"192.0.2.2\", 0))
print(s.getsockname()[1], os.getpid(), flush=True)
time.sleep(1.5)
s.sendto(struct.pack(\"!BBHHH\", 8, 0, 0, 0, 2) + b\"o\" * 8, (\"192.0.2.3\", 0))
time.sleep(1.5)" >ping.out &&
	read ID PID <ping.out &&
	wait_for 20 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE proto = '\''icmp'\'' AND local_port = $ID AND remote_addr IN ('\''192.0.2.2'\'', '\''192.0.2.3'\'')\")\" = 2" &&
	test "$(sql "SELECT count(*) FROM sockets WHERE proto = '\''icmp'\'' AND local_port = $ID AND remote_addr IN ('\''192.0.2.2'\'', '\''192.0.2.3'\'') AND pid = $PID AND comm = '\''python3'\''")" = 2
'

test_expect_success 'when watch stops, the namespace lives on and the table is gone' '
	kill -TERM $WATCH && wait $WATCH &&
	! has_table
'

test_expect_success 'a table left by a crash is replaced on the next start, and removed at its end' '
	in_ns $NS_TOOL nft add table inet clawss &&
	in_ns $NS_TOOL nft add chain inet clawss stale &&
	timeout 20 "$CLAWSS" watch --interval 200ms --for 1s $NS_TOOL &&
	! has_table
'

test_expect_success '--no-flows: no table, and a sendto is no row (the old behaviour)' '
	db_reset &&
	bg "$CLAWSS" watch --no-flows --interval 200ms $NS_TOOL &&
	WATCH=$BG &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM containers\" 2>/dev/null)\" = 1" &&
	! has_table &&
	in_ns $NS_TOOL python3 -c "import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b\"x\", (\"192.0.2.2\", 5353)); time.sleep(1)" &&
	kill -TERM $WATCH && wait $WATCH &&
	! has_table &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 5353")" = 0 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE flow IS NOT NULL")" = 0
'

test_expect_success 'sample adds no table' '
	"$CLAWSS" sample $NS_TOOL &&
	! has_table
'

test_done
