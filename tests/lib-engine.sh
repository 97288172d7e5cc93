# Sourced by sharness tests (after sharness.sh, and after lib-netns.sh when both are
# used: this file's EXIT trap also runs netns_cleanup). Real container engines that
# touch nothing of the host's own: a private dockerd and a private Podman API service,
# all state under one temp dir, an image made locally from busybox-static (no
# registry), containers with --network none. Everything the tests made is removed at
# exit, also when a test fails or the script is interrupted.
#
#   engine_require docker|podman   root and the packages (CI: docker.io podman
#                                  busybox-static); skip_all when not root
#   engine_docker_start            dockerd on $DOCKER_SOCK (again after _stop: restart)
#   engine_docker_stop             SIGTERM, wait until it is gone
#   engine_docker_image            nano-busybox:latest imported into it
#   engine_podman_start            `podman system service` on $PODMAN_SOCK
#   engine_podman_stop
#   engine_podman_image            nano-busybox:latest imported into its storage
#   docker_cli ARGS...             docker CLI against the private dockerd
#   podman_cli ARGS...             podman CLI against the private storage
#   docker_on_podman ARGS...       docker CLI against Podman's compatible socket
#   engine_wait TIMEOUT_S CMD...   poll until CMD succeeds (bounded; not an assertion)
#   engine_bg CMD...               run in the background, killed at exit; pid in $ENGINE_BG
#
# Set CLAWSS_SKIP_ENGINES=1 to skip these tests on a root machine without the engines;
# with CI set it is refused (a failure): CI installs the engines and runs them.

ENGINE_DIR=
ENGINE_PIDS=
ENGINE_BG=
ENGINE_IMAGE=nano-busybox:latest

engine_require() {
	if [ "$(id -u)" != 0 ]; then
		skip_all="needs root (a private dockerd and Podman)"
		test_done
	fi
	if [ -n "${CLAWSS_SKIP_ENGINES:-}" ]; then
		if [ -n "${CI:-}" ]; then
			test_expect_success "CLAWSS_SKIP_ENGINES is not honoured under CI" '
				echo >&2 "CI is set: the engine tests run; unset CLAWSS_SKIP_ENGINES" && false
			'
			test_done
		fi
		skip_all="CLAWSS_SKIP_ENGINES is set"
		test_done
	fi
	engine_missing=
	case "$1" in
	docker) engine_cmds="dockerd containerd runc" ;;
	podman) engine_cmds="podman conmon runc" ;;
	*) error "engine_require: docker or podman, not '$1'" ;;
	esac
	for c in $engine_cmds; do
		command -v "$c" >/dev/null 2>&1 || engine_missing="$engine_missing $c"
	done
	ENGINE_DOCKER_BIN=/usr/bin/docker
	[ -x "$ENGINE_DOCKER_BIN" ] || ENGINE_DOCKER_BIN=$(command -v docker) ||
		engine_missing="$engine_missing docker"
	# The image's only binary must run without a libc: busybox-static, not busybox.
	if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		engine_missing="$engine_missing busybox-static"
	fi
	[ -x "$CLAWSS_HELPERS/engine-probe" ] || engine_missing="$engine_missing engine-probe"
	if [ -n "$engine_missing" ]; then
		# As root (as in CI) a missing engine is a failure, never a silent skip.
		test_expect_success "engines installed (apt-get install docker.io podman busybox-static)" "
			echo >&2 'missing:$engine_missing'; false
		"
		test_done
	fi
	ENGINE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/clawss-eng.XXXXXX") || error "mktemp failed"
	# Podman's overlay driver cannot stack on overlayfs ("'overlay' is not supported
	# over overlayfs"), which is what /tmp is inside a container such as fresh-check's:
	# there Podman stores its image with vfs (a plain copy; the image is one small layer).
	# Docker's overlay2 copes by itself.
	ENGINE_PODMAN_STORAGE=
	if [ "$(stat -f -c %T "$ENGINE_DIR")" = overlayfs ]; then
		ENGINE_PODMAN_STORAGE="--storage-driver vfs"
	fi
	chmod 0711 "$ENGINE_DIR"
	DOCKER_SOCK=$ENGINE_DIR/docker.sock
	PODMAN_SOCK=$ENGINE_DIR/podman.sock
	export CONTAINERS_CONF="$ENGINE_DIR/containers.conf"
	unset DOCKER_HOST DOCKER_CONTEXT CONTAINER_HOST
}

