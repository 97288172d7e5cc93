#!/bin/sh
test_description='a container past its row budget: counted per destination, the incident recorded, report honest about it'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

HOSTILE="python3 $CLAWSS_SRC/tests/helpers/hostile.py"

db_has() {
	v=$(sqlite3 "$CLAWSS_DB" "$1" 2>/dev/null) && test -n "$v" && test "$v" != 0
}

# attempts JSON DEST: the attempts of DEST ("addr:port") in a --by destination json file
attempts() {
	python3 -c 'import json, sys
for g in json.load(open(sys.argv[1])):
    if "%s:%s" % (g["remote_addr"], g["remote_port"]) == sys.argv[2]:
        print(g["attempts"])' "$1" "$2"
}

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers
'

test_expect_success 'watch --row-budget 10: 60 connections, at most 10 rows, the rest counted' '
	db_reset &&
	bg "$CLAWSS" -q watch --row-budget 10 --interval 100ms $NS_TOOL &&
	W=$BG &&
	wait_for 10 db_has "SELECT count(*) FROM containers" &&
	in_ns $NS_TOOL $HOSTILE flood 60 192.0.2.2 9003 --for 0 >flood.out &&
	grep -q flood-done flood.out &&
	wait_for 30 db_has "SELECT (SELECT count(*) FROM sockets WHERE remote_port = 9003) +
		(SELECT coalesce(sum(count), 0) FROM aggregates WHERE remote_port = 9003) = 60" &&
	kill -TERM $W && wait $W &&
	rows=$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9003") &&
	test "$rows" -ge 1 && test "$rows" -le 10 &&
	test "$(sql "SELECT sum(count) FROM aggregates WHERE remote_port = 9003
		AND remote_addr = '\''192.0.2.2'\'' AND proto = '\''tcp'\''")" = $((60 - rows)) &&
	test "$(sql "SELECT count(*) FROM activity WHERE kind = '\''row-budget'\''")" = 1 &&
	test "$(sql "SELECT count FROM activity WHERE kind = '\''row-budget'\''")" = $((60 - rows))
'

test_expect_success 'report --by destination counts all 60 attempts' '
	"$CLAWSS" report --by destination --format json >dest.json &&
	test "$(attempts dest.json 192.0.2.2:9003)" = 60 &&
	"$CLAWSS" report --by container --format json >cont.json &&
	python3 -c "import json; g = json.load(open(\"cont.json\")); assert g[0][\"attempts\"] >= 60, g"
'

test_expect_success 'a --container that selects none of the aggregates: they are skipped, not an error' '
	"$CLAWSS" report --container "no-such-*" --by destination --format json >none.json &&
	test "$(cat none.json)" = "[]" &&
	"$CLAWSS" report --container "$NS_TOOL" --by destination --format json >mine.json &&
	test "$(attempts mine.json 192.0.2.2:9003)" = 60
'

test_expect_success 'one row per socket: report says how many it cannot show, and they can flag' '
	"$CLAWSS" report --format json >rows.json 2>err &&
	grep -q "^clawss: report: [1-9][0-9]* more connections were counted per destination" err &&
	echo "192.0.2.2 9003 tcp" >declared.allow &&
	"$CLAWSS" report --allow declared.allow >/dev/null 2>err &&
	! grep -q "some undeclared" err &&
	echo "192.0.2.2 80 tcp" >other.allow &&
	test_expect_code 1 "$CLAWSS" report --allow other.allow >/dev/null 2>err &&
	grep -q "some undeclared" err
'

test_expect_success 'without a budget (0) every connection is a row' '
	db_reset &&
	bg "$CLAWSS" -q watch --row-budget 0 --interval 100ms $NS_TOOL &&
	W=$BG &&
	wait_for 10 db_has "SELECT count(*) FROM containers" &&
	in_ns $NS_TOOL $HOSTILE flood 30 192.0.2.2 9002 --for 0 >flood2.out &&
	wait_for 30 db_has "SELECT count(*) = 30 FROM sockets WHERE remote_port = 9002" &&
	kill -TERM $W && wait $W &&
	test "$(sql "SELECT count(*) FROM aggregates")" = 0
'

test_done
