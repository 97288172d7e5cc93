#!/bin/sh
test_description='data safety: SIGKILL during churn, full disk, read-only directory, foreign files, report during watch'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

HOSTILE="python3 $CLAWSS_SRC/tests/helpers/hostile.py"

# db_has QUERY: the database answers QUERY with a non-zero, non-empty value
db_has() {
	v=$(sqlite3 "$CLAWSS_DB" "$1" 2>/dev/null) && test -n "$v" && test "$v" != 0
}

# one_line_exit2 FILE: FILE (a command's stderr) is exactly one line "clawss: ..."
one_line_exit2() {
	test "$(lines "$1")" = 1 && grep -q "^clawss: " "$1"
}

test_expect_success 'setup: two namespaces joined by veth, servers in ext, churn in tool' '
	netns_setup && ext_servers &&
	bg_ns $NS_TOOL $HOSTILE churn 192.0.2.2 9009 >churn.out &&
	wait_for 10 grep -q churning churn.out
'

test_expect_success 'SIGKILL at 20 random moments of heavy churn: the database stays whole, nothing committed is lost' '
	db_reset &&
	: >kills.txt &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		"$CLAWSS" -q watch --interval 50ms $NS_TOOL &
		W=$!
		# a random moment: 0.2 to 1.4 s in, polls and commits every 50 ms
		sleep $(python3 -c "import random; print(round(random.uniform(0.2, 1.4), 3))")
		before=$(sqlite3 "$CLAWSS_DB" "SELECT count(*) FROM sockets" 2>/dev/null || echo 0)
		kill -KILL $W
		wait $W
		test "$(sqlite3 "$CLAWSS_DB" "PRAGMA integrity_check")" = ok || return 1
		after=$(sqlite3 "$CLAWSS_DB" "SELECT count(*) FROM sockets") || return 1
		echo "kill $i: $before rows committed before, $after after" >>kills.txt
		test "$after" -ge "$before" || return 1
		"$CLAWSS" report --format json >report.json
		test $? -le 1 || return 1
		python3 -c "import json; json.load(open(\"report.json\"))" || return 1
	done &&
	cat kills.txt &&
	# the data grew over the runs, and a watch after the last kill works as ever
	test "$(sql "SELECT count(*) FROM sockets")" -gt 100 &&
	"$CLAWSS" -q watch --interval 50ms --for 500ms $NS_TOOL &&
	test "$(sql "PRAGMA integrity_check")" = ok
'

test_expect_success 'report and containers run while watch writes' '
	bg "$CLAWSS" -q watch --interval 50ms $NS_TOOL &&
	W=$BG &&
	for i in $(seq 1 30); do
		"$CLAWSS" report --format json >r.json
		test $? -le 1 || return 1
		python3 -c "import json; json.load(open(\"r.json\"))" || return 1
		"$CLAWSS" containers --format json >c.json || return 1
		python3 -c "import json; json.load(open(\"c.json\"))" || return 1
	done &&
	kill -TERM $W && wait $W
'

test_expect_success 'the database, its -wal and -shm are 0600 under umask 022' '
	mkdir modes &&
	umask 022 &&
	bg "$CLAWSS" -q --db modes/x.db watch --interval 100ms $NS_TOOL &&
	W=$BG &&
	wait_for 20 test -e modes/x.db-shm &&
	wait_for 20 test -e modes/x.db-wal &&
	kill -TERM $W && wait $W &&
	test "$(stat -c %a modes/x.db)" = 600 &&
	bg "$CLAWSS" -q --db modes/x.db watch --interval 100ms $NS_TOOL &&
	W=$BG &&
	wait_for 20 test -e modes/x.db-wal &&
	test "$(stat -c %a modes/x.db-wal)" = 600 &&
	test "$(stat -c %a modes/x.db-shm)" = 600 &&
	kill -TERM $W && wait $W
'

