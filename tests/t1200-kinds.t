#!/bin/sh
test_description='RAW and PACKET sockets, byte counts, owners, direction, and ss as the oracle'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

py() {
	python3 -c "import json,sys; rows=json.load(open(sys.argv[1])); $2" "$1"
}

test_expect_success 'setup' '
	netns_setup && ext_servers
'

test_expect_success 'a raw ICMP socket and a packet socket are recorded and flagged' '
	bg_ns $NS_TOOL $TRAFFIC rawpkt --for 30 --comm raw-tool >raw.out &&
	RAW=$BG &&
	wait_for 10 grep -q holding raw.out &&
	"$CLAWSS" sample $NS_TOOL &&
	test_expect_code 1 "$CLAWSS" report --format json >raw.json &&
	test "$(py raw.json "print(sorted((r[\"proto\"], r[\"flags\"]) for r in rows))")" = "[('\''packet'\'', ['\''packet'\'']), ('\''raw'\'', ['\''raw'\''])]" &&
	test "$(py raw.json "print([r[\"local_port\"] for r in rows if r[\"proto\"] == \"raw\"])")" = "[1]" &&
	test "$(py raw.json "print(set(r[\"comm\"] for r in rows))")" = "{'\''raw-tool'\''}" &&
	test "$(py raw.json "print(set(r[\"pid\"] for r in rows))")" = "{$RAW}" &&
	kill $RAW
'

test_expect_success 'a 50 kB upload has bytes_sent >= 50000, its owner and direction out' '
	db_reset &&
	bg_ns $NS_TOOL $TRAFFIC upload 192.0.2.2 9004 50000 --for 30 --comm exfil >up.out &&
	UP=$BG &&
	wait_for 10 grep -q holding up.out &&
	wait_for 10 sh -c "\"$CLAWSS\" sample $NS_TOOL 2>/dev/null && test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT bytes_sent >= 50000 FROM sockets WHERE remote_port = 9004\")\" = 1" &&
	"$CLAWSS" report --format json >up.json &&
	test "$(py up.json "print([(r[\"bytes_sent\"] >= 50000, r[\"pid\"], r[\"comm\"], r[\"direction\"]) for r in rows if r[\"remote_port\"] == 9004])")" = "[(True, $UP, '\''exfil'\'', '\''out'\'')]" &&
	kill $UP
'

test_expect_success 'a connection accepted from a listener in the container is in' '
	db_reset &&
	bg_ns $NS_TOOL $TRAFFIC listen 192.0.2.1 7070 --for 30 >l.out &&
	L=$BG &&
	wait_for 10 grep -q listening l.out &&
	bg_ns $NS_EXT $TRAFFIC connect 192.0.2.1 7070 2 --for 30 >c.out &&
	C=$BG &&
	wait_for 10 grep -q holding c.out &&
	wait_for 10 sh -c "test \$(ip netns exec $NS_TOOL ss -tnH state established | wc -l) -ge 2" &&
	"$CLAWSS" sample $NS_TOOL &&
	"$CLAWSS" report --format json >in.json &&
	test "$(py in.json "print(sorted(r[\"direction\"] for r in rows if r[\"local_port\"] == 7070))")" = "['\''in'\'', '\''in'\'']" &&
	kill $L $C
'

# ss -tuanH prints: Netid State Recv-Q Send-Q Local Peer; both sides normalised to
# "proto local remote" with IPv6 brackets and ::ffff: removed
ss_set() {
	in_ns $NS_TOOL ss -tuanH | awk -v st="$1" '$2 == st {print $1, $5, (st == "LISTEN" ? "" : $6)}' |
		sed -e "s/\[//g; s/\]//g; s/::ffff://g; s/%[a-z0-9]*:/:/g; s/ \*:/ :::/; s/ *\$//" | sort
}

test_expect_success 'ss as the oracle: 100 held connections, established and listeners match' '
	db_reset &&
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 50 --for 60 --port 9005 >h.out &&
	H=$BG &&
	bg_ns $NS_TOOL $TRAFFIC listen 0.0.0.0 7071 --for 60 >l2.out &&
	L2=$BG &&
	bg_ns $NS_TOOL $TRAFFIC listen :: 7072 --for 60 >l3.out &&
	L3=$BG &&
	wait_for 10 grep -q holding h.out && wait_for 10 grep -q listening l2.out &&
	wait_for 10 grep -q listening l3.out &&
	"$CLAWSS" sample $NS_TOOL &&
	ss_set ESTAB >ss-est &&
	ss_set LISTEN >ss-listen &&
	sql "SELECT proto, local_addr || '\'':'\'' || local_port, remote_addr || '\'':'\'' || remote_port FROM sockets WHERE state = 1 AND closed_at IS NULL" | tr "|" " " | sort >clawss-est &&
	sql "SELECT proto, local_addr || '\'':'\'' || local_port FROM sockets WHERE state = 10 AND closed_at IS NULL" | tr "|" " " | sort >clawss-listen &&
	test $(wc -l <ss-est) -ge 100 &&
	test_cmp ss-est clawss-est &&
	test_cmp ss-listen clawss-listen &&
	kill $H $L2 $L3
'

test_done
