#!/bin/sh
test_description='a container cannot steer its own verdict (issue 13): spoofed direction, RAW flood, trickle, jittered beacon'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

py() {
	python3 -c "import json,sys; rows=json.load(open(sys.argv[1])); $2" "$1"
}
# db_is QUERY VALUE: for wait_for (which runs it afresh each time)
db_is() {
	test "$(sql "$1")" = "$2"
}

test_expect_success 'setup: tool and ext namespaces, a second ext host 192.0.2.3' '
	netns_setup && ext_servers &&
	ip -n $NS_EXT addr add 192.0.2.3/24 dev clw$$e &&
	bg_ns $NS_EXT $TRAFFIC serve 192.0.2.3 9002 &&
	wait_for 5 in_ns $NS_EXT python3 -c "import socket; socket.create_connection((\"192.0.2.3\", 9002)).close()"
'

# A listener on 127.0.0.1:P, seen by clawss first; then a connection out from
# 192.0.2.1:P (SO_REUSEADDR) to ext. It used to read "in", and "in" rows are never
# undeclared.
test_expect_success 'direction spoofing: the connection out from a listener port is out' '
	db_reset &&
	bg "$CLAWSS" watch --interval 200ms --for 60s netns:/run/netns/$NS_TOOL 2>watch.err &&
	W=$BG &&
	bg_ns $NS_TOOL $TRAFFIC spoof 192.0.2.1 192.0.2.2 9005 7777 --go go --for 60 >spoof.out &&
	S=$BG &&
	wait_for 20 grep -q listening spoof.out &&
	wait_for 20 db_is "SELECT count(*) FROM sockets WHERE direction = '\''listen'\'' AND local_port = 7777" 1 &&
	touch go &&
	wait_for 20 grep -q spoofed spoof.out &&
	wait_for 20 db_is "SELECT count(*) FROM sockets WHERE remote_port = 9005" 1 &&
	kill $W && wait $W &&
	kill $S &&
	echo "192.0.2.2 80 tcp" >allow &&
	test_expect_code 1 "$CLAWSS" report --allow allow --format json >spoof.json &&
	test "$(py spoof.json "print([(r[\"local_port\"], r[\"direction\"], \"undeclared\" in r[\"flags\"]) for r in rows if r[\"remote_port\"] == 9005])")" = "[(7777, '\''out'\'', True)]"
'

test_expect_success 'RAW flood: 2000 RAW sockets are all listed' '
	db_reset &&
	bg_ns $NS_TOOL $TRAFFIC raw 2000 --for 120 >raw.out &&
	R=$BG &&
	wait_for 30 grep -q "holding 2000" raw.out &&
	"$CLAWSS" sample netns:/run/netns/$NS_TOOL 2>sample.err &&
	test_expect_code 1 "$CLAWSS" report --format json >raw.json &&
	test "$(py raw.json "print(len([r for r in rows if r[\"proto\"] == \"raw\" and \"raw\" in r[\"flags\"]]))")" = 2000 &&
	test "$(sql "SELECT count(*) FROM activity WHERE kind = '\''dump-failed'\''")" = 0 &&
	kill $R
'

# One connection to ext:80 every 1.2 s for 9.6 s (never an idle gap of 2 s), and a
# covert upload to ext:8443 at 7 s. The burst would never end; --burst-max ends it.
TRICKLE="80@0 80@1.2 80@2.4 80@3.6 80@4.8 80@6 80@7.2 80@8.4 80@9.6 8443@7"

test_expect_success 'a trickle: watch a tool that never goes idle' '
	db_reset &&
	bg_ns $NS_TOOL $TRAFFIC seq 192.0.2.2 $TRICKLE >trickle.out &&
	T=$BG &&
	timeout 60 "$CLAWSS" watch --interval 200ms pid:$T &&
	grep -q seq-done trickle.out &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port IN (80, 8443)")" = 10
'

test_expect_success 'the covert connection inside the trickle is after-idle with --burst-max 5s' '
	test_expect_code 1 "$CLAWSS" report --since-idle --idle 2s --burst-max 5s --format json >late.json &&
	test "$(py late.json "print(sorted(set(r[\"remote_port\"] for r in rows if \"after-idle\" in r[\"flags\"])))")" = "[80, 8443]" &&
	test "$(py late.json "print(len([r for r in rows if r[\"remote_port\"] == 8443]))")" = 1 &&
	test "$(py late.json "print(len([r for r in rows if r[\"remote_port\"] == 80]) <= 5)")" = True
'

test_expect_success 'without --burst-max (10m) the trickle keeps the burst open: nothing after idle' '
	"$CLAWSS" report --since-idle --idle 2s --format json >open.json &&
	test "$(py open.json "print(len(rows))")" = 0 &&
	"$CLAWSS" containers --idle 2s --burst-max 5s --format json >c.json &&
	test "$(py c.json "print([r[\"burst_end\"] is not None for r in rows])")" = "[True]" &&
	"$CLAWSS" containers --idle 2s --format json >c.json &&
	test "$(py c.json "print([r[\"burst_end\"] for r in rows])")" = "[None]"
'

# A beacon to ext:9001 every 1.5 s with +-25% jitter (gaps 1.125 .. 1.875 s), 9
# connections; meanwhile an irregular sequence to the second host 192.0.2.3:9002.
BEACON="9001@0 9001@1.2 9001@3.0 9001@4.15 9001@6.0 9001@7.5 9001@8.8 9001@10.55 9001@11.75"
IRREGULAR="192.0.2.3:9002@0.5 192.0.2.3:9002@0.8 192.0.2.3:9002@4.8 192.0.2.3:9002@5.3 192.0.2.3:9002@7.8 192.0.2.3:9002@8.0 192.0.2.3:9002@11.0 192.0.2.3:9002@12.0"

test_expect_success 'a jittered beacon and an irregular sequence: watch them' '
	db_reset &&
	bg_ns $NS_TOOL $TRAFFIC seq 192.0.2.2 $BEACON $IRREGULAR >beacon.out &&
	B=$BG &&
	timeout 60 "$CLAWSS" watch --interval 200ms pid:$B &&
	grep -q seq-done beacon.out &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9001")" = 9 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9002")" = 8
'

test_expect_success 'the +-25% jittered beacon is flagged on every connection, the irregular one on none' '
	test_expect_code 1 "$CLAWSS" report --format json >beacon.json &&
	test "$(py beacon.json "print(sum(1 for r in rows if r[\"remote_port\"] == 9001 and \"beacon\" in r[\"flags\"]))")" = 9 &&
	test "$(py beacon.json "print(sum(1 for r in rows if r[\"remote_port\"] == 9002 and \"beacon\" in r[\"flags\"]))")" = 0
'

test_done
