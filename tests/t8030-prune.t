#!/bin/sh
test_description='prune and watch --retain delete exactly what is old, and the file shrinks'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"
need conntrack

DAY=86400000
# age CONTAINER_NAME DAYS: move a recorded container and its rows DAYS into the past (the
# data is real, from clawss sample and watch; only its clock is turned back)
age() {
	sql "UPDATE sockets SET first_seen = first_seen - $2 * $DAY, last_seen = last_seen - $2 * $DAY,
		closed_at = closed_at - $2 * $DAY
		WHERE container_id IN (SELECT id FROM containers WHERE name = '$1');
	     UPDATE containers SET first_seen = first_seen - $2 * $DAY,
		last_seen = last_seen - $2 * $DAY, ended = ended - $2 * $DAY WHERE name = '$1'"
}
# size: the database's size once checkpointed, in bytes
size() {
	sqlite3 "$CLAWSS_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	stat -c %s "$CLAWSS_DB"
}

# mkv1.py SCHEMA_H DB: a database as clawss 0.1 (schema 1) made it, from schema.h's text
cat >mkv1.py <<\EOF
import re, sqlite3, sys
src = open(sys.argv[1]).read()
body = re.search(r"store_schema_v1\[\] =\n(.*?);\n\n", src, re.S).group(1)
sql = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body)).replace("\\n", "\n")
db = sqlite3.connect(sys.argv[2])
db.executescript(sql)
db.execute("PRAGMA application_id = %d" % 0x636c6177)
db.execute("PRAGMA user_version = 1")
db.execute("INSERT INTO containers (name, netns_ino, boot_id, first_seen, last_seen, ended)"
           " VALUES ('old', 1, 'b', 1000, 2000, 2000)")
db.executemany("INSERT INTO sockets (container_id, cookie, proto, family, direction, state,"
               " first_seen, last_seen, closed_at) VALUES (1, ?, 'tcp', 'ipv4', 'out', 7,"
               " 1000, 1500, 1500)", [(i,) for i in range(5000)])
db.commit()
EOF

test_expect_success 'setup: namespaces, servers' '
	netns_setup && ext_servers
'

test_expect_success 'setup: 1000 short connections recorded by watch, then made 2 days old' '
	db_reset &&
	bg "$CLAWSS" watch --interval 5s --name old-burst $NS_TOOL &&
	WATCH=$BG &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM containers\" 2>/dev/null)\" = 1" &&
	in_ns $NS_TOOL $TRAFFIC rst 192.0.2.2 1000 --port 9003 >rst.out &&
	grep -q rst-done rst.out &&
	# written before the watcher is stopped (the kernel sends destroy notifications from
	# a workqueue, possibly after close() returned; SIGTERM cannot wait for them)
	wait_for 60 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_addr = '\''192.0.2.2'\''\" 2>/dev/null)\" -ge 1000" &&
	kill -TERM $WATCH && wait $WATCH &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_addr = '\''192.0.2.2'\''")" -ge 1000 &&
	sql "UPDATE containers SET ended = last_seen WHERE name = '\''old-burst'\''" &&
	age old-burst 2
'

test_expect_success 'setup: live connections sampled now, in a second container' '
	bg_ns $NS_TOOL $TRAFFIC hold 192.0.2.2 3 --for 600 --port 9004 >hold.out &&
	HOLD=$BG &&
	wait_for 10 grep -q holding hold.out &&
	"$CLAWSS" sample --name live $NS_TOOL &&
	test "$(sql "SELECT count(*) FROM sockets s JOIN containers c ON c.id = s.container_id
		WHERE c.name = '\''live'\'' AND s.closed_at IS NULL AND s.remote_port = 9004")" = 3 &&
	sql "SELECT id FROM sockets s WHERE container_id = (SELECT id FROM containers WHERE name = '\''live'\'') ORDER BY id" >live.ids &&
	test -s live.ids
'

test_expect_success 'prune: a bad or missing duration is exit 2 and touches nothing' '
	cp "$CLAWSS_DB" before.db &&
	test_expect_code 2 "$CLAWSS" prune 2>err &&
	grep -q "^clawss: prune: --older-than is required" err &&
	test_expect_code 2 "$CLAWSS" prune --older-than 3 2>err &&
	grep -q "not a duration" err &&
	test_expect_code 2 "$CLAWSS" prune --older-than 1w 2>err &&
	test_expect_code 2 "$CLAWSS" prune --older-than 1h extra 2>err &&
	grep -q "unexpected argument" err &&
	cmp before.db "$CLAWSS_DB"
