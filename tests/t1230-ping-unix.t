#!/bin/sh
test_description='ping sockets and unix sockets to the host: rows with owners, after-idle and host-socket'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

SOCKX="python3 $CLAWSS_SRC/tests/helpers/sockx.py"

py() {
	python3 -c "import json,sys; rows=json.load(open(sys.argv[1])); $2" "$1"
}

test_expect_success 'setup: namespaces, ping sockets allowed in the tool namespace (as Docker does)' '
	netns_setup && ext_servers &&
	in_ns $NS_TOOL sysctl -qw net.ipv4.ping_group_range="0 2147483647"
'

# A host-side listener under the trash directory; processes in the namespace share the
# file system (ip netns exec), as a container with a bind-mounted socket does.
test_expect_success 'a burst, an idle gap, then pings and a unix connection to the host' '
	bg $SOCKX unix-listen "$PWD/host.sock" --for 60 >listen.out &&
	wait_for 10 grep -q listening listen.out &&
	# sockets only: this file is about ping and unix sockets as sockets; the echo
	# flows beside them are tested in t1300-flows.t
	bg "$CLAWSS" watch --no-flows --interval 200ms $NS_TOOL 2>watch.err &&
	WATCH=$BG &&
	wait_for 10 grep -q watching watch.err &&
	in_ns $NS_TOOL $TRAFFIC connect 192.0.2.2 80 3 --for 1 --comm burst >burst.out &&
	sleep 3 &&
	bg_ns $NS_TOOL $SOCKX ping 192.0.2.2 --for 60 --comm pinger4 >p4.out &&
	P4=$BG &&
	bg_ns $NS_TOOL $SOCKX ping 2001:db8::2 --for 60 --comm pinger6 >p6.out &&
	P6=$BG &&
	bg_ns $NS_TOOL $SOCKX ping 192.0.2.2 --sendto --for 60 --comm pingsend >ps.out &&
	PS=$BG &&
	bg_ns $NS_TOOL $SOCKX unix-connect "$PWD/host.sock" --for 60 --comm dockcli >uc.out &&
	UC=$BG &&
	bg_ns $NS_TOOL $SOCKX unix-inside "$PWD" --for 60 --comm inside >ui.out &&
	UI=$BG &&
	wait_for 10 grep -q pinged p4.out && wait_for 10 grep -q pinged p6.out &&
	wait_for 10 grep -q pinged ps.out && wait_for 10 grep -q holding uc.out &&
	wait_for 10 grep -q holding ui.out &&
	wait_for 20 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE (proto = '\''icmp'\'' OR proto = '\''unix'\'') AND comm IS NOT NULL\")\" -ge 4" &&
	kill -TERM $WATCH && wait $WATCH
'

