#!/bin/sh
test_description='systemd units: they verify, they are hardened as documented, and their
command lines work under their capability bounding set'
. /usr/share/sharness/sharness.sh

CLAWSS=${CLAWSS:-clawss}
if test -z "$CLAWSS_SRC" || ! test -d "$CLAWSS_SRC/systemd"; then
	skip_all='needs $CLAWSS_SRC'
	test_done
fi
. "$CLAWSS_SRC/tests/lib-need.sh"
# systemd-analyze: Debian's systemd package (tools/deps installs it with systemd-container)
need make python3 systemd-analyze:systemd

# Installed with SBINDIR = the directory of the binary under test, so ExecStart names a
# file that exists here (systemd-analyze verify checks that).
BINDIR=$(dirname "$CLAWSS")
test "${CLAWSS##*/}" = clawss || { skip_all="the binary under test is not named clawss"; test_done; }
U=$SHARNESS_TRASH_DIRECTORY/root/usr/local/lib/systemd/system
SERVICES="clawss-watch.service clawss-sample.service clawss-prune.service"
TIMERS="clawss-sample.timer clawss-prune.timer"

# unit.py UNIT KEY: every value of KEY in the unit, one a line (no systemd needed)
cat >unit.py <<\EOF
import sys
path, want = sys.argv[1], sys.argv[2]
section = None
for line in open(path):
    line = line.strip()
    if not line or line[0] in "#;":
        continue
    if line.startswith("["):
        section = line.strip("[]")
        continue
    key, _, value = line.partition("=")
    if "=" not in line or not key.strip() or not section:
        sys.exit("%s: not a unit file line: %s" % (path, line))
    if key.strip() == want:
        print(value.strip())
EOF
key() {
	python3 unit.py "$U/$1" "$2"
}

test_expect_success 'setup: install into a DESTDIR' '
	make -s -C "$CLAWSS_SRC" -o "$CLAWSS" BIN="$CLAWSS" DESTDIR="$PWD/root" \
		PREFIX=/usr/local SBINDIR="$BINDIR" install >out &&
	for u in $SERVICES $TIMERS; do test -r "$U/$u" || return 1; done
'

systemd-analyze --help 2>/dev/null | grep -q " verify " && test_set_prereq ANALYZE
test_expect_success 'systemd-analyze has verify and security (systemd 252)' '
	test_have_prereq ANALYZE
'


test_expect_success ANALYZE 'systemd-analyze verify: every unit, not one warning' '
	for u in $SERVICES $TIMERS; do
		systemd-analyze verify --man=no "$U/$u" >out 2>err ||
			{ cat out err; return 1; }
		test_must_be_empty err || return 1
	done
'

test_expect_success ANALYZE 'systemd-analyze verify reports a broken unit (the check can fail)' '
	sed "s/^ProtectSystem=strict/ProtectSystem=sometimes/" "$U/clawss-watch.service" >bad.service &&
	systemd-analyze verify --man=no bad.service 2>err;
	grep -q "protect system" err
'

test_expect_success ANALYZE 'systemd-analyze security: every service rated OK or better' '
	for u in $SERVICES; do
		systemd-analyze security --offline=yes --root=/ --no-pager "$U/$u" >out 2>&1 ||
		systemd-analyze security --offline=yes --no-pager "$U/$u" >out 2>&1 || { cat out; return 1; }
		tail -n 1 out | grep -E "exposure level for $u: [0-9.]+ (OK|SAFE)" || { tail -n 3 out; return 1; }
	done
'

# Without systemd-analyze (or as well): the keys this design relies on, read directly.
test_expect_success 'the units parse, and each has its sections' '
	for u in $SERVICES; do
		test "$(key $u ExecStart | wc -l)" = 1 &&
		key $u Description | grep -q clawss &&
		key $u Documentation | grep -q "^man:clawss" || return 1
	done &&
	for t in $TIMERS; do
		key $t WantedBy | grep -qx timers.target || return 1
	done &&
	key clawss-sample.timer OnUnitActiveSec | grep -qx 1min &&
	key clawss-prune.timer OnCalendar | grep -qx daily &&
	key clawss-watch.service WantedBy | grep -qx multi-user.target
'

