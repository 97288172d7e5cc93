#!/bin/sh
test_description='clawss confines itself: capabilities, no_new_privs, seccomp, Landlock'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

# status_field PID FIELD: a field of /proc/PID/status, e.g. CapEff
status_field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# status_is PID FIELD VALUE
status_is() {
	test "$(status_field "$1" "$2" 2>/dev/null)" = "$3"
}

# db_has QUERY: the database answers QUERY with a non-zero, non-empty value
db_has() {
	v=$(sqlite3 "$CLAWSS_DB" "$1" 2>/dev/null) && test -n "$v" && test "$v" != 0
}

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers
'

test_expect_success 'a running watcher: Seccomp 2, NoNewPrivs 1, only SYS_PTRACE and DAC_READ_SEARCH (--no-flows)' '
	db_reset &&
	bg "$CLAWSS" watch --no-flows --interval 200ms $NS_TOOL &&
	W=$BG &&
	wait_for 10 db_has "SELECT count(*) FROM containers" &&
	# the filter is the last step of confinement: once it is there, so is the rest
	wait_for 20 status_is $W Seccomp 2 &&
	test "$(status_field $W NoNewPrivs)" = 1 &&
	# CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19): 1<<2 | 1<<19
	test "$(status_field $W CapEff)" = 0000000000080004 &&
	test "$(status_field $W CapPrm)" = 0000000000080004 &&
	test "$(status_field $W CapInh)" = 0000000000000000 &&
	test "$(status_field $W CapAmb)" = 0000000000000000 &&
	test "$(status_field $W CapBnd)" = 0000000000000000 &&
	kill -TERM $W && wait $W
'

test_expect_success 'with its flow view (the default) a watcher keeps CAP_NET_ADMIN (12) too' '
	db_reset &&
	bg "$CLAWSS" watch --interval 200ms $NS_TOOL &&
	W=$BG &&
	wait_for 10 db_has "SELECT count(*) FROM containers" &&
	test "$(status_field $W Seccomp)" = 2 &&
	test "$(status_field $W CapEff)" = 0000000000081004 &&
	test "$(status_field $W CapPrm)" = 0000000000081004 &&
	test "$(status_field $W CapBnd)" = 0000000000000000 &&
	kill -TERM $W && wait $W
'

test_expect_success 'the confined watcher still records sockets and their owners' '
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 2 --for 30 --port 9005 --comm held-conn >hold.out &&
	HOLD=$BG &&
	wait_for 10 grep -q holding hold.out &&
	bg "$CLAWSS" watch --interval 200ms $NS_TOOL &&
	W=$BG &&
	wait_for 10 db_has "SELECT count(*) FROM sockets WHERE remote_port = 9005 AND comm = '\''held-conn'\'' AND pid = $HOLD" &&
	kill -TERM $W && wait $W && kill $HOLD
'

test_expect_success 'watch --all keeps SYS_ADMIN and NET_ADMIN too, and enters a namespace made later' '
	db_reset &&
	# --no-flows: a test must not add tables to the other namespaces on this host
	bg "$CLAWSS" watch --all --no-flows --interval 200ms &&
	W=$BG &&
	wait_for 10 db_has "SELECT count(*) FROM containers" &&
	wait_for 20 status_is $W Seccomp 2 &&
	test "$(status_field $W NoNewPrivs)" = 1 &&
	# + CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21)
	test "$(status_field $W CapEff)" = 0000000000281004 &&
	ip netns add clawss-$$-late &&
	ip -n clawss-$$-late link set lo up &&
	bg_ns clawss-$$-late $TRAFFIC listen 127.0.0.1 7171 --for 120 >late-l.out &&
	wait_for 10 grep -q listening late-l.out &&
	# a process of another user: its owner is found with SYS_PTRACE + DAC_READ_SEARCH
	# (the system python: a per-user python under /root is not nobody'\''s to run)
	# the tree may sit in a directory nobody cannot enter (a mktemp -d clone): give it a
	# copy of its own
	PUB=$(mktemp -d) && chmod 0755 "$PUB" &&
	cp "$CLAWSS_SRC/tests/helpers/traffic.py" "$PUB/" && chmod 0644 "$PUB/traffic.py" &&
	bg_ns clawss-$$-late setpriv --reuid 65534 --regid 65534 --clear-groups \
		/usr/bin/python3 "$PUB/traffic.py" connect 127.0.0.1 7171 1 \
		--for 120 --comm nobody-conn >late-c.out &&
	NOBODY=$BG &&
	wait_for 10 grep -q holding late-c.out &&
	wait_for 60 db_has "SELECT count(*) FROM sockets s JOIN containers c ON c.id = s.container_id WHERE c.name = '\''clawss-$$-late'\'' AND s.remote_port = 7171 AND s.comm = '\''nobody-conn'\'' AND s.pid = $NOBODY" &&
	kill -TERM $W && wait $W &&
	# (its --for may have run out on a busy host: cleanup, not an assertion)
	{ kill $NOBODY 2>/dev/null || :; } && rm -rf "$PUB"