test_expect_success 'a database that is a symbolic link, or in a directory others can write, is refused' '
	ln -s modes/x.db link.db &&
	cp modes/x.db modes/copy.db &&
	test_expect_code 2 "$CLAWSS" --db link.db sample $NS_TOOL 2>err &&
	one_line_exit2 err && grep -q "link.db: is a symbolic link: refused" err &&
	test_expect_code 2 "$CLAWSS" --db link.db report 2>err &&
	grep -q "is a symbolic link" err &&
	cmp modes/x.db modes/copy.db &&
	mkdir shared && chmod 1777 shared &&
	test_expect_code 2 "$CLAWSS" --db shared/x.db sample $NS_TOOL 2>err &&
	one_line_exit2 err && grep -q "writable by others" err &&
	! test -e shared/x.db
'

test_expect_success 'a full disk: watch keeps watching, holds what is pending, writes it when space returns' '
	cat >full.sh <<-EOF &&
	mount --make-rprivate /
	mkdir -p full tiny
	mount -t tmpfs -o size=16m,mode=0700 clawss-test full
	mount -t tmpfs -o size=4k,mode=0700 clawss-test tiny
	# poll: a bounded wait for a condition (never a timing assertion)
	poll() { i=0; while [ \$i -lt 600 ]; do "\$@" >/dev/null 2>&1 && return 0; sleep 0.1; i=\$((i + 1)); done; return 1; }
	"$CLAWSS" --db full/x.db watch --row-budget 0 --interval 100ms $NS_TOOL 2>full.err &
	W=\$!
	poll test -s full/x.db-wal || echo "no-wal" >>full.rc
	dd if=/dev/zero of=full/filler bs=4k >/dev/null 2>&1
	ip netns exec $NS_TOOL $HOSTILE flood 50 192.0.2.2 9005 --for 0 >during.out
	poll grep -q "database full" full.err || echo "not-said" >>full.rc
	kill -0 \$W && echo "alive" >>full.rc
	sqlite3 full/x.db "SELECT count(*) FROM sockets WHERE remote_port = 9005" >held.count 2>&1
	rm full/filler
	poll sh -c "sqlite3 full/x.db \"SELECT count(*) FROM activity WHERE kind = '"'"'disk-full'"'"'\" | grep -qx 1" || echo "no-incident" >>full.rc
	ip netns exec $NS_TOOL $HOSTILE flood 5 192.0.2.2 9004 --for 0 >after.out
	poll sh -c "sqlite3 full/x.db \"SELECT count(*) FROM sockets WHERE remote_port = 9004\" | grep -qx 5" || echo "no-new-rows" >>full.rc
	kill -TERM \$W
	wait \$W
	echo "watch=\$?" >>full.rc
	sqlite3 full/x.db "PRAGMA integrity_check" >full.check 2>&1
	# past the bound held one by one (the churn fills it too), counted per destination
	sqlite3 full/x.db "SELECT (SELECT count(*) FROM sockets WHERE remote_port = 9005) +
		(SELECT coalesce(sum(count), 0) FROM aggregates WHERE remote_port = 9005)" >after.count
	sqlite3 full/x.db "SELECT count(*) FROM sockets WHERE remote_port = 9004" >new.count
	sqlite3 full/x.db "SELECT count, detail FROM activity WHERE kind = '"'"'disk-full'"'"'" >incident.txt
	"$CLAWSS" -q --db tiny/x.db sample $NS_TOOL 2>tiny.err
	echo "sample=\$?" >>full.rc
	EOF
	timeout 200 unshare --mount sh full.sh &&
	cat full.rc full.err held.count after.count new.count incident.txt tiny.err &&
	grep -qx alive full.rc &&
	grep -qx "watch=0" full.rc &&
	! grep -q "no-wal\|not-said\|no-incident\|no-new-rows" full.rc &&
	# said once, and when it was over
	test "$(grep -c "database full" full.err)" = 1 &&
	grep -q "database writable again" full.err &&
	# nothing was written while full; all 50 afterwards (as rows, or counted past the
	# bound), and new ones after that
	test "$(cat held.count)" = 0 &&
	# (at least: once, under a load of 24 on 2 cores, each was counted twice; see the
	# TIME_WAIT fold in clawss-watch(8))
	test "$(cat after.count)" -ge 50 &&
	test "$(cat new.count)" = 5 &&
	grep -q "^[0-9][0-9]*|database full (.*): [0-9]* rows held in memory" incident.txt &&
	test "$(cat full.check)" = ok &&
	grep -q "^sample=2\$" full.rc &&
	one_line_exit2 tiny.err
