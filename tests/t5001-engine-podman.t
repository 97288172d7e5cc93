#!/bin/sh
test_description='the engine client against a real, private Podman API service'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-engine.sh"
engine_require podman

# Containers are made through Podman's Docker-compatible socket with the docker CLI
# (as a user with DOCKER_HOST pointing at Podman would), and once with podman itself.
probe() {
	"$CLAWSS_HELPERS/engine-probe" -H "unix://$PODMAN_SOCK" "$@"
}

kinds() {
	awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }' "$1"
}

ms() {
	date -d "$1" +%s%3N
}

test_expect_success 'setup: a private Podman service with an image made from busybox-static' '
	engine_podman_conf &&
	engine_podman_image &&
	engine_podman_start &&
	docker_on_podman image inspect $ENGINE_IMAGE >/dev/null
'

test_expect_success 'info: the socket, the kind, the compatible API version' '
	probe info >out &&
	grep -qx "socket=$PODMAN_SOCK" out &&
	grep -qx "kind=podman" out &&
	grep -qx "api=1.41" out
'

test_expect_success 'inspect by name: id, pid, start time, image, labels, network mode' '
	id=$(docker_on_podman run -d --network none --name clawss-t-a \
		--label nanoclaw-install=slug-1 --label openclaw.sandbox=1 \
		$ENGINE_IMAGE sleep 600) &&
	probe inspect clawss-t-a >a.out &&
	grep -qx "id=$id" a.out &&
	grep -qx "name=clawss-t-a" a.out &&
	grep -qx "image=localhost/nano-busybox:latest" a.out &&
	grep -qx "pid=$(podman_cli inspect -f "{{.State.Pid}}" clawss-t-a)" a.out &&
	grep -qx "running=1" a.out &&
	grep -qx "started_ms=$(ms "$(docker_on_podman inspect -f "{{.State.StartedAt}}" clawss-t-a)")" a.out &&
	grep -qx "network_mode=none" a.out &&
	grep -qx "label.nanoclaw-install=slug-1" a.out &&
	grep -qx "label.openclaw.sandbox=1" a.out
'

test_expect_success 'inspect by id and short id gives the same' '
	probe inspect "$id" >b.out && test_cmp a.out b.out &&
	probe inspect "$(echo "$id" | cut -c1-12)" >b.out && test_cmp a.out b.out
'

test_expect_success 'the pid is the container init, in its own network namespace' '
	pid=$(sed -n "s/^pid=//p" a.out) &&
	test "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/1/ns/net)" &&
	test "$(cat /proc/$pid/comm)" = sleep
'

test_expect_success 'a container made with the podman CLI is seen through the API' '
	podman_cli run -d --network none --name clawss-t-p --label openclaw.sandbox=1 \
		$ENGINE_IMAGE sleep 600 >/dev/null &&
	probe inspect clawss-t-p >out &&
	grep -qx "running=1" out &&
	grep -qx "label.openclaw.sandbox=1" out
'

test_expect_success 'an unknown container is "not found" (exit 1)' '
	test_expect_code 1 probe inspect clawss-no-such-$$ >out &&
	grep -qx "not found" out
'

test_expect_success 'list: running containers only, selected by labels' '
	docker_on_podman run --network none --name clawss-t-b $ENGINE_IMAGE true &&
	probe list >out &&
	grep -q "^$id clawss-t-a pid=$pid " out &&
	grep -q " clawss-t-p pid=" out &&
	! grep -q clawss-t-b out &&
	probe list -l openclaw.sandbox=1 >out &&
	test "$(wc -l <out)" = 2 &&
	probe list -l openclaw.sandbox=1 -l nanoclaw-install >out &&
	test "$(wc -l <out)" = 1 && grep -q clawss-t-a out
'

# Podman 4.3 names exec events "exec" and "exec_died" (normalised here), gives no
# exec id, and may report one exec's end twice: so no exact count of exec_die.
test_expect_success 'events: start, exec_start, exec_die and die, normalised' '
	: >ev.out &&
	engine_bg probe events -u die -t 60 >ev.out &&
	P=$ENGINE_BG &&
	engine_wait 20 grep -qx connected ev.out &&
	cid=$(docker_on_podman run -d --network none --name clawss-t-c \
		--label nanoclaw-install=slug-2 $ENGINE_IMAGE sleep 600) &&
	docker_on_podman exec clawss-t-c true &&
	docker_on_podman stop -t 1 clawss-t-c >/dev/null &&
	wait $P &&
	kinds ev.out | grep -qx "connected start exec_start exec_die\( exec_die\)* die" &&
	grep -q "^start $cid clawss-t-c time_ms=[0-9]* label:nanoclaw-install=slug-2\$" ev.out &&
	grep -q "^exec_start $cid clawss-t-c " ev.out &&
	grep -q "^exec_die $cid clawss-t-c " ev.out &&
	grep -q "^die $cid clawss-t-c .* exit=137 " ev.out &&
	t=$(sed -n "s/^start .* time_ms=\([0-9]*\).*/\1/p" ev.out) &&
	s=$(ms "$(docker_on_podman inspect -f "{{.State.StartedAt}}" clawss-t-c)") &&
	d=$((t - s)) && test ${d#-} -lt 1000
'

# Podman's containers outlive its service: both rescans find clawss-t-a and clawss-t-p.
test_expect_success 'events: a stopped service is reported, a restarted one reconnects' '
	: >ev2.out &&
	engine_bg probe events -u start -t 120 -L >ev2.out &&
	P=$ENGINE_BG &&
	engine_wait 20 grep -qx connected ev2.out &&
	engine_podman_stop &&
	engine_wait 20 grep -q "^disconnected" ev2.out &&
	engine_podman_start &&
	engine_wait 40 eval "test \$(grep -cx connected ev2.out) = 2" &&
	docker_on_podman run --rm --network none --name clawss-t-d $ENGINE_IMAGE true &&
	wait $P &&
	test "$(kinds ev2.out)" = "connected listed disconnected connected listed start" &&
	test "$(grep -c "^listed 2\$" ev2.out)" = 2 &&
	grep -q "^start [0-9a-f]* clawss-t-d " ev2.out
'

test_done
