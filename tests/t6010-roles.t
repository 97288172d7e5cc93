#!/bin/sh
test_description='each role confined as documented: sample, every reader command (seccomp,
capabilities, Landlock), --follow over /run/netns names, and --all without CAP_SYS_ADMIN'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"
need setpriv:util-linux

. "$CLAWSS_SRC/tests/lib-confine.sh"

test_expect_success 'setup: two namespaces joined by veth, servers in ext, a held connection' '
	netns_setup && ext_servers &&
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 2 --for 120 --port 9004 >hold.out &&
	wait_for 20 grep -q holding hold.out
'

test_expect_success 'the stop probe is seen to work: a stopped process is seen stopped (control)' '
	sleep 30 & P=$! &&
	kill -STOP $P && wait_for 10 stopped $P &&
	kill -CONT $P && ! stopped $P &&
	kill $P
'

test_expect_success 'sample, once confined: Seccomp 2, no_new_privs, only SYS_PTRACE and DAC_READ_SEARCH' '
	db_reset &&
	CLAWSS_TEST_SECCOMP_PROBE=stop "$CLAWSS" sample $NS_TOOL &
	S=$! &&
	confined $S 0000000000080004 &&
	wait $S &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9004")" = 2
'

# sample --all confines itself before its scan (what the engine lists is parsed
# confined), so it keeps what entering a namespace needs: + NET_ADMIN (12), SYS_ADMIN (21)
test_expect_success 'sample --all: confined before its scan, with what entering needs' '
	CLAWSS_TEST_SECCOMP_PROBE=stop "$CLAWSS" sample --all &
	S=$! &&
	confined $S 0000000000281004 &&
	wait $S
'

test_expect_success 'sample refuses the fatal and the unlisted calls once confined' '
	test_expect_code 159 env CLAWSS_TEST_SECCOMP_PROBE=execve "$CLAWSS" sample $NS_TOOL &&
	CLAWSS_TEST_SECCOMP_PROBE=socket-inet "$CLAWSS" sample $NS_TOOL 2>err &&
	grep -q "^clawss: sample: seccomp probe socket-inet: refused (Operation not permitted)\$" err
'

# every command that only reads the database (and prune, which edits only it)
READERS="report containers policy export prune"
reader_args() {
	case $1 in
	prune) echo "prune --older-than 720h" ;;
	policy) echo "policy --container $NS_TOOL" ;;
	*) echo "$1" ;;
	esac
}

for cmd in $READERS; do
	test_expect_success "$cmd, once confined: Seccomp 2, no capability at all" "
		CLAWSS_TEST_SECCOMP_PROBE=stop \"\$CLAWSS\" \$(reader_args $cmd) >/dev/null &
		R=\$! &&
		confined \$R 0000000000000000 &&
		{ wait \$R; test \$? -le 1; }
	"
done

python3 -c "import ctypes; exit(0 if ctypes.CDLL(None).syscall(444, None, 0, 1) >= 1 else 1)" 2>/dev/null &&
	test_set_prereq LANDLOCK
for cmd in $READERS; do
	test_expect_success LANDLOCK "$cmd (Landlock): no file can be made outside its database directory" "
		mkdir -p dbdir &&
		cp \"\$CLAWSS_DB\" dbdir/x.db &&
		ELSEWHERE=\$(mktemp -d /dev/shm/clawss-t6010.XXXXXX) &&
		CLAWSS_TEST_SECCOMP_PROBE=write:\$ELSEWHERE/probe \"\$CLAWSS\" --db \"\$PWD/dbdir/x.db\" \$(reader_args $cmd) >/dev/null 2>err
		rc=\$?
		test ! -e \"\$ELSEWHERE/probe\" && rmdir \"\$ELSEWHERE\" &&
		test \$rc -le 1 &&
		grep -q 'refused (Permission denied)' err &&
		# the control: beside the database the same probe is not refused
		test_expect_code 2 env \"CLAWSS_TEST_SECCOMP_PROBE=write:\$PWD/dbdir/probe\" \"\$CLAWSS\" --db \"\$PWD/dbdir/x.db\" \$(reader_args $cmd) >/dev/null 2>err &&
		grep -q 'was not refused' err
	"
done

test_expect_success '--follow picks up a /run/netns name that matches, made after it started' '
	db_reset &&
	bg env -u DOCKER_HOST "$CLAWSS" watch --interval 200ms --follow "clawss-$$-fol-*" 2>follow.err &&
	W=$BG &&
	# confined: its first scan is done, so what follows is new to it
	wait_for 30 sh -c "grep -q \"^Seccomp:[[:space:]]*2\" /proc/$W/status" &&
	ip netns add clawss-$$-other &&
	ip netns add clawss-$$-fol-1 &&
	ip -n clawss-$$-fol-1 link set lo up &&
	bg_ns clawss-$$-fol-1 $TRAFFIC listen 127.0.0.1 7272 --for 60 >fol-l.out &&
	wait_for 20 grep -q listening fol-l.out &&
	bg_ns clawss-$$-fol-1 $TRAFFIC connect 127.0.0.1 7272 1 --for 60 >fol-c.out &&
	wait_for 20 grep -q holding fol-c.out &&
	wait_for 30 grep -q "watching clawss-$$-fol-1" follow.err &&
	wait_for 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets s JOIN containers c ON c.id = s.container_id WHERE c.name = '\''clawss-$$-fol-1'\'' AND s.remote_port = 7272\" 2>/dev/null)\" = 1" &&
	! grep -q "watching clawss-$$-other" follow.err &&
	kill -TERM $W && wait $W
'

# As a unit drop-in without CAP_SYS_ADMIN would run it (tests/systemd/boot.t does that
# under systemd itself)
without_sys_admin() {
	setpriv --bounding-set=-all,+sys_ptrace,+dac_read_search,+net_admin --inh-caps=-all \
		--no-new-privs -- "$@"
}

test_expect_success 'watch --all and sample --all without CAP_SYS_ADMIN: exit 2, saying why' '
	test_expect_code 2 without_sys_admin "$CLAWSS" watch --all --interval 200ms 2>err &&
	grep -q "entering its network namespace: Operation not permitted" err &&
	tail -n 1 err | grep -q "^clawss: watch: [0-9]* namespaces\{0,1\} could not be entered: Operation not permitted (clawss watch needs root)\$" &&
	test_expect_code 2 without_sys_admin "$CLAWSS" sample --all 2>err &&
	tail -n 1 err | grep -q "^clawss: sample: [0-9]* namespaces\{0,1\} could not be entered" &&
	# the control: with it, the same commands work
	"$CLAWSS" sample --all &&
	"$CLAWSS" watch --all --interval 200ms --for 300ms
'

test_done
