#!/bin/sh
test_description='flows: the wire as the oracle; every flow the container started is a row'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"
for c in tcpdump nft; do
	command -v $c >/dev/null || { skip_all="needs $c"; test_done; }
done

# A seeded random mix, from inside the tool namespace, to ext's two addresses only:
# TCP connections closed with FIN or RST (some after 50 ms), refused ones, unconnected
# UDP sendto to many ports, connected UDP, ICMP echo from ping sockets.
cat >mix.py <<'EOF'
import random, socket, struct, sys, time
rnd = random.Random(int(sys.argv[1]))
dsts = ["192.0.2.2", "192.0.2.3"]
for i in range(int(sys.argv[2])):
    kind = rnd.choice(["tcp", "rst", "refused", "sendto", "sendto", "udpconn", "ping"])
    dst = rnd.choice(dsts)
    try:
        if kind in ("tcp", "rst"):
            c = socket.create_connection((dst, rnd.randint(9000, 9009)), timeout=2)
            c.send(b"d" * rnd.randint(1, 500))
            if rnd.random() < 0.5:
                time.sleep(0.05)
            if kind == "rst":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
        elif kind == "refused":
            try:
                socket.create_connection((dst, rnd.randint(7001, 7100)), timeout=2)
            except OSError:
                pass
        elif kind == "sendto":
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for _ in range(rnd.randint(1, 3)):
                u.sendto(b"u" * rnd.randint(1, 200), (rnd.choice(dsts), rnd.randint(5000, 6000)))
            u.close()
        elif kind == "udpconn":
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.connect((dst, 53))
            u.send(b"q" * 20)
            time.sleep(0.02)
            u.close()
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
            s.sendto(struct.pack("!BBHHH", 8, 0, 0, 0, i) + b"p" * 32, (dst, 0))
            time.sleep(0.01)
            s.close()
    except OSError as e:
        print("mix:", kind, e, file=sys.stderr)
    time.sleep(rnd.random() * 0.03)
print("mix-done", flush=True)
EOF

# The flows the container started, as tcpdump saw them on its interface: a TCP SYN, a
# UDP datagram or an ICMP echo request from 192.0.2.1; as "remote_addr remote_port
# local_port" (ICMP: the echo identifier is the local port, the remote port 0).
cat >wire.py <<'EOF'
import re, sys
seen = set()
for line in sys.stdin:
    m = re.search(r"IP 192\.0\.2\.1\.(\d+) > (192\.0\.2\.\d+)\.(\d+): Flags \[S\],", line)
    if m:
        seen.add((m.group(2), int(m.group(3)), int(m.group(1)))); continue
    m = re.search(r"IP 192\.0\.2\.1\.(\d+) > (192\.0\.2\.\d+)\.(\d+): UDP", line)
    if m:
        seen.add((m.group(2), int(m.group(3)), int(m.group(1)))); continue
    m = re.search(r"IP 192\.0\.2\.1 > (192\.0\.2\.\d+): ICMP echo request, id (\d+)", line)
    if m:
        seen.add((m.group(1), 0, int(m.group(2))))
for t in sorted(seen):
    print("%s %d %d" % t)
EOF

test_expect_success 'setup: namespaces, servers, a second address' '
	netns_setup && ext_servers &&
	ip -n $NS_EXT addr add 192.0.2.3/24 dev clw$$e &&
	in_ns $NS_TOOL sysctl -qw net.ipv4.ping_group_range="0 2147483647"
'

test_expect_success 'a seeded random mix under watch, with tcpdump on the container interface' '
	bg "$CLAWSS" watch --interval 500ms $NS_TOOL 2>watch.err &&
	WATCH=$BG &&
	wait_for 10 in_ns $NS_TOOL nft list table inet clawss &&
	bg_ns $NS_TOOL tcpdump -n -i clw$$t -U -w wire.pcap "src host 192.0.2.1" 2>tcpdump.err &&
	DUMP=$BG &&
	wait_for 10 grep -q "listening on" tcpdump.err &&
	in_ns $NS_TOOL python3 mix.py ${CLAWSS_SEED:-1300} 150 >mix.out 2>mix.err &&
	grep -q mix-done mix.out
'

test_expect_success 'the wire saw the mix' '
	wait_for 10 sh -c "kill -INT $DUMP; ! kill -0 $DUMP" &&
	tcpdump -n -r wire.pcap 2>/dev/null | python3 wire.py >wire.txt &&
	test "$(lines wire.txt)" -ge 100
'

rows() {
	sqlite3 -cmd ".timeout 5000" -separator " " "$CLAWSS_DB" "SELECT DISTINCT remote_addr, remote_port, local_port FROM sockets WHERE remote_addr LIKE '192.0.2.%' AND direction = 'out'" | sort >rows.txt
	! sort wire.txt | comm -23 - rows.txt | grep -q .
}

test_expect_success 'every flow the container started on the wire is a row with the same remote address, remote port and local port' '
	if ! wait_for 60 rows; then
		echo "on the wire, not in the database:" >&2
		sort wire.txt | comm -23 - rows.txt >&2
		false
	fi
'

test_expect_success 'watch stops cleanly' '
	kill -TERM $WATCH && wait $WATCH
'

# A socket's destroy notification can come late (after its flow's row was written): it
# folds into that row (tests/unit/flow.c, late-ended), never a second row.
test_expect_success 'and no connection is two rows' '
	test "$(sql "SELECT count(*) FROM (SELECT remote_addr, remote_port, local_port, proto, count(*) AS n FROM sockets WHERE remote_addr LIKE '\''192.0.2.%'\'' AND proto IN ('\''tcp'\'', '\''icmp'\'') GROUP BY 1, 2, 3, 4 HAVING n > 1)")" = 0
'

test_done
