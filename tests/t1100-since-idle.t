#!/bin/sh
test_description='a real tool namespace: the burst is not flagged, what came after the idle gap is'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

test_expect_success 'setup' '
	netns_setup && ext_servers
'

# The watcher attaches first (its "watching" line), then the tool gets its start signal:
# a slow machine cannot make it miss the burst. The target is the namespace, whose start
# is the moment clawss first saw it, just before the burst.
test_expect_success 'watch a tool that bursts, idles 3s, then uploads and queries' '
	bg_ns $NS_TOOL $TRAFFIC tool 192.0.2.2 --burst 4 --idle 3 --covert --udp --linger 0.3 \
		--start-on go-tool >tool.out &&
	TOOL=$BG &&
	wait_for 30 grep -q ready tool.out &&
	bg "$CLAWSS" watch --interval 200ms $NS_TOOL 2>watch.err &&
	W=$BG &&
	wait_for 30 grep -q "watching $NS_TOOL" watch.err &&
	touch go-tool &&
	wait $TOOL &&
	grep -q covert-done tool.out &&
	wait_for 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE (remote_port = 8443 AND closed_at IS NOT NULL) OR remote_port = 53\" 2>/dev/null)\" = 2" &&
	kill -TERM $W && wait $W
'

test_expect_success 'report --since-idle --format json exits 1 and is valid JSON' '
	test_expect_code 1 "$CLAWSS" report --since-idle --idle 1500ms --format json >late.json &&
	python3 -m json.tool late.json >/dev/null
'

py() {
	python3 -c "import json,sys; rows=json.load(open(sys.argv[1])); $2" "$1"
}

test_expect_success 'exactly the covert TCP upload and the UDP query are after-idle' '
	test "$(py late.json "print(len(rows))")" = 2 &&
	test "$(py late.json "print(sorted((r[\"proto\"], r[\"remote_port\"]) for r in rows))")" = "[('\''tcp'\'', 8443), ('\''udp'\'', 53)]" &&
	test "$(py late.json "print(all(r[\"after_idle\"] and \"after-idle\" in r[\"flags\"] for r in rows))")" = True
'

test_expect_success 'the covert upload carries its bytes and direction out' '
	test "$(py late.json "print([r[\"bytes_sent\"] >= 10000 and r[\"direction\"] == \"out\" and r[\"closed\"] for r in rows if r[\"proto\"] == \"tcp\"])")" = "[True]"
'

test_expect_success "without --since-idle nothing is after-idle: exit 0, burst unflagged" '
	"$CLAWSS" report --idle 1500ms --format json >all.json &&
	test "$(py all.json "print(len([r for r in rows if r[\"remote_port\"] == 80]))")" = 4 &&
	test "$(py all.json "print([r[\"flags\"] for r in rows if r[\"remote_port\"] == 80])")" = "[[], [], [], []]"
'

test_expect_success 'with an idle threshold longer than the gap, nothing is after-idle' '
	"$CLAWSS" report --since-idle --idle 10s --format json >none.json &&
	test "$(py none.json "print(len(rows))")" = 0
'

test_expect_success 'report while watch writes (WAL): both run at once' '
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 2 --for 20 --port 9003 >hold.out &&
	wait_for 10 grep -q holding hold.out &&
	bg "$CLAWSS" watch --interval 100ms $NS_TOOL &&
	WATCH=$BG &&
	wait_for 10 sh -c "\"$CLAWSS\" report --format json | grep -q 9003" &&
	kill -TERM $WATCH && wait $WATCH
'

test_expect_success 'make demo: flags the upload and the query, not the burst; the upload has its owner' '
	CLAWSS_DB= sh "$CLAWSS_SRC/tools/demo" >demo.out 2>&1 &&
	sed -n "/--since-idle/,\$p" demo.out >demo.late &&
	grep -q "192.0.2.2:8443 .* after-idle" demo.late &&
	grep -q "192.0.2.2:53 .* after-idle" demo.late &&
	! grep -q "192.0.2.2:80 " demo.late &&
	grep "192.0.2.2:8443" demo.late | grep -q " python3 "
'

test_done
