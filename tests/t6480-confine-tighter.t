#!/bin/sh
test_description='confinement: no fchmod for any role, and a watcher confined before it scans (engine lists, --all)'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers
'

# clawss runs as uid 0, which owns root's files: fchmod needs no capability there.
# Before: fchmod was on every role's list, and the probe made the file 0666.
test_expect_success 'a confined reader or watcher cannot fchmod a file of root' '
	: >victim && chmod 0600 victim &&
	CLAWSS_TEST_SECCOMP_PROBE=fchmod:$PWD/victim "$CLAWSS" containers >/dev/null 2>err;
	cat err &&
	grep -q "^clawss: containers: seccomp probe fchmod:$PWD/victim: refused (Operation not permitted)\$" err &&
	CLAWSS_TEST_SECCOMP_PROBE=fchmod:$PWD/victim "$CLAWSS" watch --for 300ms $NS_TOOL 2>err;
	cat err &&
	grep -q "^clawss: watch: seccomp probe fchmod:$PWD/victim: refused (Operation not permitted)\$" err &&
	test "$(stat -c %a victim)" = 600
'

test_expect_success 'without fchmod, a new database and its -wal and -shm are still written' '
	db_reset &&
	"$CLAWSS" watch --for 1s --interval 100ms $NS_TOOL &&
	test "$(sql "PRAGMA integrity_check")" = ok &&
	test "$(sql "SELECT count(*) FROM containers")" = 1
'

# The probe runs the moment the filter is in place. Before: the --all scan entered every
# namespace (and an engine's list was parsed) first, and "watching" came before it.
test_expect_success '--all: confined before the scan that enters the namespaces there are' '
	db_reset &&
	cat >scan.sh <<-EOF &&
	mount --make-rprivate /
	touch toolns
	mount --bind /run/netns/$NS_TOOL "$PWD/toolns"
	mount -t tmpfs clawss-test /run/netns
	nsenter --net="$PWD/toolns" sleep 30 &
	S=\$!
	CLAWSS_TEST_SECCOMP_PROBE=unlisted "$CLAWSS" -v sample --all 2>scan.err
	echo "rc=\$?" >scan.rc
	kill \$S
	EOF
	timeout -s KILL 60 unshare --pid --fork --mount-proc --mount sh scan.sh &&
	cat scan.rc scan.err &&
	grep -qx "rc=0" scan.rc &&
	grep -n "seccomp probe unlisted: refused\|watching pid:" scan.err >order &&
	test "$(wc -l <order)" = 2 &&
	sed -n 1p order | grep -q "seccomp probe unlisted: refused" &&
	sed -n 2p order | grep -q "watching pid:" &&
	test "$(sql "SELECT count(*) FROM containers")" = 1
'

test_done
