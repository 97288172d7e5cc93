#!/bin/sh
test_description='targets: a FIFO or a symlink as a namespace file, /proc/PID/ns/net, the host namespace by any route, --all keyed by inode'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

# db_has QUERY: the database answers QUERY with a non-zero, non-empty value
db_has() {
	v=$(sqlite3 "$CLAWSS_DB" "$1" 2>/dev/null) && test -n "$v" && test "$v" != 0
}

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers &&
	bg_ns $NS_TOOL sleep 300 &&
	TOOLPID=$BG &&
	INO_TOOL=$(ip netns exec $NS_TOOL stat -L -c %i /proc/self/ns/net)
'

# Before: open(2) of a FIFO blocks until a writer comes; timeout says 124.
test_expect_success 'netns:FIFO is refused at once, never waited on' '
	mkfifo fifo &&
	test_expect_code 2 timeout -s KILL 20 "$CLAWSS" --db "$PWD/fifo.db" sample "netns:$PWD/fifo" 2>err &&
	cat err &&
	test "$(lines err)" = 1 &&
	grep -q "^clawss: $PWD/fifo: not a network namespace\$" err &&
	test ! -e fifo.db
'

test_expect_success 'a FIFO planted in /run/netns: refused by name, and --all does not hang on it' '
	cat >fifo.sh <<-EOF &&
	set -e
	mount --make-rprivate /
	mount -t tmpfs clawss-test /run/netns
	mkfifo /run/netns/trap
	touch /run/netns/real
	mount --bind /proc/$TOOLPID/ns/net /run/netns/real
	if timeout -s KILL 20 "$CLAWSS" --db "$PWD/trap.db" sample trap 2>trap.err; then exit 1; fi
	timeout -s KILL 20 "$CLAWSS" --db "$PWD/fifo-all.db" sample --all 2>all.err
	EOF
	unshare --mount sh fifo.sh &&
	grep -q "^clawss: /run/netns/trap: not a network namespace\$" trap.err &&
	test "$(sqlite3 fifo-all.db "SELECT name FROM containers WHERE netns_ino = $INO_TOOL")" = real
'

test_expect_success 'netns:/run/netns/NAME that is a symbolic link is refused, as NAME is' '
	cat >link.sh <<-EOF &&
	set -e
	mount --make-rprivate /
	mount -t tmpfs clawss-test /run/netns
	ln -s /proc/$TOOLPID/ns/net /run/netns/evil
	if "$CLAWSS" --db "$PWD/evil.db" sample netns:/run/netns/evil 2>evil.err; then exit 1; fi
	EOF
	unshare --mount sh link.sh &&
	test "$(lines evil.err)" = 1 &&
	grep -q "^clawss: /run/netns/evil: refusing a symbolic link\$" evil.err &&
	test ! -e evil.db
'

test_expect_success 'netns:/proc/PID/ns/net (a symbolic link, by design) is watched until PID ends' '
	db_reset &&
	bg_ns $NS_TOOL sleep 300 &&
	P=$BG &&
	bg "$CLAWSS" watch --interval 100ms "netns:/proc/$P/ns/net" &&
	W=$BG &&
	wait_for 10 db_has "SELECT count(*) FROM containers" &&
	in_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 1 --for 1 --port 9003 >hold.out &&
	wait_for 10 db_has "SELECT count(*) FROM sockets WHERE remote_port = 9003" &&
	kill -0 $W &&
	test "$(sql "SELECT netns_ino = $INO_TOOL AND ended IS NULL FROM containers")" = 1 &&
	kill $P &&
	wait_for 20 sh -c "! kill -0 $W 2>/dev/null" &&
	wait $W &&
	test "$(sql "SELECT ended IS NOT NULL FROM containers")" = 1
'

test_expect_success 'the host namespace is refused by any route: pid:N, netns:PATH, a /run/netns name' '
	sleep 300 &
	HP=$! &&
	BG_PIDS="$BG_PIDS $HP" &&
	specs="pid:$HP netns:/proc/self/ns/net" &&
	# pid 1 may be out of reach (a sandbox around the tests); where it is not, it is
	# the host
	if stat -L /proc/1/ns/net >/dev/null 2>&1; then
		specs="$specs pid:1 netns:/proc/1/ns/net"
	fi &&
	for spec in $specs; do
		test_expect_code 2 "$CLAWSS" --db "$PWD/host.db" sample $spec 2>host.err &&
		cat host.err &&
		test "$(lines host.err)" = 1 &&
		grep -q "^clawss: $spec: shares the host.s network namespace: nothing to watch apart from the host\$" host.err &&
		test ! -e host.db || return 1
	done &&
	cat >hostname.sh <<-EOF &&
	set -e
	mount --make-rprivate /
	mount -t tmpfs clawss-test /run/netns
	touch /run/netns/hostnet
	mount --bind /proc/self/ns/net /run/netns/hostnet
	if "$CLAWSS" --db "$PWD/host.db" sample hostnet 2>hostname.err; then exit 1; fi
	EOF
	unshare --mount sh hostname.sh &&
	grep -q "^clawss: hostnet: shares the host.s network namespace" hostname.err &&
	test ! -e host.db &&
	kill $HP
'

# In a private pid namespace (only this test's processes are in /proc) and with a
# private /run/netns: --all sees the namespace only through its processes.
test_expect_success '--all keys a namespace by inode: it outlives its lowest pid' '
	db_reset &&
	cat >all.sh <<-EOF &&
	mount --make-rprivate /
	touch toolns
	mount --bind /run/netns/$NS_TOOL "$PWD/toolns"
	mount -t tmpfs clawss-test /run/netns
	nsenter --net="$PWD/toolns" sleep 300 &
	A=\$!
	"$CLAWSS" -v watch --all --interval 100ms 2>all.err &
	W=\$!
	i=0
	until grep -q "watching pid:\$A " all.err; do
		i=\$((i + 1)); test \$i -lt 200 || exit 3; sleep 0.1
	done
	nsenter --net="$PWD/toolns" sleep 300 &
	B=\$!
	test \$A -lt \$B || exit 4
	# B is in the namespace only once nsenter has entered it: wait for that
	i=0
	until test "\$(stat -L -c %i /proc/\$B/ns/net)" = "$INO_TOOL"; do
		i=\$((i + 1)); test \$i -lt 200 || exit 7; sleep 0.05
	done
	kill \$A; wait \$A
	# either the namespace is kept (the fix) or it ends and comes back as pid:B
	i=0
	until grep -q "kept through pid \$B\\|pid:\$B" all.err; do
		i=\$((i + 1)); test \$i -lt 200 || exit 5; sleep 0.1
	done
	echo "A=\$A B=\$B" >all.pids
	sqlite3 "$CLAWSS_DB" "SELECT name, ended IS NULL FROM containers WHERE netns_ino = $INO_TOOL" >all.rows
	kill \$B; wait \$B
	i=0
	until test "\$(sqlite3 "$CLAWSS_DB" "SELECT count(*) FROM containers WHERE netns_ino = $INO_TOOL AND ended IS NOT NULL")" = 1; do
		i=\$((i + 1)); test \$i -lt 200 || exit 6; sleep 0.1
	done
	kill -TERM \$W; wait \$W
	EOF
	timeout 120 unshare --pid --fork --mount-proc --mount sh all.sh &&
	cat all.pids all.rows &&
	A=$(sed -n "s/^A=\([0-9]*\) .*/\1/p" all.pids) &&
	echo "pid:$A|1" >want &&
	test_cmp want all.rows &&
	test "$(sql "SELECT count(*) FROM containers WHERE netns_ino = $INO_TOOL")" = 1
'

test_done
