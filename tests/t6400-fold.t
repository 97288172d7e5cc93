#!/bin/sh
test_description='one row per connection across processes: sample or a new watch after a watch folds TIME_WAIT remnants into the rows already recorded'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

HOSTILE="python3 $CLAWSS_SRC/tests/helpers/hostile.py"

db_has() {
	v=$(sqlite3 "$CLAWSS_DB" "$1" 2>/dev/null) && test -n "$v" && test "$v" != 0
}

# dups PORT: 4-tuples to PORT recorded more than once
dups() {
	sql "SELECT local_addr || ':' || local_port FROM sockets WHERE remote_port = $1
		GROUP BY local_addr, local_port, remote_addr HAVING count(*) > 1"
}

# remnants PORT: TIME_WAIT sockets towards PORT in the tool namespace now
remnants() {
	in_ns $NS_TOOL ss -Htn state time-wait "( dport = :$1 )" | wc -l
}

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers
'

test_expect_success 'watch records 8 short connections; sample afterwards adds no second row' '
	db_reset &&
	bg "$CLAWSS" -q watch --interval 100ms $NS_TOOL &&
	W=$BG &&
	wait_for 10 db_has "SELECT count(*) FROM containers" &&
	in_ns $NS_TOOL $HOSTILE flood 8 192.0.2.2 9008 --for 0 >flood.out &&
	grep -q flood-done flood.out &&
	wait_for 20 db_has "SELECT count(*) = 8 FROM sockets WHERE remote_port = 9008 AND closed_at IS NOT NULL" &&
	kill -TERM $W && wait $W &&
	# their TIME_WAIT remnants are what sample sees: the test means something only then
	test "$(remnants 9008)" = 8 &&
	"$CLAWSS" -q sample $NS_TOOL &&
	test "$(remnants 9008)" = 8 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9008")" = 8 &&
	test -z "$(dups 9008)"
'

test_expect_success 'a new watch after them adds none either' '
	"$CLAWSS" -q watch --interval 100ms --for 1s $NS_TOOL &&
	test "$(remnants 9008)" = 8 &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9008")" = 8 &&
	test -z "$(dups 9008)"
'

test_expect_success 'sample then sample: the remnant it recorded itself is one row' '
	in_ns $NS_TOOL $HOSTILE flood 3 192.0.2.2 9006 --for 0 >flood2.out &&
	"$CLAWSS" -q sample $NS_TOOL &&
	"$CLAWSS" -q sample $NS_TOOL &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9006")" = 3 &&
	test -z "$(dups 9006)"
'

# The peer never closes: the tool's side of each connection waits in FIN_WAIT2 as a
# remnant (a timewait socket in its FIN_WAIT2 substate), not in TIME_WAIT.
test_expect_success 'a peer that never closes: FIN_WAIT2 remnants fold too, one row each' '
	bg_ns $NS_EXT $TRAFFIC listen 192.0.2.2 7700 --for 600 >listen.out &&
	wait_for 10 grep -q listening listen.out &&
	bg "$CLAWSS" -q watch --interval 100ms $NS_TOOL &&
	W=$BG &&
	in_ns $NS_TOOL $HOSTILE flood 8 192.0.2.2 7700 --for 0 >flood3.out &&
	grep -q flood-done flood3.out &&
	wait_for 20 db_has "SELECT count(*) >= 8 FROM sockets WHERE remote_port = 7700 AND closed_at IS NOT NULL" &&
	test "$(in_ns $NS_TOOL ss -Htn state fin-wait-2 "( dport = :7700 )" | wc -l)" = 8 &&
	# a few dumps see the remnants
	"$CLAWSS" -q sample $NS_TOOL &&
	kill -TERM $W && wait $W &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 7700")" = 8 &&
	test -z "$(dups 7700)" &&
	"$CLAWSS" -q sample $NS_TOOL &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 7700")" = 8
'

test_done