test_expect_success 'report --since-idle: the pings and the unix socket, flagged; not the burst' '
	test_expect_code 1 "$CLAWSS" report --since-idle --idle 1500ms --format json >late.json &&
	test "$(py late.json "print(sorted(r[\"comm\"] for r in rows))")" = "['\''dockcli'\'', '\''pinger4'\'', '\''pinger6'\'', '\''pingsend'\'']" &&
	test "$(py late.json "print(all(r[\"after_idle\"] and \"after-idle\" in r[\"flags\"] for r in rows))")" = True
'

test_expect_success 'a connected ping socket: proto icmp, its remote address, identifier, owner' '
	ID4=$(awk "/pinged/ {print \$2}" p4.out) &&
	ID6=$(awk "/pinged/ {print \$2}" p6.out) &&
	test "$(py late.json "print([(r[\"proto\"], r[\"family\"], r[\"remote_addr\"], r[\"local_port\"], r[\"pid\"], r[\"state\"], r[\"direction\"]) for r in rows if r[\"comm\"] == \"pinger4\"])")" = "[('\''icmp'\'', '\''ipv4'\'', '\''192.0.2.2'\'', $ID4, $P4, '\''ESTABLISHED'\'', '\''out'\'')]" &&
	test "$(py late.json "print([(r[\"proto\"], r[\"family\"], r[\"remote_addr\"], r[\"local_port\"], r[\"pid\"]) for r in rows if r[\"comm\"] == \"pinger6\"])")" = "[('\''icmp'\'', '\''ipv6'\'', '\''2001:db8::2'\'', $ID6, $P6)]"
'

test_expect_success 'an unconnected ping socket (sendto) is a row with no remote address' '
	test "$(py late.json "print([(r[\"proto\"], r[\"remote_addr\"], r[\"state\"], r[\"pid\"]) for r in rows if r[\"comm\"] == \"pingsend\"])")" = "[('\''icmp'\'', None, '\''UNCONN'\'', $PS)]"
'

test_expect_success 'the unix socket to the host listener: host-socket, the path, its owner' '
	test "$(py late.json "print([(r[\"proto\"], r[\"family\"], r[\"remote_addr\"], r[\"local_port\"], r[\"remote_port\"], r[\"pid\"], sorted(r[\"flags\"])) for r in rows if r[\"proto\"] == \"unix\"])")" = "[('\''unix'\'', '\''unix'\'', '\''$PWD/host.sock'\'', None, None, $UC, ['\''after-idle'\'', '\''host-socket'\''])]"
'

test_expect_success 'sockets between processes of the namespace are not rows; the burst is not flagged' '
	test "$(sql "SELECT count(*) FROM sockets WHERE proto = '\''unix'\''")" = 1 &&
	test_expect_code 1 "$CLAWSS" report --idle 1500ms --format json >all.json &&
	test "$(py all.json "print([r[\"flags\"] for r in rows if r[\"comm\"] == \"burst\"])")" = "[[], [], []]" &&
	test "$(py all.json "print([r[\"flags\"] for r in rows if r[\"proto\"] == \"unix\"])")" = "[['\''host-socket'\'']]"
'

test_expect_success 'policy lists the echo destinations without a port; fed back, they are declared' '
	"$CLAWSS" policy --container $NS_TOOL >policy.txt &&
	grep -q "^192\.0\.2\.2 *icmp  #" policy.txt &&
	grep -q "^2001:db8::2 *icmp  #" policy.txt &&
	test_expect_code 1 "$CLAWSS" report --allow policy.txt --format json >allowed.json &&
	test "$(py allowed.json "print(sorted(r[\"comm\"] for r in rows if \"undeclared\" in r[\"flags\"]))")" = "[]" &&
	grep -v icmp policy.txt >noicmp.txt &&
	test_expect_code 1 "$CLAWSS" report --allow noicmp.txt --format json >noicmp.json &&
	test "$(py noicmp.json "print(sorted(r[\"comm\"] for r in rows if \"undeclared\" in r[\"flags\"]))")" = "['\''pinger4'\'', '\''pinger6'\'']"
'

test_expect_success 'a datagram socket connected to a host receiver is a host-socket row with its path' '
	db_reset &&
	bg $SOCKX unix-dgram "$PWD/log.sock" --for 30 >dg.out &&
	wait_for 10 grep -q listening dg.out &&
	bg_ns $NS_TOOL $SOCKX unix-connect "$PWD/log.sock" --dgram --for 30 --comm logger >dc.out &&
	DC=$BG &&
	wait_for 10 grep -q holding dc.out &&
	"$CLAWSS" sample $NS_TOOL &&
	test_expect_code 1 "$CLAWSS" report --format json >dg.json &&
	test "$(py dg.json "print([(r[\"remote_addr\"], r[\"pid\"], r[\"comm\"], r[\"flags\"]) for r in rows if r[\"comm\"] == \"logger\"])")" = "[('\''$PWD/log.sock'\'', $DC, '\''logger'\'', ['\''host-socket'\''])]"
'

test_expect_success 'a closed unix connection and ping socket are marked closed' '
	kill $DC $PS && wait_for 10 sh -c "! kill -0 $DC && ! kill -0 $PS" &&
	"$CLAWSS" sample $NS_TOOL &&
	test "$(sql "SELECT comm, closed_at IS NOT NULL FROM sockets WHERE comm IN ('\''logger'\'', '\''pingsend'\'', '\''dockcli'\'') ORDER BY comm")" = "dockcli|0
logger|1
pingsend|1"
'

# A ping socket shows in /proc/net/icmp only once its first send binds it, which moves
# no sockstat counter: the icmp files are part of the change detector, so it is seen
# long before the refresh period.
test_expect_success 'a ping socket that sends long after it was made is seen without a refresh' '
	db_reset &&
	NS_Q=clawss-$$-quiet &&
	ip netns add $NS_Q && ip -n $NS_Q link set lo up &&
	in_ns $NS_Q sysctl -qw net.ipv4.ping_group_range="0 2147483647" &&
	bg "$CLAWSS" watch --no-flows --interval 200ms --refresh 10m $NS_Q 2>watch2.err &&
	WATCH=$BG &&
	wait_for 10 grep -q watching watch2.err &&
	bg_ns $NS_Q $SOCKX ping 127.0.0.1 --delay 1.5 --for 60 --comm latesend >late.out &&
	wait_for 10 grep -q created late.out &&
	wait_for 10 grep -q pinged late.out &&
	wait_for 20 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE comm = '\''latesend'\''\")\" = 1" &&
	kill -TERM $WATCH && wait $WATCH
'

test_done