engine_wait() {
	engine_t=$(( $1 * 10 )); shift
	while [ $engine_t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		engine_t=$((engine_t - 1))
	done
	return 1
}

engine_bg() {
	"$@" &
	ENGINE_BG=$!
	ENGINE_PIDS="$ENGINE_PIDS $ENGINE_BG"
}

engine_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

# engine_stop_pid PID TIMEOUT_S: SIGTERM, then SIGKILL if it outlives the timeout.
engine_stop_pid() {
	engine_alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	engine_wait "$2" eval '! engine_alive '"$1" && return 0
	kill -KILL "$1" 2>/dev/null
	engine_wait 5 eval '! engine_alive '"$1"
}

docker_cli() {
	"$ENGINE_DOCKER_BIN" --config "$ENGINE_DIR/docker-cli" -H "unix://$DOCKER_SOCK" "$@"
}

docker_on_podman() {
	"$ENGINE_DOCKER_BIN" --config "$ENGINE_DIR/docker-cli" -H "unix://$PODMAN_SOCK" "$@"
}

podman_cli() {
	# shellcheck disable=SC2086
	podman --root "$ENGINE_DIR/podman/root" --runroot "$ENGINE_DIR/podman/run" \
		$ENGINE_PODMAN_STORAGE "$@"
}

# The rootfs tarball: /bin/busybox and its applet links.
engine_rootfs() {
	[ -s "$ENGINE_DIR/rootfs.tar" ] && return 0
	mkdir -p "$ENGINE_DIR/rootfs/bin" "$ENGINE_DIR/rootfs/tmp" &&
	cp /bin/busybox "$ENGINE_DIR/rootfs/bin/busybox" &&
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$ENGINE_DIR/rootfs/bin/$a" || return 1
	done &&
	tar -C "$ENGINE_DIR/rootfs" -cf "$ENGINE_DIR/rootfs.tar" .
}

engine_docker_start() {
	mkdir -p "$ENGINE_DIR/docker" || return 1
	engine_containerd=
	# dockerd adopts a system containerd when one runs; then bring our own.
	if [ -S /run/containerd/containerd.sock ] || [ -n "${ENGINE_OWN_CONTAINERD:-}" ]; then
		engine_containerd_start || return 1
		engine_containerd="--containerd=$ENGINE_DIR/ctrd/containerd.sock"
	fi
	dockerd -H "unix://$DOCKER_SOCK" --data-root "$ENGINE_DIR/docker/root" \
		--exec-root "$ENGINE_DIR/docker/exec" --pidfile "$ENGINE_DIR/docker/dockerd.pid" \
		--bridge=none --iptables=false --ip-forward=false --shutdown-timeout=2 \
		$engine_containerd >>"$ENGINE_DIR/docker/dockerd.log" 2>&1 &
	ENGINE_DOCKERD=$!
	if ! engine_wait 60 docker_cli info; then
		echo "dockerd did not come up; its log:" >&2
		tail -20 "$ENGINE_DIR/docker/dockerd.log" >&2
		return 1
	fi
}

engine_containerd_start() {
	engine_alive "$ENGINE_CONTAINERD" && return 0
	mkdir -p "$ENGINE_DIR/ctrd" &&
	cat >"$ENGINE_DIR/ctrd/config.toml" <<-EOF &&
	version = 2
	root = "$ENGINE_DIR/ctrd/root"
	state = "$ENGINE_DIR/ctrd/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$ENGINE_DIR/ctrd/containerd.sock"
	[ttrpc]
	  address = "$ENGINE_DIR/ctrd/containerd.sock.ttrpc"
	[debug]
	  address = "$ENGINE_DIR/ctrd/debug.sock"
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$ENGINE_DIR/ctrd/opt"
	EOF
	containerd --config "$ENGINE_DIR/ctrd/config.toml" >>"$ENGINE_DIR/ctrd/log" 2>&1 &
	ENGINE_CONTAINERD=$!
	engine_wait 30 test -S "$ENGINE_DIR/ctrd/containerd.sock"
}

engine_docker_stop() {
	engine_stop_pid "$ENGINE_DOCKERD" 30
}

engine_docker_image() {
	engine_rootfs &&
	docker_cli import --change 'CMD ["/bin/sh"]' "$ENGINE_DIR/rootfs.tar" "$ENGINE_IMAGE" >/dev/null
}

engine_podman_conf() {
	mkdir -p "$ENGINE_DIR/podman/tmp" "$ENGINE_DIR/podman/net" &&
	cat >"$CONTAINERS_CONF" <<-EOF
	[containers]
	default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
	[network]
	network_config_dir = "$ENGINE_DIR/podman/net"
	[engine]
	runtime = "runc"
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	events_logfile_path = "$ENGINE_DIR/podman/tmp/events.log"
	tmp_dir = "$ENGINE_DIR/podman/tmp"
	EOF
}

engine_podman_start() {
	[ -s "$CONTAINERS_CONF" ] || engine_podman_conf || return 1
	# Not through podman_cli: $! must be podman itself, not a subshell.
	# shellcheck disable=SC2086
	podman --root "$ENGINE_DIR/podman/root" --runroot "$ENGINE_DIR/podman/run" \
		$ENGINE_PODMAN_STORAGE system service --time=0 "unix://$PODMAN_SOCK" \
		>>"$ENGINE_DIR/podman/service.log" 2>&1 &
	ENGINE_PODMAN=$!
	if ! engine_wait 30 docker_on_podman version; then
		echo "podman system service did not come up; its log:" >&2
		tail -20 "$ENGINE_DIR/podman/service.log" >&2
		return 1
	fi
}

engine_podman_stop() {
	engine_stop_pid "$ENGINE_PODMAN" 20
}

engine_podman_image() {
	engine_rootfs &&
	podman_cli import --change 'CMD ["/bin/sh"]' "$ENGINE_DIR/rootfs.tar" "$ENGINE_IMAGE" >/dev/null
}

# Processes whose command line names our private directory: the daemons' children
# (containerd, shims, conmon) that outlive a killed parent. Ours by construction.
engine_our_pids() {
	for p in /proc/[0-9]*; do
		# A shell match: a grep would find the pattern in its own command line.
		case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in
		*"$ENGINE_DIR/"*) echo "${p#/proc/}" ;;
		esac
	done
}

