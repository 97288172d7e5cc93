#!/bin/sh
test_description='export of real recordings: what sample and watch write comes out, and again when it changes'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

# jl FILE EXPR: python3 over the JSON lines of FILE (as rows); EXPR must be true
jl() {
	python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = eval(sys.argv[2])
if not ok:
    print("failed:", sys.argv[2], file=sys.stderr)
    for r in rows: print(r, file=sys.stderr)
sys.exit(0 if ok else 1)' "$1" "$2"
}
cursor() {
	sed -n "s/^clawss: cursor //p" "$1"
}

test_expect_success 'setup: namespaces, servers' '
	netns_setup && ext_servers && db_reset
'

test_expect_success 'sample, then export: every report row, valid JSON lines' '
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 2 --for 60 --port 9006 >hold.out &&
	HOLD=$BG &&
	wait_for 10 grep -q holding hold.out &&
	"$CLAWSS" sample $NS_TOOL &&
	"$CLAWSS" report --format json >report.json &&
	"$CLAWSS" export >one.jsonl 2>err &&
	python3 -c "import json; r = json.load(open(\"report.json\")); print(len(r))" >n &&
	test "$(wc -l <one.jsonl)" = "$(cat n)" &&
	jl one.jsonl "sorted((r[\"proto\"], r[\"remote_port\"], r[\"closed\"]) for r in rows) == [(\"tcp\", 9006, False)] * 2 + [(\"udp\", 53, False)] * 2" &&
	jl one.jsonl "all(r[\"container\"] == \"$NS_TOOL\" for r in rows)" &&
	cursor err >c1 && test -s c1
'

test_expect_success 'the owner as report gives it: pid and comm' '
	jl one.jsonl "all(r[\"comm\"] == \"python3\" and r[\"pid\"] == $HOLD for r in rows)"
'

test_expect_success 'nothing new: --since the cursor exports nothing' '
	"$CLAWSS" export --since $(cat c1) >out 2>err &&
	test_must_be_empty out &&
	test "$(cursor err)" = "$(cat c1)"
'

test_expect_success 'a later sample refreshes last_seen: the live rows come again, later' '
	sleep 0.1 &&
	"$CLAWSS" sample $NS_TOOL &&
	"$CLAWSS" export --since $(cat c1) >again.jsonl 2>err &&
	jl again.jsonl "len(rows) == 4 and all(not r[\"closed\"] for r in rows)" &&
	python3 -c "
import json
a = {json.loads(l)[\"id\"]: json.loads(l) for l in open(\"one.jsonl\")}
b = {json.loads(l)[\"id\"]: json.loads(l) for l in open(\"again.jsonl\")}
assert set(a) == set(b)
assert all(b[i][\"last_seen\"] > a[i][\"last_seen\"] and b[i][\"first_seen\"] == a[i][\"first_seen\"] for i in a)
" &&
	cursor err >c1
'

test_expect_success 'the connections close: the same rows come again, closed, cursors above' '
	kill $HOLD &&
	wait_for 5 sh -c "! ip netns pids $NS_TOOL | grep -q ." &&
	"$CLAWSS" sample $NS_TOOL &&
	"$CLAWSS" export --since $(cat c1) >two.jsonl 2>err &&
	jl two.jsonl "len(rows) == 4 and all(r[\"closed\"] for r in rows)" &&
	jl two.jsonl "all(r[\"cursor\"] > $(cat c1) for r in rows)" &&
	python3 -c "import json; print(sorted(json.loads(l)[\"id\"] for l in open(\"one.jsonl\")))" >ids1 &&
	python3 -c "import json; print(sorted(json.loads(l)[\"id\"] for l in open(\"two.jsonl\")))" >ids2 &&
	test_cmp ids1 ids2 &&
	cursor err >c2
'

test_expect_success 'connections that lived between two polls, seen by watch, are exported' '
	bg "$CLAWSS" watch --interval 5s $NS_TOOL 2>watch.err &&
	WATCH=$BG &&
	# the container row is there from the samples before: wait for the watch itself
	# (its destroy subscription is open once it says "watching")
	wait_for 10 grep -q "watching $NS_TOOL" watch.err &&
	in_ns $NS_TOOL $TRAFFIC rst 192.0.2.2 50 --port 9007 >rst.out &&
	grep -q rst-done rst.out &&
	# the kernel sends destroy notifications from a workqueue, possibly after close()
	# returned: wait for the rows before stopping the watcher
	wait_for 60 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_addr = '\''192.0.2.2'\'' AND (remote_port = 9007 OR remote_port IS NULL)\" 2>/dev/null)\" -ge 50" &&
	kill -TERM $WATCH && wait $WATCH &&
	"$CLAWSS" export --cursor-file cur.txt --since $(cat c2) >three.jsonl &&
	jl three.jsonl "len([r for r in rows if r[\"remote_addr\"] == \"192.0.2.2\" and r[\"remote_port\"] in (9007, None)]) == 50" &&
	jl three.jsonl "all(r[\"closed\"] and r[\"bytes_sent\"] is None for r in rows if r[\"remote_port\"] is None)"
'

test_expect_success 'a long connection moving bytes is exported again as its counts change' '
	bg_ns $NS_TOOL $TRAFFIC upload 192.0.2.2 9008 3000 --for 60 >up.out &&
	UP=$BG &&
	wait_for 10 grep -q . up.out &&
	"$CLAWSS" sample $NS_TOOL &&
	"$CLAWSS" export --cursor-file cur.txt >four.jsonl &&
	jl four.jsonl "[r[\"bytes_sent\"] for r in rows if r[\"remote_port\"] == 9008] == [3000]" &&
	kill $UP &&
	wait_for 5 sh -c "! ip netns pids $NS_TOOL | grep -q ." &&
	"$CLAWSS" sample $NS_TOOL &&
	"$CLAWSS" export --cursor-file cur.txt >five.jsonl &&
	jl five.jsonl "[(r[\"remote_port\"], r[\"closed\"]) for r in rows if r[\"remote_port\"] == 9008] == [(9008, True)]"
'

test_done
