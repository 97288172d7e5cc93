#!/bin/sh
test_description='clawss watch against real containers of a private dockerd'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-engine.sh"
engine_require docker

export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/clawss.db"
sql() {
	sqlite3 "$CLAWSS_DB" "$1"
}
db_reset() {
	rm -f "$CLAWSS_DB" "$CLAWSS_DB-wal" "$CLAWSS_DB-shm"
}
# first_poll_done NAME: the watcher's first dump of NAME is written (its httpd listener)
# out_rows_are NAME N: the watcher recorded N connections of NAME to its httpd
out_rows_are() {
	test "$(sqlite3 "$CLAWSS_DB" "SELECT count(*) FROM sockets s JOIN containers c ON c.id = s.container_id WHERE c.name = '$1' AND s.direction = 'out' AND s.remote_port = 8080" 2>/dev/null)" = "$2"
}
first_poll_done() {
	test "$(sqlite3 "$CLAWSS_DB" "SELECT count(*) FROM sockets s JOIN containers c ON c.id = s.container_id WHERE c.name = '$1' AND s.direction = 'listen' AND s.local_port = 8080" 2>/dev/null)" = 1
}
# A tool whose traffic stays on its own loopback: a busybox httpd and requests to it. It
# starts its requests when the test creates go in the directory mounted on /sig, after
# the watcher said "watching NAME" and wrote its first dump, and exits once stop is there
# too, after the test saw its connections recorded (a slow machine, whose kernel sends
# destroy notifications late, cannot make the watcher miss them).
TOOL_SH='httpd -p 127.0.0.1:8080 -h /tmp; n=0; while [ ! -e /sig/go ] && [ $n -lt 1200 ]; do sleep 0.1; n=$((n + 1)); done; for i in 1 2 3; do wget -q -O /dev/null http://127.0.0.1:8080/ ; done; n=0; while [ ! -e /sig/stop ] && [ $n -lt 1200 ]; do sleep 0.1; n=$((n + 1)); done'

test_expect_success 'setup: a private dockerd with a busybox image' '
	engine_docker_start &&
	engine_docker_image &&
	export DOCKER_HOST=unix://$DOCKER_SOCK
'

test_expect_success 'watch NAME records the container and exits when it exits' '
	mkdir sig1 &&
	docker_cli run -d --name nano-claw-tool-xyz --network none -v "$PWD/sig1:/sig" \
		$ENGINE_IMAGE sh -c "$TOOL_SH" &&
	engine_bg timeout 60 "$CLAWSS" watch --interval 200ms nano-claw-tool-xyz 2>watch1.err &&
	W=$ENGINE_BG &&
	engine_wait 30 grep -q "watching nano-claw-tool-xyz" watch1.err &&
	engine_wait 30 first_poll_done nano-claw-tool-xyz &&
	touch sig1/go &&
	engine_wait 60 out_rows_are nano-claw-tool-xyz 3 &&
	touch sig1/stop &&
	wait $W &&
	test "$(sql "SELECT name FROM containers")" = nano-claw-tool-xyz &&
	id=$(docker_cli inspect -f "{{.Id}}" nano-claw-tool-xyz) &&
	test "$(sql "SELECT engine_id FROM containers")" = "$id" &&
	test "$(sql "SELECT ended IS NOT NULL AND started IS NOT NULL FROM containers")" = 1 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 8080 AND direction = '\''out'\''")" = 3 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE local_port = 8080 AND direction = '\''in'\''")" = 3
'

test_expect_success 'the start time is the engine'\''s' '
	started=$(docker_cli inspect -f "{{.State.StartedAt}}" nano-claw-tool-xyz) &&
	want=$(date -d "$started" +%s%3N) &&
	test "$(sql "SELECT started FROM containers")" = "$want"
'

test_expect_success 'a container name nobody knows is exit 2' '
	test_expect_code 2 "$CLAWSS" watch nano-claw-nonesuch 2>err &&
	grep -q "no such container or namespace: nano-claw-nonesuch" err
'

test_expect_success '--follow picks up a container started after clawss' '
	db_reset &&
	engine_bg "$CLAWSS" -v watch --interval 200ms --follow "nano-claw-*" --for 60s 2>follow.err &&
	W=$ENGINE_BG &&
	engine_wait 20 grep -q "engine events connected" follow.err &&
	mkdir sig2 &&
	docker_cli run -d --name nano-claw-late --network none -v "$PWD/sig2:/sig" $ENGINE_IMAGE sh -c "$TOOL_SH" &&
	docker_cli run -d --name other-tool --network none -v "$PWD/sig2:/sig" $ENGINE_IMAGE sh -c "$TOOL_SH" &&
	engine_wait 30 grep -q "watching nano-claw-late" follow.err &&
	engine_wait 30 first_poll_done nano-claw-late &&
	touch sig2/go &&
	engine_wait 60 out_rows_are nano-claw-late 3 &&
	touch sig2/stop &&
	engine_wait 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM containers WHERE name = '\''nano-claw-late'\'' AND ended IS NOT NULL\")\" = 1" &&
	test "$(sql "SELECT count(*) FROM sockets s JOIN containers c ON c.id = s.container_id WHERE c.name = '\''nano-claw-late'\'' AND s.remote_port = 8080")" = 3 &&
	test "$(sql "SELECT count(*) FROM containers WHERE name = '\''other-tool'\''")" = 0 &&
	kill -TERM $W && wait $W