engine_cleanup() {
	[ -n "$ENGINE_DIR" ] && [ -d "$ENGINE_DIR" ] || return 0
	for p in $ENGINE_PIDS; do kill "$p" 2>/dev/null; done
	# Containers first, while their engines still answer.
	if engine_alive "$ENGINE_DOCKERD"; then
		ids=$(docker_cli ps -aq 2>/dev/null)
		[ -z "$ids" ] || docker_cli rm -f $ids >/dev/null 2>&1
		docker_cli rmi -f "$ENGINE_IMAGE" >/dev/null 2>&1
		engine_docker_stop
	fi
	if [ -d "$ENGINE_DIR/podman/root" ]; then
		podman_cli rm -af -t 0 >/dev/null 2>&1
		podman_cli rmi -af >/dev/null 2>&1
	fi
	engine_podman_stop
	engine_stop_pid "$ENGINE_CONTAINERD" 10
	# A daemon that died leaves runc containers and shims behind: end them.
	for root in "$ENGINE_DIR/docker/exec/runtime-runc/moby"; do
		[ -d "$root" ] || continue
		for c in $(runc --root "$root" list -q 2>/dev/null); do
			runc --root "$root" delete -f "$c" >/dev/null 2>&1
		done
	done
	for p in $(engine_our_pids); do kill -KILL "$p" 2>/dev/null; done
	# Mounts under our directory (overlays, shm, netns), deepest first.
	awk -v d="$ENGINE_DIR/" 'index($5, d) == 1 { print length($5), $5 }' /proc/self/mountinfo |
		sort -rn | while read -r _ m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	# Keep the daemons' logs next to a failed test's trash directory.
	if [ "${test_failure:-0}" != 0 ] && [ -d "${SHARNESS_TRASH_DIRECTORY:-}" ]; then
		mkdir -p "$SHARNESS_TRASH_DIRECTORY/engine-logs"
		for f in docker/dockerd.log podman/service.log ctrd/log; do
			[ -f "$ENGINE_DIR/$f" ] && cp "$ENGINE_DIR/$f" \
				"$SHARNESS_TRASH_DIRECTORY/engine-logs/$(basename "$f")"
		done
	fi
	rm -rf "$ENGINE_DIR"
	ENGINE_DIR=
}

engine_exit_trap() {
	engine_code=$?
	engine_cleanup >/dev/null 2>&1
	command -v netns_cleanup >/dev/null 2>&1 && netns_cleanup
	(exit $engine_code)
	die  # sharness's own EXIT handler
}
trap engine_exit_trap EXIT
trap 'exit 130' INT TERM HUP
