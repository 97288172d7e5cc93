#!/bin/sh
test_description='flows across a restart: what one watcher wrote, the next does not write again'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"
need conntrack

# ct_count NS: the namespace's conntrack entries
ct_count() {
	in_ns "$1" cat /proc/sys/net/netfilter/nf_conntrack_count
}

# fin N PORT: N connections closed with FIN (the tool's side ends in TIME_WAIT)
fin() {
	in_ns $NS_TOOL python3 -c "
import socket, sys
for _ in range($1):
    c = socket.create_connection(('192.0.2.2', $2)); c.sendall(b'f' * 100); c.close()
print('fin-done')"
}

# sendto N PORT0: N datagrams from one unconnected UDP socket to ext, ports PORT0...
sendto() {
	in_ns $NS_TOOL python3 -c "
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range($1):
    u.sendto(b'u' * 50, ('192.0.2.2', $2 + i))
print('sendto-done')"
}

# watch_until_flows_end NAME: a watcher that runs until the tool namespace's conntrack
# table is empty (the flows before it have ended and their DESTROY events are sent to
# it), then stops (reading them)
watch_until_flows_end() {
	bg "$CLAWSS" -v watch --interval 100ms --refresh 200ms --name "$1" $NS_TOOL 2>"$1.err" &&
	wp=$BG &&
	wait_for 10 grep -q "watching $1" "$1.err" &&
	# an expired entry goes (and its DESTROY is sent) when the kernel's garbage
	# collector comes by, or at once when a listing meets it
	wait_for 40 sh -c "ip netns exec $NS_TOOL conntrack -L >/dev/null 2>&1;
		test \$(ip netns exec $NS_TOOL cat /proc/sys/net/netfilter/nf_conntrack_count) = 0" &&
	kill -TERM $wp && wait $wp || { echo "watch $1 did not end well ($?)"; cat "$1.err"; false; }
}

# rows: the rows to ext, per remote port
rows() {
	sql "SELECT remote_port, count(*) FROM sockets WHERE remote_addr = '192.0.2.2' GROUP BY 1"
}

test_expect_success 'setup: namespaces, servers, short conntrack timeouts in the tool namespace' '
	netns_setup && ext_servers &&
	# an RST-closed connection keeps its 10 s; TIME_WAIT and an unanswered datagram, 3 s
	in_ns $NS_TOOL sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=3 \
		net.netfilter.nf_conntrack_tcp_timeout_fin_wait=3 \
		net.netfilter.nf_conntrack_udp_timeout=5
'

test_expect_success 'the first watcher records 20 FIN-closed and 20 RST-closed connections' '
	db_reset &&
	bg "$CLAWSS" watch --interval 100ms --refresh 200ms --name again $NS_TOOL &&
	W1=$BG &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM containers\" 2>/dev/null)\" = 1" &&
	fin 20 9007 | grep -q fin-done &&
	in_ns $NS_TOOL $TRAFFIC rst 192.0.2.2 20 --port 9008 | grep -q rst-done &&
	wait_for 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_port IN (9007, 9008) AND closed_at IS NOT NULL\" 2>/dev/null)\" = 40" &&
	kill -TERM $W1 && wait $W1 &&
	sql "SELECT remote_port, count(*) FROM sockets WHERE remote_addr = '\''192.0.2.2'\'' GROUP BY 1" >first.out &&
	cat first.out
'

test_expect_success 'a second watcher, started before their flows end, adds no row for them' '
	watch_until_flows_end again &&
	rows >second.out &&
	test_cmp first.out second.out &&
	grep -q ", 40 recalled flows$" again.err
'

test_expect_success '... and the RST-closed ones have their bytes, from their flows' '
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9008 AND bytes_sent > 0 AND bytes_source = '\''flow'\''")" = 20
'

test_expect_success 'unconnected UDP: flow rows one watcher wrote are not written again by the next' '
	bg "$CLAWSS" -v watch --interval 100ms --refresh 200ms --name again $NS_TOOL 2>w3.err &&
	W3=$BG &&
	wait_for 10 grep -q "watching again" w3.err &&
	sendto 6 5100 | grep -q sendto-done &&
	wait_for 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE proto = '\''udp'\'' AND remote_port BETWEEN 5100 AND 5105\" 2>/dev/null)\" = 6" &&
	kill -TERM $W3 && wait $W3 &&
	rows >fourth.out &&
	watch_until_flows_end again &&
	rows >fifth.out &&
	test_cmp fourth.out fifth.out &&
	test "$(sql "SELECT count(*) FROM sockets WHERE proto = '\''udp'\'' AND remote_port BETWEEN 5100 AND 5105 AND closed_at IS NOT NULL")" = 6
'

test_done