test_expect_success 'watch and sample: settings from /etc/default/clawss, the right command' '
	for u in clawss-watch.service clawss-sample.service clawss-prune.service; do
		key $u EnvironmentFile | grep -qx -- -/etc/default/clawss || return 1
	done &&
	key clawss-watch.service ExecStart | grep -qx "$BINDIR/clawss watch \$CLAWSS_WATCH_ARGS" &&
	key clawss-watch.service Type | grep -qx exec &&
	key clawss-watch.service Restart | grep -qx on-failure &&
	key clawss-sample.service ExecStart | grep -qx "$BINDIR/clawss -q sample \$CLAWSS_SAMPLE_ARGS" &&
	key clawss-sample.service Type | grep -qx oneshot &&
	key clawss-prune.service ExecStart | grep -qx "$BINDIR/clawss prune --older-than \${CLAWSS_RETAIN}"
'

test_expect_success 'watch and sample are hardened, and keep what setns and /proc need' '
	for u in clawss-watch.service clawss-sample.service; do
		key $u NoNewPrivileges | grep -qx yes &&
		key $u RestrictNamespaces | grep -qx net &&
		key $u ProtectSystem | grep -qx strict &&
		key $u StateDirectory | grep -qx clawss &&
		key $u StateDirectoryMode | grep -qx 0700 &&
		key $u ProtectHome | grep -qx yes &&
		key $u PrivateTmp | grep -qx yes &&
		key $u RestrictAddressFamilies | grep -qx "AF_UNIX AF_NETLINK" &&
		key $u Environment | grep -qx CLAWSS_DB=/var/lib/clawss/clawss.db &&
		test -z "$(key $u ProtectProc)" &&
		test -z "$(key $u ProcSubset)" &&
		test -z "$(key $u PrivateNetwork)" &&
		test -z "$(key $u PrivateUsers)" || { echo "in $u" >&2; return 1; }
	done
'

test_expect_success 'each capability of the bounding set has its comment, and no other is there' '
	for u in clawss-watch.service clawss-sample.service; do
		caps=$(key $u CapabilityBoundingSet) &&
		test "$(echo $caps | tr " " "\n" | sort | tr "\n" " ")" = \
			"CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE " &&
		for c in $caps; do
			grep -q "^#  *$c  " "$U/$u" || { echo "$u: no comment for $c" >&2; return 1; }
		done || return 1
	done &&
	test -z "$(key clawss-prune.service CapabilityBoundingSet)" &&
	key clawss-prune.service PrivateNetwork | grep -qx yes
'

test_expect_success 'the env file documents every variable the units read' '
	for v in CLAWSS_WATCH_ARGS CLAWSS_SAMPLE_ARGS CLAWSS_RETAIN CLAWSS_DB; do
		grep -q "^#$v=" root/etc/default/clawss || return 1
	done &&
	# as shipped it changes nothing: every setting is commented out
	! grep -v "^#" root/etc/default/clawss | grep -q .
'

# ---- The command lines, run as systemd would run them -----------------------------------
# There is no systemd as PID 1 here, so systemd-run cannot start the units. What is
# emulated: the Environment= and EnvironmentFile= expansion of ExecStart, the capability
# bounding set and NoNewPrivileges (setpriv), and in a mount namespace of its own
# ProtectSystem=strict (/ and /run read-only), ProtectHome=yes and PrivateTmp=yes, with
# the state directory writable. Not emulated: the seccomp filters (SystemCallFilter=,
# RestrictNamespaces=, RestrictAddressFamilies=) and IPAddressDeny=.
cat >cmdline.py <<\EOF
import re, shlex, sys
unit, envfile = sys.argv[1], sys.argv[2]
drop = set(sys.argv[3:])
env, caps, execstart, section = {}, [], None, None
def assign(text):
    k, _, v = text.partition("=")
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        v = v[1:-1]
    env[k.strip()] = v
for line in open(unit):
    line = line.strip()
    if not line or line[0] in "#;":
        continue
    if line.startswith("["):
        continue
    k, _, v = line.partition("=")
    if k == "Environment":
        for word in shlex.split(v):
            assign(word)
    elif k == "EnvironmentFile":
        for l in open(envfile):
            l = l.strip()
            if l and l[0] not in "#;":
                assign(l)
    elif k == "CapabilityBoundingSet":
        caps = [c for c in v.split() if c not in drop]
    elif k == "ExecStart":
        execstart = v
argv = []
for word in execstart.split():
    m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
    if m:
        argv += env.get(m.group(1), "").split()
        continue
    argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word))
