#!/bin/sh
test_description='the units under a real systemd: boot systemd as PID 1 under systemd-nspawn
over a cached Debian 12 tree, install with make install DESTDIR, and run clawss-watch,
clawss-sample and clawss-prune (services and timers) there; a unit without CAP_SYS_ADMIN
must fail visibly (run by make check-systemd; ../shared/PLATFORM.md, "Real systemd")'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-need.sh"

CLAWSS=${CLAWSS:-clawss}
if [ "$(id -u)" != 0 ]; then
	skip_all="needs root (systemd-nspawn, mount, cgroups)"
	test_done
fi
need systemd-nspawn:systemd-container debootstrap nsenter:util-linux make python3
test "${CLAWSS##*/}" = clawss || error "the binary under test must be named clawss: $CLAWSS"

# Everything this test makes: an overlay of the cached tree (the cache is never written),
# a cgroup of its own for nspawn, the container. Removed at exit, also on failure.
D=$(mktemp -d /tmp/clawss-sd.XXXXXX) || error "mktemp failed"
ROOT=$D/root
CG=clawss-sd-$$
NSPAWN=
LEADER=
# the hierarchies nspawn writes (hybrid: name=systemd and unified; or one cgroup2 root)
if [ -d /sys/fs/cgroup/systemd ]; then
	CGDIRS="/sys/fs/cgroup/systemd /sys/fs/cgroup/unified"
else
	CGDIRS=/sys/fs/cgroup
fi

sd_cgroup_reap() {
	for h in $CGDIRS; do
		[ -d "$h/$CG" ] || continue
		find "$h/$CG" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		find "$h/$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	for h in $CGDIRS; do [ -d "$h/$CG" ] && return 1; done
	return 0
}

sd_cleanup() {
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		kill -TERM "$NSPAWN"   # nspawn asks PID 1 to power off
		n=0
		while kill -0 "$NSPAWN" 2>/dev/null && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
		kill -KILL "$NSPAWN" 2>/dev/null
	fi
	# what nspawn left: the payload and supervisor cgroups under ours, emptied once the
	# container's last process is gone (any straggler is the container's: killed)
	n=0
	until sd_cgroup_reap || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
	sd_cgroup_reap || echo "# could not remove the cgroups $CG under $CGDIRS" >&2
	mountpoint -q "$ROOT" && { umount "$ROOT" 2>/dev/null || umount -l "$ROOT"; }
	rm -rf "$D"
}
trap sd_cleanup EXIT

# in_c CMD...: run CMD inside the booted container (every namespace of its PID 1)
in_c() {
	nsenter -t "$LEADER" -a "$@"
}