'

test_expect_success 'prune: no database is exit 2 and makes none; a foreign file is left alone' '
	test_expect_code 2 "$CLAWSS" --db "$PWD/none/x.db" prune --older-than 1h 2>err &&
	grep -q "no such database" err &&
	test ! -e none &&
	printf "not a database at all, but long enough to look like one: %0200d" 0 >foreign.db &&
	cp foreign.db foreign.orig &&
	test_expect_code 2 "$CLAWSS" --db "$PWD/foreign.db" prune --older-than 1h 2>err &&
	grep -q "not a clawss database" err &&
	cmp foreign.orig foreign.db
'

test_expect_success 'prune --older-than 3d deletes nothing of it' '
	n=$(sql "SELECT count(*) FROM sockets") &&
	"$CLAWSS" prune --older-than 72h >out &&
	grep -q "^pruned 0 sockets, 0 containers, 0 activity rows that ended before " out &&
	test "$(sql "SELECT count(*) FROM sockets")" = $n
'

test_expect_success 'prune --older-than 1d: exactly the old container and its sockets go, one line' '
	before=$(size) &&
	old=$(sql "SELECT count(*) FROM sockets WHERE container_id = (SELECT id FROM containers WHERE name = '\''old-burst'\'')") &&
	"$CLAWSS" prune --older-than 24h >out 2>err &&
	test_must_be_empty err &&
	test "$(wc -l <out)" = 1 &&
	grep -q "^pruned $old sockets, 1 containers, 0 activity rows that ended before .*; freed [0-9.]* [KM]iB\$" out &&
	test "$(sql "SELECT count(*) FROM containers WHERE name = '\''old-burst'\''")" = 0 &&
	sql "SELECT id FROM sockets ORDER BY id" >left.ids &&
	test_cmp live.ids left.ids &&
	after=$(size) &&
	echo "database $before -> $after bytes" &&
	test $after -lt $((before / 2))
'

test_expect_success 'the file stays a good database, and writers go on using it' '
	test "$(sql "PRAGMA integrity_check")" = ok &&
	test "$(sql "PRAGMA auto_vacuum")" = 2 &&
	"$CLAWSS" sample --name live $NS_TOOL &&
	sql "SELECT id FROM sockets ORDER BY id" >left2.ids &&
	test_cmp live.ids left2.ids
'

test_expect_success 'open sockets of a live container stay however old their last_seen' '
	sql "UPDATE sockets SET last_seen = last_seen - 10 * $DAY" &&
	"$CLAWSS" -q prune --older-than 24h >out &&
	test_must_be_empty out &&
	sql "SELECT id FROM sockets ORDER BY id" >left3.ids &&
	test_cmp live.ids left3.ids
'

test_expect_success '... and go once nothing has watched their container for that long' '
	age live 2 &&
	"$CLAWSS" prune --older-than 24h >out &&
	grep -q "^pruned $(wc -l <live.ids) sockets, 1 containers, " out &&
	test "$(sql "SELECT count(*) FROM sockets")" = 0
'

