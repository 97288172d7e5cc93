#!/bin/sh
test_description='export: JSON lines with report'"'"'s fields, cursor continuation (recorded data, no root)'
. /usr/share/sharness/sharness.sh

CLAWSS=${CLAWSS:-clawss}
. "$CLAWSS_SRC/tests/lib-need.sh"
need_file "$CLAWSS_HELPERS/mkdb" "make tests"
need python3 sqlite3
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/x.db"

# same.py REPORT_JSON EXPORT_JSONL: every line is one JSON object; stripped of the export's
# own fields (id, cursor, host, boot_id), the objects are exactly report's rows
cat >same.py <<\EOF
import json, socket, sys
report = json.load(open(sys.argv[1]))
lines = open(sys.argv[2], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "output does not end with a newline"
objs = [json.loads(l) for l in lines[:-1]]
extra = {"id", "cursor", "host", "boot_id"}
boot = open("/proc/sys/kernel/random/boot_id").read().strip()
for o in objs:
    assert extra <= set(o), o
    assert o["host"] == socket.gethostname(), o["host"]
    assert o["boot_id"] == boot, o["boot_id"]
    assert isinstance(o["id"], int) and isinstance(o["cursor"], int)
cursors = [o["cursor"] for o in objs]
assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors), "not in cursor order"
key = lambda d: json.dumps(d, sort_keys=True)
got = sorted(key({k: v for k, v in o.items() if k not in extra}) for o in objs)
want = sorted(key(r) for r in report)
if got != want:
    for g, w in zip(got, want):
        if g != w:
            print("export:", g, "\nreport:", w, file=sys.stderr)
            break
    print(len(got), "objects exported,", len(want), "report rows", file=sys.stderr)
    sys.exit(1)
EOF

# cursor ERR_FILE: the cursor export printed on stderr
cursor() {
	sed -n "s/^clawss: cursor //p" "$1"
}