# wait_for TIMEOUT_S CMD...: poll until CMD succeeds (bounded; never a timing assertion)
wait_for() {
	t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# prop UNIT PROPERTY: a property of a unit, as systemctl show has it
prop() {
	in_c systemctl show -P "$2" "$1"
}

# db QUERY: one value from the units' database, read inside the container
db() {
	in_c sqlite3 /var/lib/clawss/clawss.db "$1"
}
db_is() {
	test "$(db "$1" 2>/dev/null)" = "$2"
}

# journal_mark: remember where the journal ends; journal_since UNIT: what UNIT logged since
journal_mark() {
	in_c journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p' >cursor
}
journal_since() {
	in_c journalctl -q --no-pager -o cat -u "$1" --after-cursor "$(cat cursor)"
}

# settings K=V...: /etc/default/clawss inside the container holds these lines only
settings() {
	printf '%s\n' "$@" >"$ROOT/etc/default/clawss"
}

test_expect_success 'setup: the cached Debian tree (debootstrap the first time)' '
	"$CLAWSS_SRC/tests/systemd/tree" "$CLAWSS" >tree 2>tree.err || { cat tree.err >&2; false; } &&
	test -x "$(cat tree)/usr/lib/systemd/systemd"
'

test_expect_success 'setup: an overlay of the tree, clawss installed into it with make install DESTDIR' '
	mkdir -p "$D/upper" "$D/work" "$ROOT" &&
	mount -t overlay overlay -o "lowerdir=$(cat tree),upperdir=$D/upper,workdir=$D/work" "$ROOT" &&
	make -s -C "$CLAWSS_SRC" -o "$CLAWSS" BIN="$CLAWSS" DESTDIR="$ROOT" PREFIX=/usr install >install.out &&
	test -x "$ROOT/usr/sbin/clawss" &&
	for u in clawss-watch.service clawss-sample.service clawss-prune.service \
		clawss-sample.timer clawss-prune.timer; do
		test -r "$ROOT/usr/lib/systemd/system/$u" || return 1
	done &&
	# the traffic: a listener on the namespace'\''s loopback, one short connection
	# (closed at once: only a destroy notification can show it), one held with bytes
	mkdir -p "$ROOT/opt/clawss-test" &&
	cat >"$ROOT/opt/clawss-test/traffic.py" <<-\EOF
	import socket, sys, time
	port = int(sys.argv[1])
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", port)); s.listen()
	short = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept()
	short.sendall(b"s" * 100); short.close(); a.close()
	held = socket.create_connection(("127.0.0.1", port)); b, _ = s.accept()
	held.sendall(b"h" * 5000)
	print("holding", flush=True)
	time.sleep(600)
	EOF
'

# boot_nspawn: systemd-nspawn in a cgroup of its own (with --keep-unit it makes its payload
# cgroup under the one it runs in), in the background; its pid in NSPAWN
boot_nspawn() {
	for h in $CGDIRS; do mkdir -p "$h/$CG" || return 1; done
	CG=$CG CGDIRS="$CGDIRS" ROOT=$ROOT sh -c '
		for h in $CGDIRS; do echo $$ >"$h/$CG/cgroup.procs" || exit 1; done
		exec systemd-nspawn --keep-unit --register=no --private-network \
			--system-call-filter=bpf --console=read-only -D "$ROOT" -b' \
		>boot.log 2>&1 </dev/null &
	NSPAWN=$!
}

booted() {
	nsenter -t "$LEADER" -a systemctl is-system-running >state 2>&1
	grep -Eqx "running|degraded" state
}

test_expect_success 'systemd boots as PID 1 under systemd-nspawn' '
	boot_nspawn &&
	# (a /proc file has no size: read it)
	wait_for 60 grep -q . /proc/$NSPAWN/task/$NSPAWN/children &&
	LEADER=$(awk "{print \$1}" /proc/$NSPAWN/task/$NSPAWN/children) &&
	test -n "$LEADER" &&
	# "offline" until PID 1 answers, then "starting" until the boot is done
	wait_for 120 booted;
	grep -Eqx "running|degraded" state || {
		echo "systemd-nspawn could not boot systemd here (state: $(cat state)); its log:" >&2
		tail -n 30 boot.log >&2
		false
	} &&
	test_set_prereq BOOTED
'

test_expect_success BOOTED 'setup: three namespaces inside, their loopbacks up' '
	for n in sd-a sd-b sd-c; do
		in_c ip netns add $n && in_c ip -n $n link set lo up || return 1
	done
'

test_expect_success BOOTED 'clawss-watch.service on two namespaces records the traffic made there' '
	settings "CLAWSS_WATCH_ARGS=\"--interval 200ms --retain 720h sd-a sd-b\"" &&
	journal_mark &&
	in_c systemctl start clawss-watch.service &&
	wait_for 60 eval "journal_since clawss-watch.service | grep -q \"watching sd-b\"" &&
	journal_since clawss-watch.service >j.watch &&
	grep -q "watching sd-a" j.watch &&
	in_c systemd-run -q --unit=clawss-traffic-a ip netns exec sd-a python3 /opt/clawss-test/traffic.py 7001 &&
	wait_for 60 db_is "SELECT count(*) FROM sockets s JOIN containers c ON c.id = s.container_id WHERE c.name = '\''sd-a'\'' AND s.remote_port = 7001 AND s.direction = '\''out'\''" 2
'

test_expect_success BOOTED 'it runs under its hardening: seccomp, no_new_privs, a narrowed bounding set' '
	PID=$(prop clawss-watch.service MainPID) &&
	test "$PID" -gt 0 &&
	in_c cat /proc/$PID/status >status &&
	grep -q "^Seccomp:[[:space:]]*2" status &&
	grep -q "^NoNewPrivs:[[:space:]]*1" status &&
	# within the four of the unit (SYS_ADMIN 21, SYS_PTRACE 19, DAC_READ_SEARCH 2,
	# NET_ADMIN 12): nothing outside 0x281004
	bnd=$(awk "/^CapBnd:/ {print \$2}" status) &&
	test $(( 0x$bnd & ~0x281004 )) = 0 &&
	# ProtectSystem=strict: / is read-only in its mount namespace
	in_c cat /proc/$PID/mountinfo | awk "\$5 == \"/\" { o = \$6 } END { exit !(o ~ /^ro/) }"
'

test_expect_success BOOTED 'stopped, it exits 0 and the rows are complete' '
	in_c systemctl stop clawss-watch.service &&
	test "$(prop clawss-watch.service ActiveState)" = inactive &&
	test "$(prop clawss-watch.service Result)" = success &&
	# the short connection, seen only by its destroy notification, and the held one
	db_is "SELECT count(*) FROM sockets WHERE remote_port = 7001 AND closed_at IS NOT NULL" 1 &&
	db_is "SELECT count(*) FROM sockets WHERE remote_port = 7001 AND closed_at IS NULL AND bytes_sent >= 5000 AND comm = '\''python3'\''" 1 &&
	db_is "SELECT count(*) FROM containers WHERE name IN ('\''sd-a'\'', '\''sd-b'\'')" 2 &&
	journal_since clawss-watch.service >j.watch &&
	! grep -i "error\|denied\|not permitted" j.watch
'

test_expect_success BOOTED 'clawss-sample.service: one poll of CLAWSS_SAMPLE_ARGS, recorded' '
	in_c systemd-run -q --unit=clawss-traffic-b ip netns exec sd-b python3 /opt/clawss-test/traffic.py 7002 &&
	wait_for 30 sh -c "nsenter -t $LEADER -a journalctl -q -u clawss-traffic-b -o cat | grep -q holding" &&
	settings "CLAWSS_SAMPLE_ARGS=\"sd-b\"" &&
	journal_mark &&
	in_c systemctl start clawss-sample.service &&
	test "$(prop clawss-sample.service Result)" = success &&
	db_is "SELECT count(*) FROM sockets WHERE remote_port = 7002 AND bytes_sent >= 5000 AND closed_at IS NULL" 1
'

test_expect_success BOOTED 'clawss-sample.timer starts the service (its period shortened by a drop-in)' '
	in_c systemctl start clawss-sample.timer &&
	test "$(prop clawss-sample.timer ActiveState)" = active &&
	in_c systemctl list-timers --all --no-pager clawss-sample.timer >timers &&
	grep -q clawss-sample.service timers &&
	# the shipped period is a minute: a drop-in makes it 1 s, and a new connection shows
	# that a run the timer started recorded it
	mkdir -p "$ROOT/etc/systemd/system/clawss-sample.timer.d" &&
	printf "[Timer]\nOnUnitActiveSec=\nOnActiveSec=1s\nOnUnitActiveSec=1s\nAccuracySec=100ms\n" \
		>"$ROOT/etc/systemd/system/clawss-sample.timer.d/soon.conf" &&
	in_c systemctl daemon-reload &&
	in_c systemctl restart clawss-sample.timer &&
	in_c systemd-run -q --unit=clawss-traffic-c ip netns exec sd-b python3 /opt/clawss-test/traffic.py 7003 &&
	wait_for 60 db_is "SELECT count(*) FROM sockets WHERE remote_port = 7003 AND bytes_sent >= 5000" 1 ||
		{ in_c systemctl list-timers --all --no-pager; in_c systemctl cat clawss-sample.timer;
		  in_c journalctl -q --no-pager -u clawss-sample.service -u clawss-sample.timer -u clawss-traffic-c | tail -n 20;
		  db "SELECT * FROM sockets"; false; } &&
	in_c systemctl stop clawss-sample.timer &&
	rm "$ROOT/etc/systemd/system/clawss-sample.timer.d/soon.conf" &&
	in_c systemctl daemon-reload
'

test_expect_success BOOTED 'clawss-prune.service prunes under its own hardening; the timer is scheduled' '
	settings "CLAWSS_RETAIN=720h" &&
	journal_mark &&
	in_c systemctl start clawss-prune.service &&
	test "$(prop clawss-prune.service Result)" = success &&
	journal_since clawss-prune.service | grep -q "^pruned 0 sockets" &&
	in_c systemctl start clawss-prune.timer &&
	test "$(prop clawss-prune.timer ActiveState)" = active &&
	test "$(prop clawss-prune.timer NextElapseUSecRealtime)" != "" &&
	in_c systemctl list-timers --all --no-pager clawss-prune.timer | grep -q clawss-prune.service
'

test_expect_success BOOTED 'the units enable as documented (their Install sections)' '
	in_c systemctl enable clawss-watch.service clawss-sample.timer clawss-prune.timer 2>enable.err &&
	test "$(in_c systemctl is-enabled clawss-watch.service)" = enabled &&
	test "$(in_c systemctl is-enabled clawss-sample.timer)" = enabled &&
	in_c systemctl disable clawss-watch.service clawss-sample.timer clawss-prune.timer 2>/dev/null
'

test_expect_success BOOTED 'the positive control for --all: with its capabilities it watches every namespace' '
	settings "CLAWSS_WATCH_ARGS=\"--interval 200ms --all\"" &&
	journal_mark &&
	in_c systemctl start clawss-watch.service &&
	wait_for 60 eval "journal_since clawss-watch.service | grep -q \"watching sd-c\"" &&
	test "$(prop clawss-watch.service ActiveState)" = active &&
	in_c systemctl stop clawss-watch.service &&
	test "$(prop clawss-watch.service Result)" = success
'

# ---- The negative control: without CAP_SYS_ADMIN no namespace can be entered. The
# failure must be in the journal and in the unit's state (Result=exit-code, status 2),
# never a unit that runs on, blind.
test_expect_success BOOTED 'setup: a drop-in that removes CAP_SYS_ADMIN from clawss-watch.service' '
	mkdir -p "$ROOT/etc/systemd/system/clawss-watch.service.d" &&
	printf "[Service]\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_NET_ADMIN\n" \
		>"$ROOT/etc/systemd/system/clawss-watch.service.d/nocap.conf" &&
	in_c systemctl daemon-reload &&
	in_c systemctl show -P CapabilityBoundingSet clawss-watch.service >caps &&
	! grep -q cap_sys_admin caps && grep -q cap_sys_ptrace caps
'

for args in "sd-a" "sd-a sd-b sd-c" "--all"; do
	test_expect_success BOOTED "without CAP_SYS_ADMIN, watch $args fails: in the journal and the unit state" "
		settings \"CLAWSS_WATCH_ARGS=\\\"--interval 200ms $args\\\"\" &&
		test \"\$(prop clawss-watch.service Result)\" = success &&
		journal_mark &&
		{ in_c systemctl start clawss-watch.service || :; } &&
		wait_for 60 eval 'test \"\$(prop clawss-watch.service Result)\" = exit-code' ||
			{ in_c systemctl status --no-pager clawss-watch.service; journal_since clawss-watch.service; false; } &&
		test \"\$(prop clawss-watch.service ExecMainStatus)\" = 2 &&
		# failed, and systemd restarting it (Restart=on-failure), never active
		prop clawss-watch.service ActiveState >state &&
		prop clawss-watch.service SubState >>state &&
		grep -Eqx 'failed|activating|auto-restart' state &&
		! grep -qx active state &&
		journal_since clawss-watch.service >j.neg &&
		grep -q 'entering its network namespace: Operation not permitted' j.neg &&
		grep -q 'clawss watch needs root' j.neg &&
		! grep -q '^clawss: watching' j.neg &&
		in_c systemctl stop clawss-watch.service &&
		{ in_c systemctl reset-failed clawss-watch.service 2>/dev/null || :; }
	"
done

test_expect_success BOOTED 'and sample --all without CAP_SYS_ADMIN fails the same way' '
	mkdir -p "$ROOT/etc/systemd/system/clawss-sample.service.d" &&
	cp "$ROOT/etc/systemd/system/clawss-watch.service.d/nocap.conf" \
		"$ROOT/etc/systemd/system/clawss-sample.service.d/" &&
	in_c systemctl daemon-reload &&
	settings "CLAWSS_SAMPLE_ARGS=\"--all\"" &&
	journal_mark &&
	! in_c systemctl start clawss-sample.service &&
	test "$(prop clawss-sample.service Result)" = exit-code &&
	test "$(prop clawss-sample.service ExecMainStatus)" = 2 &&
	journal_since clawss-sample.service | grep -q "could not be entered: Operation not permitted"
'

test_done
