#!/bin/sh
test_description='the engine role confined as documented: a watcher of engine containers keeps
no capability but SYS_PTRACE and DAC_READ_SEARCH (plus SYS_ADMIN and NET_ADMIN while
following), and its seccomp filter still refuses what it must'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-engine.sh"
engine_require docker
. "$CLAWSS_SRC/tests/lib-confine.sh"

export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/clawss.db"

test_expect_success 'setup: a private dockerd with a busybox image, one container' '
	engine_docker_start &&
	engine_docker_image &&
	export DOCKER_HOST=unix://$DOCKER_SOCK &&
	docker_cli run -d --name sbx-conf --network none $ENGINE_IMAGE sleep 300
'

# the flow view keeps NET_ADMIN (12) for the namespace's table (clawss(8), SECURITY)
test_expect_success 'watch NAME (engine role), once confined: only SYS_PTRACE, DAC_READ_SEARCH, NET_ADMIN' '
	CLAWSS_TEST_SECCOMP_PROBE=stop "$CLAWSS" watch --interval 200ms --for 60s sbx-conf 2>watch.err &
	W=$! &&
	confined $W 0000000000081004 &&
	# and it goes on: the engine still answers through the filter (its event stream)
	engine_wait 30 grep -q "watching sbx-conf" watch.err &&
	kill -TERM $W && wait $W
'

test_expect_success 'watch --follow with the engine: SYS_ADMIN and NET_ADMIN kept for later namespaces' '
	CLAWSS_TEST_SECCOMP_PROBE=stop "$CLAWSS" watch --interval 200ms --for 60s --follow "sbx-*" 2>follow.err &
	W=$! &&
	confined $W 0000000000281004 &&
	kill -TERM $W && wait $W
'

test_expect_success 'the engine role refuses an inet socket and dies on execve' '
	CLAWSS_TEST_SECCOMP_PROBE=socket-inet "$CLAWSS" watch --for 300ms sbx-conf 2>err &&
	grep -q "^clawss: watch: seccomp probe socket-inet: refused (Operation not permitted)\$" err &&
	test_expect_code 159 env CLAWSS_TEST_SECCOMP_PROBE=execve "$CLAWSS" watch --for 5s sbx-conf
'

test_done
