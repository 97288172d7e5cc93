#!/bin/sh
test_description='clawss watch against real containers through Podman'\''s Docker-compatible API'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-engine.sh"
engine_require podman

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

test_expect_success 'setup: a private Podman API service with a busybox image' '
	engine_podman_start &&
	engine_podman_image &&
	export DOCKER_HOST=unix://$PODMAN_SOCK
'

test_expect_success 'watch NAME records the container and exits when it exits' '
	mkdir sig1 &&
	podman_cli run -d --name nano-claw-pod --network none -v "$PWD/sig1:/sig" \
		$ENGINE_IMAGE sh -c "$TOOL_SH" &&
	engine_bg timeout 60 "$CLAWSS" watch --interval 200ms nano-claw-pod 2>watch1.err &&
	W=$ENGINE_BG &&
	engine_wait 30 grep -q "watching nano-claw-pod" watch1.err &&
	engine_wait 30 first_poll_done nano-claw-pod &&
	touch sig1/go &&
	engine_wait 60 out_rows_are nano-claw-pod 3 &&
	touch sig1/stop &&
	wait $W &&
	test "$(sql "SELECT name FROM containers")" = nano-claw-pod &&
	id=$(podman_cli inspect -f "{{.Id}}" nano-claw-pod) &&
	test "$(sql "SELECT engine_id FROM containers")" = "$id" &&
	test "$(sql "SELECT ended IS NOT NULL FROM containers")" = 1 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 8080 AND direction = '\''out'\''")" = 3
'

test_expect_success '--follow picks up a container started after clawss' '
	db_reset &&
	engine_bg "$CLAWSS" -v watch --interval 200ms --follow "nanoclaw-*" --for 60s 2>follow.err &&
	W=$ENGINE_BG &&
	engine_wait 20 grep -q "engine events connected" follow.err &&
	mkdir sig2 &&
	podman_cli run -d --name nanoclaw-v2-g1-123 --label nanoclaw-install=demo --network none \
		-v "$PWD/sig2:/sig" $ENGINE_IMAGE sh -c "$TOOL_SH" &&
	engine_wait 30 grep -q "watching nanoclaw-v2-g1-123" follow.err &&
	engine_wait 30 first_poll_done nanoclaw-v2-g1-123 &&
	touch sig2/go &&
	engine_wait 60 out_rows_are nanoclaw-v2-g1-123 3 &&
	touch sig2/stop &&
	engine_wait 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM containers WHERE name = '\''nanoclaw-v2-g1-123'\'' AND ended IS NOT NULL\")\" = 1" &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 8080")" = 3 &&
	kill -TERM $W && wait $W
'

test_expect_success 'exec windows are recorded as activity' '
	db_reset &&
	podman_cli run -d --name sbx-p --network none $ENGINE_IMAGE sleep 60 &&
	engine_bg "$CLAWSS" -v watch --interval 200ms sbx-p --for 60s 2>exec.err &&
	W=$ENGINE_BG &&
	engine_wait 20 grep -q "engine events connected" exec.err &&
	podman_cli exec sbx-p sh -c "sleep 0.5" &&
	engine_wait 20 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM activity WHERE kind = '\''exec'\'' AND end IS NOT NULL\")\" -ge 1" &&
	kill -TERM $W && wait $W
'

test_done