test_expect_success 'setup: a burst, after-idle traffic, beacons, raw, packet, hostile names' '
	cat >desc <<-\EOF &&
	base 1700000000000
	container tool started=0
	tcp out 192.0.2.1:40000 192.0.2.2:80 first=1s last=2s closed=2s sent=120 recv=5000 pid=100 comm=fetch
	tcp out 192.0.2.1:40001 192.0.2.2:80 first=5s last=6s closed=6s sent=120 recv=5000 pid=100 comm=fetch
	udp out 192.0.2.1:40002 192.0.2.2:53 first=20s pid=100 comm=fetch
	tcp listen 0.0.0.0:8080 - first=1s state=10
	udp out 0.0.0.0:5000 0.0.0.0:0 first=300s state=7
	tcp out 192.0.2.1:40003 192.0.2.2:8443 first=120s last=130s closed=130s sent=20000 recv=10 pid=101 comm=covert
	tcp out 192.0.2.1:40010 203.0.113.50:443 first=200s
	tcp out 192.0.2.1:40011 203.0.113.50:443 first=260s
	tcp out 192.0.2.1:40012 203.0.113.50:443 first=320s
	tcp out 192.0.2.1:40013 203.0.113.50:443 first=380s
	tcp out 192.0.2.1:40014 203.0.113.50:443 first=440s
	tcp in 192.0.2.1:8080 192.0.2.2:51000 first=450s
	container ev\x1b]0;owned\x07il\x1b[2J\x0a{"x":1} started=0
	tcp out 192.0.2.1:40000 192.0.2.2:80 first=1s pid=7 comm=a\x1b[31m\x07"q",x\x0ay\xc2\x9bz\xff\\
	raw out 192.0.2.1:1 - first=2s pid=8 comm=ping family=ipv4
	packet out *:768 - first=3s pid=9 comm=sniff
	tcp out *:40001 192.0.2.2:* first=4s closed=4s state=7
	tcp out [2001:db8::1]:40002 [2001:db8::2]:443 first=5s family=ipv6
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc &&
	test_expect_code 1 "$CLAWSS" report --format json >report.json
'

test_expect_success 'export: one valid JSON object a line, the same rows and values as report' '
	"$CLAWSS" export --format jsonl >all.jsonl 2>err &&
	test "$(wc -l <all.jsonl)" = "$(python3 -c "import json; print(len(json.load(open(\"report.json\"))))")" &&
	python3 same.py report.json all.jsonl
'

test_expect_success 'the comparison can fail: a value changed, a row missing' '
	sed "1s/\"bytes_sent\": 120/\"bytes_sent\": 121/" all.jsonl >changed.jsonl &&
	! python3 same.py report.json changed.jsonl 2>/dev/null &&
	sed 1d all.jsonl >fewer.jsonl &&
	! python3 same.py report.json fewer.jsonl 2>/dev/null
'

test_expect_success 'after_idle and flags are report'"'"'s: covert after the burst, beacon, raw, packet' '
	python3 -c "
import json
rows = [json.loads(l) for l in open(\"all.jsonl\")]
covert = [r for r in rows if r[\"remote_port\"] == 8443]
assert len(covert) == 1 and covert[0][\"after_idle\"] and covert[0][\"flags\"] == []
assert [r[\"flags\"] for r in rows if r[\"remote_addr\"] == \"203.0.113.50\"] == [[\"beacon\"]] * 5
assert sorted(r[\"proto\"] for r in rows if r[\"flags\"] in ([\"raw\"], [\"packet\"])) == [\"packet\", \"raw\"]
"
'

test_expect_success '--idle changes after_idle as report --idle does' '
	test_expect_code 1 "$CLAWSS" report --idle 500s --format json >report500.json &&
	"$CLAWSS" export --idle 500s >all500.jsonl 2>/dev/null &&
	python3 same.py report500.json all500.jsonl &&
	! grep -q "\"after_idle\": true" all500.jsonl
'

test_expect_success 'hostile text stays inside its JSON string: one object per line, escaped' '
	grep -c "^{\"id\": " all.jsonl >n &&
	test "$(cat n)" = "$(wc -l <all.jsonl)" &&
	test $(tr -d "\n" <all.jsonl | tr -d -c "\000-\037\177" | wc -c) = 0 &&
	grep -qF "\"container\": \"ev\\u001b]0;owned\\u0007il\\u001b[2J\\n{\\\"x\\\":1}\"" all.jsonl
'

test_expect_success 'the cursor goes to stderr, at least the last line'"'"'s' '
	c=$(cursor err) &&
	test -n "$c" &&
	last=$(tail -n 1 all.jsonl | python3 -c "import json, sys; print(json.load(sys.stdin)[\"cursor\"])") &&
	test "$c" -ge "$last" &&
	test "$(wc -l <err)" = 1 &&
	echo "$c" >c1
'

test_expect_success '--since that cursor: nothing, and the same cursor again' '
	"$CLAWSS" export --since $(cat c1) >out 2>err &&
	test_must_be_empty out &&
	test "$(cursor err)" = "$(cat c1)"
'

test_expect_success 'a row written after the cursor comes again, changed, with a higher cursor' '
	id=$(grep "\"remote_port\": 53," all.jsonl | python3 -c "import json, sys; print(json.load(sys.stdin)[\"id\"])") &&
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <<-\EOF &&
	base 1700000000000
	container tool started=0
	udp out 192.0.2.1:40002 192.0.2.2:53 first=20s last=60s closed=60s pid=100 comm=fetch cookie=3
	EOF
	"$CLAWSS" export --since $(cat c1) >out 2>err &&
	test "$(wc -l <out)" = 1 &&
	python3 -c "
import json
o = json.loads(open(\"out\").read())
assert o[\"id\"] == $id and o[\"closed\"] is True and o[\"last_seen\"].endswith(\":14:20.000Z\"), o
assert o[\"cursor\"] > $(cat c1)
" &&
	test "$(cursor err)" -gt "$(cat c1)" &&
	cursor err >c2
'

test_expect_success 'a listener or unconnected socket moves the cursor but is not exported' '
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <<-\EOF &&
	base 1700000000000
	container tool started=0
	tcp listen 0.0.0.0:9090 - first=500s state=10 cookie=1000
	EOF
	"$CLAWSS" export --since $(cat c2) >out 2>err &&
	test_must_be_empty out &&
	test "$(cursor err)" -gt "$(cat c2)"
'

test_expect_success '--cursor-file: everything first, then only what changed' '
	"$CLAWSS" export --cursor-file cur >one.jsonl 2>err &&
	test_must_be_empty err &&
	test "$(wc -l <one.jsonl)" = "$(wc -l <all.jsonl)" &&
	grep -qx "[0-9]\{20\}" cur &&
	test "$(wc -c <cur)" = 21 &&
	"$CLAWSS" export --cursor-file cur >two.jsonl &&
	test_must_be_empty two.jsonl &&
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <<-\EOF &&
	base 1700000000000
	container tool started=0
	tcp out 192.0.2.1:40099 192.0.2.2:443 first=600s cookie=1001
	EOF
	"$CLAWSS" export --cursor-file cur >three.jsonl &&
	test "$(wc -l <three.jsonl)" = 1 &&
	grep -q "\"local_port\": 40099" three.jsonl
'

test_expect_success '--since overrides the cursor file; the file still moves on' '
	"$CLAWSS" export --since 0 --cursor-file cur >four.jsonl &&
	test "$(wc -l <four.jsonl)" = "$(($(wc -l <all.jsonl) + 1))"
'

test_expect_success 'a failed write keeps the cursor file as it was' '
	echo 42 >cur &&
	test_expect_code 2 "$CLAWSS" export --cursor-file cur >/dev/full 2>err &&
	grep -q "^clawss: export: output: " err &&
	test "$(cat cur)" = 42
'

test_expect_success 'a cursor file that is not a cursor is an error, not a restart' '
	echo "yesterday" >bad.cur &&
	test_expect_code 2 "$CLAWSS" export --cursor-file bad.cur >out 2>err &&
	grep -q "not a cursor" err &&
	test_must_be_empty out &&
	test "$(cat bad.cur)" = yesterday
'

test_expect_success 'a cursor file that is a symbolic link is refused, where it points untouched' '
	echo 42 >target.cur &&
	ln -s target.cur link.cur &&
	test_expect_code 2 "$CLAWSS" export --cursor-file link.cur >out 2>err &&
	grep -q "^clawss: export: link.cur: is a symbolic link: refused" err &&
	test_must_be_empty out &&
	test "$(cat target.cur)" = 42 &&
	mkfifo fifo.cur &&
	test_expect_code 2 timeout 20 "$CLAWSS" export --cursor-file fifo.cur >out 2>err &&
	grep -q "not a regular file" err
'

test_expect_success 'a cursor ahead of the database: said on stderr, everything exported' '
	"$CLAWSS" export --since 9000000000000000000 >out 2>err &&
	grep -q "is ahead of this database" err &&
	test "$(wc -l <out)" = "$(($(wc -l <all.jsonl) + 1))"
'

test_expect_success 'a recreated database starts above the old cursors' '
	rm -f "$CLAWSS_DB" "$CLAWSS_DB-wal" "$CLAWSS_DB-shm" &&
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc &&
	"$CLAWSS" export --since $(cat c2) >out 2>err &&
	! grep -q "ahead" err &&
	test "$(wc -l <out)" = "$(wc -l <all.jsonl)"
'

test_expect_success 'usage errors are exit 2 with one line' '
	test_expect_code 2 "$CLAWSS" export --format json 2>err &&
	grep -q "unknown format (jsonl)" err &&
	test_expect_code 2 "$CLAWSS" export --since -1 2>err &&
	grep -q "not a cursor" err &&
	test_expect_code 2 "$CLAWSS" export --since 12abc 2>err &&
	test_expect_code 2 "$CLAWSS" export --idle 0 2>err &&
	test_expect_code 2 "$CLAWSS" export extra 2>err &&
	test_expect_code 2 "$CLAWSS" export --cursor-file 2>err &&
	test_expect_code 2 "$CLAWSS" --db "$PWD/none.db" export 2>err &&
	grep -q "no such database" err &&
	test ! -e none.db
'

test_done