test_expect_success 'prune while watch writes the same database: watch carries on, exit 0' '
	db_reset &&
	# here the conntrack entry of an RST-closed connection lives 1 s, not 10
	in_ns $NS_TOOL sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=1 &&
	bg "$CLAWSS" -v watch --interval 100ms --refresh 200ms --name busy $NS_TOOL 2>busy.err &&
	WATCH=$BG &&
	wait_for 10 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_port = 9004\" 2>/dev/null)\" = 3" &&
	in_ns $NS_TOOL $TRAFFIC rst 192.0.2.2 300 --port 9005 >rst2.out &&
	# with flows: each RST-closed connection is one row (its socket joined to its
	# flow, which tells the remote port the socket lost), never two
	wait_for 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) = 300 AND sum(remote_port = 9005) = 300 FROM sockets WHERE remote_addr = '\''192.0.2.2'\'' AND (remote_port = 9005 OR remote_port IS NULL) AND closed_at IS NOT NULL\" 2>/dev/null)\" = 1" &&
	# the watcher writes those rows again until their flows end (final counters): the
	# flows end (a listing removes expired entries), then a connection after them is
	# written, and with it (the same tick reads the flows ends first) their last write
	wait_for 30 sh -c "test -z \"\$(ip netns exec $NS_TOOL conntrack -L -p tcp --dport 9005 2>/dev/null)\"" &&
	in_ns $NS_TOOL python3 -c "import socket; socket.create_connection((\"192.0.2.2\", 9007)).close()" &&
	wait_for 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_port = 9007\" 2>/dev/null)\" = 1" &&
	sqlite3 -cmd ".timeout 5000" "$CLAWSS_DB" "UPDATE sockets SET closed_at = closed_at - 2 * $DAY WHERE remote_port = 9005" &&
	"$CLAWSS" prune --older-than 24h >out &&
	grep -q "^pruned 300 sockets, 0 containers" out &&
	# the watcher records what comes after the prune: it carried on
	in_ns $NS_TOOL python3 -c "import socket; socket.create_connection((\"192.0.2.2\", 9006)).close()" &&
	wait_for 30 sh -c "test \"\$(sqlite3 \"$CLAWSS_DB\" \"SELECT count(*) FROM sockets WHERE remote_port = 9006\" 2>/dev/null)\" = 1" &&
	kill -0 $WATCH &&
	kill -TERM $WATCH && wait $WATCH &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9004 AND closed_at IS NULL")" = 3 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9005")" = 0 &&
	# the refresh dumps of conntrack overlap under load: one at a time, no warning
	! grep "conntrack events:\|conntrack dump refused" busy.err
'

test_expect_success 'a schema 1 file: upgraded on open, switched to incremental vacuum by its first prune' '
	python3 mkv1.py "$CLAWSS_SRC/store/schema.h" v1.db &&
	test "$(sqlite3 v1.db "PRAGMA auto_vacuum")" = 0 &&
	"$CLAWSS" --db "$PWD/v1.db" prune --older-than 1h >out 2>err &&
	grep -q "rewriting the database once" err &&
	grep -q "^pruned 5000 sockets, 1 containers" out &&
	test "$(sqlite3 v1.db "PRAGMA auto_vacuum")" = 2 &&
	test "$(sqlite3 v1.db "PRAGMA user_version")" = "$(sed -n "s/^#define STORE_SCHEMA_VERSION //p" "$CLAWSS_SRC/store/schema.h")" &&
	"$CLAWSS" --db "$PWD/v1.db" prune --older-than 1h 2>err &&
	test_must_be_empty err
'

test_expect_success 'watch --retain: at least 10m, and 10 times --refresh' '
	test_expect_code 2 "$CLAWSS" watch --retain 5m --for 1s $NS_TOOL 2>err &&
	grep -q "retain must be at least 10m" err &&
	test_expect_code 2 "$CLAWSS" watch --refresh 10m --retain 1h --for 1s $NS_TOOL 2>err &&
	test_expect_code 2 "$CLAWSS" watch --retain soon --for 1s $NS_TOOL 2>err &&
	grep -q "bad duration" err
'

test_expect_success 'watch --retain prunes at start, logs one line, keeps what is live' '
	"$CLAWSS" sample --name gone $NS_TOOL &&
	sql "UPDATE containers SET ended = last_seen WHERE name = '\''gone'\''" &&
	age gone 3 &&
	n=$(sql "SELECT count(*) FROM sockets WHERE container_id = (SELECT id FROM containers WHERE name = '\''gone'\'')") &&
	test $n -ge 3 &&
	timeout 20 "$CLAWSS" watch --interval 100ms --for 1s --retain 48h --name busy $NS_TOOL 2>err &&
	grep -q "^clawss: retain: pruned $n sockets, 1 containers, 0 activity rows" err &&
	test "$(sql "SELECT count(*) FROM containers WHERE name = '\''gone'\''")" = 0 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9004 AND closed_at IS NULL")" = 3
'

test_expect_success 'watch --retain with nothing to do says so only with -v' '
	timeout 20 "$CLAWSS" watch --interval 100ms --for 500ms --retain 48h $NS_TOOL 2>err &&
	! grep -q retain err &&
	timeout 20 "$CLAWSS" -v watch --interval 100ms --for 500ms --retain 48h $NS_TOOL 2>err &&
	grep -q "^clawss: retain: pruned 0 sockets" err
'

test_done
