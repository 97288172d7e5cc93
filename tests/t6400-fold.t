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

test_done