'

test_expect_success 'a read-only database directory: a clear exit 2, nothing written' '
	mkdir -p ro &&
	"$CLAWSS" -q --db ro/x.db sample $NS_TOOL &&
	sqlite3 ro/x.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	cat >ro.sh <<-EOF &&
	mount --make-rprivate /
	mount --bind ro ro
	mount -o remount,bind,ro ro
	"$CLAWSS" -q --db ro/x.db sample $NS_TOOL 2>ro-sample.err
	echo "sample=\$?" >ro.rc
	"$CLAWSS" -q --db ro/new.db sample $NS_TOOL 2>ro-new.err
	echo "new=\$?" >>ro.rc
	"$CLAWSS" --db ro/x.db report >/dev/null 2>ro-report.err
	echo "report=\$?" >>ro.rc
	EOF
	sha256sum ro/x.db >ro.sum &&
	timeout 60 unshare --mount sh ro.sh &&
	cat ro.rc ro-sample.err ro-new.err ro-report.err &&
	grep -q "^sample=2\$" ro.rc && one_line_exit2 ro-sample.err &&
	grep -q "not writable (Read-only file system)" ro-sample.err &&
	grep -q "^new=2\$" ro.rc && one_line_exit2 ro-new.err && test ! -e ro/new.db &&
	grep -q "not writable (Read-only file system)" ro-new.err &&
	# a reader of a read-only WAL database: its rows, or one clear line
	{ grep -q "^report=[01]\$" ro.rc || { grep -q "^report=2\$" ro.rc && one_line_exit2 ro-report.err; }; } &&
	sha256sum -c ro.sum
'

# Files that are not a clawss database, each refused by every command, byte for byte
# untouched, with no -wal, -shm or -journal made beside them.
test_expect_success 'foreign files: random bytes, a truncated copy, another program, a newer schema' '
	mkdir -p foreign &&
	python3 -c "import random; random.seed(6200); open(\"foreign/random.db\", \"wb\").write(bytes(random.getrandbits(8) for _ in range(65536)))" &&
	cp "$CLAWSS_DB" whole.db &&
	sqlite3 whole.db "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE" >/dev/null &&
	size=$(stat -c %s whole.db) &&
	head -c $((size / 2 + 100)) whole.db >foreign/truncated.db &&
	sqlite3 foreign/other.db "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('\''not clawss'\'')" &&
	cp whole.db foreign/newer.db &&
	sqlite3 foreign/newer.db "PRAGMA user_version = 99" &&
	head -c 100 whole.db >foreign/header-only.db &&
	(cd foreign && sha256sum *.db >../foreign.sum) &&
	ls foreign
'

# refused_by NAME ARGS...: the test for one command
refused_by() {
	name=$1
	shift
	test_expect_success "every foreign file is refused by $name, untouched" "
		for f in foreign/*.db; do
			test_expect_code 2 \"\$CLAWSS\" -q --db \"\$PWD/\$f\" $* 2>err </dev/null || return 1
			one_line_exit2 err || { cat err; return 1; }
			test ! -e \"\$f-wal\" && test ! -e \"\$f-shm\" && test ! -e \"\$f-journal\" || return 1
		done &&
		(cd foreign && sha256sum -c --quiet ../foreign.sum)
	"
}
refused_by watch watch --for 1s $NS_TOOL
refused_by sample sample $NS_TOOL
refused_by report report
refused_by containers containers
refused_by policy policy --container x
refused_by export export --format jsonl
refused_by prune prune --older-than 1d

test_done
