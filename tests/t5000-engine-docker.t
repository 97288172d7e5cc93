#!/bin/sh
test_description='the engine client against a real, private dockerd'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-engine.sh"
engine_require docker

probe() {
	"$CLAWSS_HELPERS/engine-probe" -H "unix://$DOCKER_SOCK" "$@"
}

# kinds FILE: the event kinds in FILE, space-separated
kinds() {
	awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }' "$1"
}

# ms RFC3339: milliseconds since the epoch, truncated as clawss does
ms() {
	date -d "$1" +%s%3N
}

test_expect_success 'setup: a private dockerd with an image made from busybox-static' '
	engine_docker_start &&
	engine_docker_image &&
	docker_cli image inspect $ENGINE_IMAGE >/dev/null
'

test_expect_success 'info: the socket, the kind, a negotiated API version' '
	probe info >out &&
	grep -qx "socket=$DOCKER_SOCK" out &&
	grep -qx "kind=docker" out &&
	api=$(docker_cli version -f "{{.Server.APIVersion}}") &&
	grep -qx "api=$api" out
'

test_expect_success 'DOCKER_HOST picks the socket; other schemes are refused' '
	DOCKER_HOST=unix://$DOCKER_SOCK "$CLAWSS_HELPERS/engine-probe" info >out &&
	grep -qx "socket=$DOCKER_SOCK" out &&
	test_expect_code 2 env DOCKER_HOST=tcp://127.0.0.1:2375 \
		"$CLAWSS_HELPERS/engine-probe" info 2>err &&
	grep -q "only unix:// sockets are supported" err &&
	test_expect_code 2 "$CLAWSS_HELPERS/engine-probe" -H "$ENGINE_DIR/nothing.sock" info 2>err &&
	grep -q "nothing.sock: No such file or directory" err
'

test_expect_success 'inspect by name: id, pid, start time, image, labels, network mode' '
	id=$(docker_cli run -d --network none --name clawss-t-a \
		--label nanoclaw-install=slug-1 --label openclaw.sandbox=1 \
		--label "evil=$(printf "\033[31mred")" $ENGINE_IMAGE sleep 600) &&
	probe inspect clawss-t-a >a.out &&
	grep -qx "id=$id" a.out &&
	grep -qx "name=clawss-t-a" a.out &&
	grep -qx "image=nano-busybox:latest" a.out &&
	grep -qx "pid=$(docker_cli inspect -f "{{.State.Pid}}" clawss-t-a)" a.out &&
	grep -qx "running=1" a.out &&
	grep -qx "started_ms=$(ms "$(docker_cli inspect -f "{{.State.StartedAt}}" clawss-t-a)")" a.out &&
	grep -qx "network_mode=none" a.out &&
	grep -qx "host_network=0" a.out &&
	grep -qx "label.nanoclaw-install=slug-1" a.out &&
	grep -qx "label.openclaw.sandbox=1" a.out &&
	grep -qxF "label.evil=\\x1b[31mred" a.out
'

test_expect_success 'inspect by full id, short id, and /name gives the same' '
	probe inspect "$id" >b.out && test_cmp a.out b.out &&
	probe inspect "$(echo "$id" | cut -c1-12)" >b.out && test_cmp a.out b.out &&
	probe inspect /clawss-t-a >b.out && test_cmp a.out b.out
'

test_expect_success 'the pid is the container init, in its own network namespace' '
	pid=$(sed -n "s/^pid=//p" a.out) &&
	test "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/1/ns/net)" &&
	test "$(cat /proc/$pid/comm)" = sleep
'

test_expect_success 'an unknown container is "not found" (exit 1), not an error' '
	test_expect_code 1 probe inspect clawss-no-such-$$ >out &&
	grep -qx "not found" out &&
	test_expect_code 1 probe inspect "../../images/json" >out &&
	grep -qx "not found" out
'

test_expect_success 'a stopped container has no pid' '
	docker_cli run --network none --name clawss-t-b $ENGINE_IMAGE true &&
	probe inspect clawss-t-b >out &&
	grep -qx "running=0" out &&
	grep -qx "pid=0" out &&
	grep -q "^started_ms=[1-9]" out
'

test_expect_success 'list: running containers only, selected by labels' '
	probe list >out &&
	grep -q "^$id clawss-t-a pid=$pid " out &&
	! grep -q clawss-t-b out &&
	probe list -l nanoclaw-install >out && grep -q clawss-t-a out &&
	probe list -l openclaw.sandbox=1 -l nanoclaw-install=slug-1 >out && grep -q clawss-t-a out &&
	probe list -l nanoclaw-install=slug-2 >out && test_must_be_empty out &&
	probe list -l nanoclaw >out && test_must_be_empty out
'

test_expect_success 'events: start, exec_start, exec_die and die, normalised, in order' '
	: >ev.out &&
	engine_bg probe events -u die -t 60 >ev.out &&
	P=$ENGINE_BG &&
	engine_wait 20 grep -qx connected ev.out &&
	cid=$(docker_cli run -d --network none --name clawss-t-c \
		--label nanoclaw-install=slug-2 $ENGINE_IMAGE sleep 600) &&
	docker_cli exec clawss-t-c true &&
	docker_cli stop -t 1 clawss-t-c >/dev/null &&
	wait $P &&
	test "$(kinds ev.out)" = "connected start exec_start exec_die die" &&
	grep -q "^start $cid clawss-t-c time_ms=[0-9]* label:nanoclaw-install=slug-2\$" ev.out &&
	exec=$(sed -n "s/^exec_start .* exec=\([0-9a-f]*\).*/\1/p" ev.out) &&
	test ${#exec} = 64 &&
	grep -q "^exec_die $cid clawss-t-c .* exec=$exec exit=0 " ev.out &&
	grep -q "^die $cid clawss-t-c .* exit=137 " ev.out
'

test_expect_success 'events: the start time is the engine'"'"'s, to the millisecond' '
	t=$(sed -n "s/^start .* time_ms=\([0-9]*\).*/\1/p" ev.out) &&
	s=$(ms "$(docker_cli inspect -f "{{.State.StartedAt}}" clawss-t-c)") &&
	d=$((t - s)) && test ${d#-} -lt 1000
'

# The rescan on each "connected" runs from the callback over a keep-alive connection that
# died with the old dockerd: it must reconnect by itself.
test_expect_success 'events: a stopped dockerd is reported, a restarted one reconnects' '
	docker_cli rm -f $(docker_cli ps -aq) >/dev/null &&
	: >ev2.out &&
	engine_bg probe events -u start -t 120 -L >ev2.out &&
	P=$ENGINE_BG &&
	engine_wait 20 grep -qx connected ev2.out &&
	engine_docker_stop &&
	engine_wait 20 grep -q "^disconnected" ev2.out &&
	engine_docker_start &&
	engine_wait 40 eval "test \$(grep -cx connected ev2.out) = 2" &&
	docker_cli run --rm --network none --name clawss-t-d $ENGINE_IMAGE true &&
	wait $P &&
	test "$(kinds ev2.out)" = "connected listed disconnected connected listed start" &&
	test "$(grep -c "^listed 0\$" ev2.out)" = 2 &&
	grep -q "^disconnected $(echo "$DOCKER_SOCK" | sed "s/[.]/[.]/g"):" ev2.out &&
	grep -q "^start [0-9a-f]* clawss-t-d " ev2.out
'

test_done