'

test_expect_success '--label selects the containers carrying it' '
	db_reset &&
	docker_cli run -d --name sbx-a --label openclaw.sandbox=1 --network none $ENGINE_IMAGE sleep 60 &&
	docker_cli run -d --name sbx-b --label openclaw.sandbox=0 --network none $ENGINE_IMAGE sleep 60 &&
	docker_cli run -d --name sbx-c --network none $ENGINE_IMAGE sleep 60 &&
	"$CLAWSS" watch --label openclaw.sandbox=1 --for 500ms &&
	test "$(sql "SELECT group_concat(name) FROM containers")" = sbx-a &&
	db_reset &&
	"$CLAWSS" watch --label openclaw.sandbox --for 500ms &&
	test "$(sql "SELECT group_concat(name, '\'','\'') FROM (SELECT name FROM containers ORDER BY name)")" = sbx-a,sbx-b
'

test_expect_success 'exec windows are recorded as activity' '
	db_reset &&
	engine_bg "$CLAWSS" -v watch --interval 200ms sbx-a --for 60s 2>exec.err &&
	W=$ENGINE_BG &&
	engine_wait 20 grep -q "engine events connected" exec.err &&
	docker_cli exec sbx-a sh -c "sleep 0.5" &&
	engine_wait 20 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM activity WHERE kind = '\''exec'\'' AND end IS NOT NULL AND end >= start\")\" = 1" &&
	kill -TERM $W && wait $W
'

test_expect_success 'outside-exec: a sandbox connecting while no exec runs is flagged' '
	db_reset &&
	docker_cli run -d --name openclaw-sbx-1 --label openclaw.sandbox=1 --network none $ENGINE_IMAGE \
		sh -c "httpd -p 127.0.0.1:8080 -h /tmp; sleep 5; wget -q -O /dev/null http://127.0.0.1:8080/beacon; sleep 60" &&
	engine_bg "$CLAWSS" -v watch --interval 200ms --follow --label openclaw.sandbox=1 --for 60s 2>sbx.err &&
	W=$ENGINE_BG &&
	engine_wait 20 grep -q "engine events connected" sbx.err &&
	engine_wait 20 grep -q "watching openclaw-sbx-1" sbx.err &&
	docker_cli exec openclaw-sbx-1 sh -c "wget -q -O /dev/null http://127.0.0.1:8080/tool; sleep 0.5" &&
	engine_wait 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_port = 8080\")\" = 2" &&
	kill -TERM $W && wait $W &&
	test_expect_code 1 "$CLAWSS" report --since-idle --idle 1h --format json >sbx.json &&
	python3 -c "
import json, sys
rows = json.load(open(\"sbx.json\"))
assert len(rows) == 1, rows
assert rows[0][\"flags\"] == [\"outside-exec\"], rows
assert rows[0][\"after_idle\"] is False, rows
" &&
	"$CLAWSS" report --idle 1h --format json >all.json &&
	test "$(python3 -c "import json; print(\" \".join(sorted(r[\"direction\"] for r in json.load(open(\"all.json\")))))")" = "in in out out"
'

test_expect_success 'the container is ended by the engine'\''s die event or its pid' '
	db_reset &&
	engine_bg "$CLAWSS" watch --interval 200ms sbx-b --for 60s &&
	W=$ENGINE_BG &&
	engine_wait 20 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM containers\" 2>/dev/null)\" = 1" &&
	docker_cli stop -t 0 sbx-b &&
	engine_wait 20 sh -c "! kill -0 $W 2>/dev/null" &&
	wait $W &&
	test "$(sql "SELECT ended IS NOT NULL FROM containers WHERE name = '\''sbx-b'\''")" = 1
'

test_expect_success 'a --network host container is refused with a clear reason' '
	docker_cli run -d --name hostnet --network host $ENGINE_IMAGE sleep 60 &&
	test_expect_code 2 "$CLAWSS" watch hostnet 2>err &&
	grep -q "shares the host" err
'

test_expect_success '--follow survives an engine restart and attaches what starts after' '
	db_reset &&
	engine_bg "$CLAWSS" -v watch --interval 200ms --follow "nano-claw-again-*" --for 90s 2>restart.err &&
	W=$ENGINE_BG &&
	engine_wait 20 grep -q "engine events connected" restart.err &&
	engine_docker_stop &&
	engine_wait 20 grep -q "engine events lost" restart.err &&
	engine_docker_start &&
	engine_wait 40 sh -c "test \$(grep -c \"engine events connected\" restart.err) -ge 2" &&
	mkdir sig3 &&
	docker_cli run -d --name nano-claw-again-1 --network none -v "$PWD/sig3:/sig" $ENGINE_IMAGE sh -c "$TOOL_SH" &&
	engine_wait 30 grep -q "watching nano-claw-again-1" restart.err &&
	engine_wait 30 first_poll_done nano-claw-again-1 &&
	touch sig3/go &&
	engine_wait 60 out_rows_are nano-claw-again-1 3 &&
	touch sig3/stop &&
	kill -TERM $W && wait $W
'

test_expect_success '--all names namespaces by the engine' '
	db_reset &&
	docker_cli run -d --name sbx-all --network none $ENGINE_IMAGE sleep 60 &&
	"$CLAWSS" sample --all &&
	test "$(sql "SELECT count(*) FROM containers WHERE name = '\''sbx-all'\'' AND engine_id IS NOT NULL")" = 1
'

test_done