'

test_expect_success 'a reader holds no capability and is confined before it reads a file' '
	mkfifo allow.fifo &&
	"$CLAWSS" report --allow allow.fifo >fifo.out 2>&1 &
	R=$! &&
	# blocked opening the FIFO: confined already (first thing), nothing read yet
	wait_for 10 status_is $R Seccomp 2 &&
	test "$(status_field $R NoNewPrivs)" = 1 &&
	test "$(status_field $R CapEff)" = 0000000000000000 &&
	test "$(status_field $R CapPrm)" = 0000000000000000 &&
	test "$(status_field $R CapBnd)" = 0000000000000000 &&
	echo "192.0.2.2" >allow.fifo &&
	wait $R; test $? -le 1
'

# (a sanitizer build lets ptrace through for LeakSanitizer: confine-list says what is
# fatal, and a probe it does not list shows as a skip; a helper that fails is a failure)
test_expect_success 'confine-list names the fatal calls' '
	"$CLAWSS_HELPERS/confine-list" fatal >fatal.list &&
	grep -qx execve fatal.list
'
for probe in execve ptrace mount open_by_handle_at; do
	P=FATAL_$(echo $probe | tr a-z A-Z)
	grep -qx $probe fatal.list 2>/dev/null && test_set_prereq $P
	test_expect_success $P "a watcher attempting $probe is killed (SIGSYS), the database intact" "
		test_expect_code 159 env CLAWSS_TEST_SECCOMP_PROBE=$probe \"\$CLAWSS\" watch --for 5s \$NS_TOOL &&
		test \"\$(sql 'PRAGMA integrity_check')\" = ok
	"
done

test_expect_success 'a reader attempting execve is killed (SIGSYS)' '
	test_expect_code 159 env CLAWSS_TEST_SECCOMP_PROBE=execve "$CLAWSS" report
'

test_expect_success 'calls off the list fail with EPERM and the watcher goes on' '
	for p in socket-inet unlisted; do
		CLAWSS_TEST_SECCOMP_PROBE=$p "$CLAWSS" watch --for 300ms $NS_TOOL 2>err || return 1
		grep -q "^clawss: watch: seccomp probe $p: refused (Operation not permitted)\$" err || return 1
		CLAWSS_TEST_SECCOMP_PROBE=$p "$CLAWSS" containers >/dev/null 2>err || return 1
		grep -q "^clawss: containers: seccomp probe $p: refused" err || return 1
	done
'

# the log names pids as the initial pid namespace sees them (pid 2 is kthreadd there)
test "$(uname -m)" = x86_64 && dmesg >/dev/null 2>&1 &&
	test "$(cat /proc/2/comm 2>/dev/null)" = kthreadd && test_set_prereq KLOG
test_expect_success KLOG 'the kernel logs a refused call (audit type 1326, with its number)' '
	CLAWSS_TEST_SECCOMP_PROBE=unlisted "$CLAWSS" containers >/dev/null 2>&1 &
	P=$! && wait $P &&
	# sched_getscheduler is system call 145 on x86_64
	wait_for 5 sh -c "dmesg | grep \"type=1326\" | grep \"pid=$P \" | grep -q \"syscall=145 \""
'

python3 -c "import ctypes; exit(0 if ctypes.CDLL(None).syscall(444, None, 0, 1) >= 1 else 1)" 2>/dev/null &&
	test_set_prereq LANDLOCK
test_expect_success LANDLOCK 'a reader (uid 0, no capability) cannot create files outside its database directory' '
	mkdir -p dbdir &&
	cp "$CLAWSS_DB" dbdir/x.db &&
	# somewhere writable by root that is neither beside the database nor a temporary
	# directory SQLite may use (this test may itself run under /tmp)
	ELSEWHERE=$(mktemp -d /dev/shm/clawss-t6000.XXXXXX) &&
	CLAWSS_TEST_SECCOMP_PROBE=write:$ELSEWHERE/probe "$CLAWSS" --db "$PWD/dbdir/x.db" report >/dev/null 2>err
	rc=$?
	test ! -e "$ELSEWHERE/probe" && rmdir "$ELSEWHERE" &&
	test $rc -le 1 &&
	grep -q "refused (Permission denied)" err &&
	# the probe does work where writing is allowed: beside the database
	test_expect_code 2 env "CLAWSS_TEST_SECCOMP_PROBE=write:$PWD/dbdir/probe" "$CLAWSS" --db "$PWD/dbdir/x.db" report 2>err &&
	grep -q "was not refused" err
'

test_expect_success 'clawss(8) lists every system call the filters allow and every fatal one' '
	for role in reader watcher watcher+ns watcher+engine fatal; do
		"$CLAWSS_HELPERS/confine-list" $role >calls || return 1
		test -s calls || return 1
		while read -r c; do
			grep -q "\\b$c\\b" "$CLAWSS_SRC/man/clawss.8" || { echo "missing: $c"; return 1; }
		done <calls
	done
'

test_done