bset = "-all" + "".join(",+" + c[4:].lower() for c in caps)
print("export " + " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in env.items()))
print("exec setpriv --no-new-privs --inh-caps=-all --bounding-set=%s -- %s" %
      (bset, " ".join(shlex.quote(a) for a in argv)))
EOF

if test "$(id -u)" = 0; then
	# as root these run: a missing tool fails (lib-need.sh)
	need ip:iproute2 setpriv:util-linux unshare:util-linux sqlite3
	setpriv --help 2>&1 | grep -q -- --bounding-set && test_set_prereq UNITRUN
	test_expect_success 'setpriv has --bounding-set' 'test_have_prereq UNITRUN'
fi

# as_unit UNIT ENVFILE [CAP_TO_DROP...]: run the unit's command line as described above
as_unit() {
	python3 cmdline.py "$U/$1" "$2" $3 >run.sh &&
	BINDIR=$BINDIR STATE=$SHARNESS_TRASH_DIRECTORY/state TRASH=$SHARNESS_TRASH_DIRECTORY \
	unshare --mount --propagation private sh -c '
		mount --bind "$STATE" "$STATE" || exit 1
		findmnt -rno TARGET | while read -r m; do
			case $m in
			/proc | /proc/* | /sys | /sys/* | /dev | /dev/* | "$STATE") ;;
			*) mount -o remount,bind,ro "$m" 2>/dev/null ;;
			esac
		done
		for d in /home /root /tmp /var/tmp; do
			case $BINDIR/ in
			$d/*) continue ;;   # a test build under /tmp: keep it reachable
			esac
			case $TRASH/ in
			$d/*) continue ;;   # a clone under /tmp (as CI may make): the same
			esac
			test -d $d && mount -t tmpfs -o mode=0700 none $d
		done
		. ./run.sh' 2>&1
}

NS=clawss-$$-unit
unit_cleanup() {
	test -n "$HOLDER" && kill "$HOLDER" 2>/dev/null
	ip netns del $NS 2>/dev/null
}
trap unit_cleanup EXIT

test_expect_success UNITRUN 'setup: a namespace with a connection held by another user' '
	mkdir -p state &&
	ip netns add $NS && ip -n $NS link set lo up &&
	ip netns exec $NS setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "
import socket, time
s = socket.socket(); s.bind((\"127.0.0.1\", 7000)); s.listen()
c = socket.create_connection((\"127.0.0.1\", 7000)); a, _ = s.accept()
print(\"holding\", flush=True)
time.sleep(120)" >holder.out &
	HOLDER=$! &&
	for i in $(seq 50); do grep -q holding holder.out && break; sleep 0.1; done &&
	grep -q holding holder.out &&
	PID=$(ip netns pids $NS | head -n 1) &&
	test "$(stat -c %u /proc/$PID)" = 65534 &&
	echo $PID >pid
'

test_expect_success UNITRUN 'clawss-sample.service command line records it, owner included' '
	cat >env <<-EOF &&
	CLAWSS_DB=$PWD/state/clawss.db
	CLAWSS_SAMPLE_ARGS="$NS"
	EOF
	as_unit clawss-sample.service env >out || { cat out; return 1; }
	test "$(sqlite3 state/clawss.db "SELECT count(*) FROM sockets WHERE remote_port = 7000 AND pid = $(cat pid) AND comm = '\''python3'\''")" = 1
'

test_expect_success UNITRUN 'clawss-watch.service command line: a pid: target of another user, --retain' '
	cat >env <<-EOF &&
	CLAWSS_DB=$PWD/state/clawss.db
	CLAWSS_WATCH_ARGS="--for 1s --interval 200ms --retain 720h pid:$(cat pid)"
	EOF
	as_unit clawss-watch.service env >out || { cat out; return 1; }
	grep -q "watching pid:$(cat pid)" out &&
	test "$(sqlite3 state/clawss.db "SELECT count(*) FROM containers WHERE name = '\''pid:$(cat pid)'\''")" = 1
'

test_expect_success UNITRUN 'the emulation enforces the set: without CAP_SYS_PTRACE the pid: target fails' '
	! as_unit clawss-watch.service env CAP_SYS_PTRACE >out &&
	grep -q "Permission denied" out
'

test_expect_success UNITRUN 'the emulation enforces ProtectSystem=strict: a database outside the state directory fails' '
	cat >env-ro <<-EOF &&
	CLAWSS_DB=$PWD/elsewhere/clawss.db
	CLAWSS_SAMPLE_ARGS="$NS"
	EOF
	! as_unit clawss-sample.service env-ro >out &&
	grep -q "Read-only file system" out &&
	test ! -e elsewhere
'

test_expect_success UNITRUN 'clawss-prune.service command line, with no capability at all' '
	cat >env <<-EOF &&
	CLAWSS_DB=$PWD/state/clawss.db
	CLAWSS_RETAIN=1h
	EOF
	as_unit clawss-prune.service env >out || { cat out; return 1; }
	grep -q "^pruned 0 sockets" out
'

test_done
