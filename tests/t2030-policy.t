#!/bin/sh
test_description='policy: an allowlist from a baseline, and the round trip through report --allow'
. /usr/share/sharness/sharness.sh

. "$CLAWSS_SRC/tests/lib-report.sh"
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/p.db"

test_line_count() {
	test "$(wc -l <"$3")" "$1" "$2" || {
		echo "test_line_count: $3 has $(wc -l <"$3") lines, want $1 $2" >&2
		return 1
	}
}

# "remote_addr:remote_port" of the rows flagged undeclared.
undeclared() {
	python3 -c 'import json, sys
print(" ".join("%s:%s" % (r["remote_addr"], r["remote_port"]) for r in json.load(sys.stdin) if "undeclared" in r["flags"]))'
}

# The rules of a policy: its lines without comments and blanks.
rules() {
	sed -e "s/#.*//" -e "s/[ 	]*\$//" -e "/^\$/d" -e "s/  */ /g" "$1"
}

test_expect_success 'setup: a burst, then idle, then new and known destinations' '
	cat >desc <<-\EOF &&
	base 1700000000000
	container agent started=0
	tcp out 192.0.2.1:40000 198.51.100.7:443 first=1s last=2s
	udp out 192.0.2.1:40001 192.0.2.53:53 first=2s
	tcp out 192.0.2.1:40002 198.51.100.7:443 first=3s last=4s
	tcp out *:40003 203.0.113.9:* first=4s closed=4s state=7
	tcp out [2001:db8::1]:40004 [2001:db8:1::7]:443 first=5s
	tcp in 192.0.2.1:80 198.51.100.99:50000 first=6s
	tcp out 192.0.2.1:40005 203.0.113.66:4444 first=100s
	tcp out 192.0.2.1:40006 198.51.100.7:443 first=110s
	udp out 192.0.2.1:40007 192.0.2.53:53 first=120s
	container other started=0
	tcp out 192.0.2.5:40000 198.51.100.200:443 first=1s
	EOF
	"$CLAWSS_HELPERS/mkdb" "$CLAWSS_DB" <desc
'

test_expect_success 'policy --until-idle lists the burst destinations, with when and how often' '
	"$CLAWSS" policy --container agent --until-idle >burst.allow &&
	rules burst.allow >got &&
	cat >want <<-\EOF &&
	198.51.100.7 443 tcp
	192.0.2.53 53 udp
	203.0.113.9 tcp
	2001:db8:1::7 443 tcp
	EOF
	test_cmp want got &&
	grep "^198.51.100.7 .*# 2 connections, first 2023-11-14T22:13:21.000Z, last 2023-11-14T22:13:24.000Z\$" burst.allow &&
	grep "^192.0.2.53 .*# 1 connection, first" burst.allow &&
	grep "^203.0.113.9 .*remote port unknown" burst.allow &&
	grep "^# container agent (netns [0-9]*): started 2023-11-14T22:13:20.000Z, burst ended 2023-11-14T22:13:56.000Z\$" burst.allow
'

test_expect_success 'fed back with --allow, it flags only what is new' '
	test_expect_code 1 "$CLAWSS" report --container agent --allow burst.allow --format json >out &&
	test "$(undeclared <out)" = "203.0.113.66:4444"
'

test_expect_success 'with --since-idle, the late connections to known destinations are not undeclared' '
	test_expect_code 1 "$CLAWSS" report --container agent --since-idle --allow burst.allow --format json >out &&
	python3 -c "import json
d = json.load(open(\"out\"))
assert [(r[\"remote_port\"], r[\"flags\"]) for r in d] == [(4444, [\"after-idle\", \"undeclared\"]), (443, [\"after-idle\"]), (53, [\"after-idle\"])], d"
'

test_expect_success 'a policy of the whole life declares everything: exit 0' '
	"$CLAWSS" policy --container agent >all.allow &&
	grep "^203.0.113.66 *4444 tcp" all.allow &&
	test_expect_code 0 "$CLAWSS" report --container agent --allow all.allow >out &&
	! grep undeclared out
'

test_expect_success 'policy --since/--until takes a window' '
	"$CLAWSS" policy --container agent --until 2023-11-14T22:13:22Z >win.allow &&
	rules win.allow >got &&
	printf "198.51.100.7 443 tcp\n192.0.2.53 53 udp\n" >want &&
	test_cmp want got &&
	"$CLAWSS" policy --container agent --since 2023-11-14T22:14:00Z >win.allow &&
	rules win.allow >got &&
	printf "203.0.113.66 4444 tcp\n198.51.100.7 443 tcp\n192.0.2.53 53 udp\n" >want &&
	test_cmp want got
'

test_expect_success 'a hostile container name cannot add a rule to the policy' '
	printf "base 1700000000000\ncontainer x\\\\x0a10.0.0.0/0\\\\x0a::/0\\\\x1b[2J started=0\ntcp out 192.0.2.1:4 198.51.100.1:443 first=1s\n" >evil &&
	"$CLAWSS_HELPERS/mkdb" evil.db <evil &&
	"$CLAWSS" --db evil.db policy --container "x*" >evil.allow &&
	rules evil.allow >got &&
	echo "198.51.100.1 443 tcp" >want &&
	test_cmp want got &&
	test $(tr -d "\n" <evil.allow | tr -d -c "\000-\037\177" | wc -c) = 0 &&
	grep -F "x\\x0a10.0.0.0/0\\x0a::/0\\x1b[2J" evil.allow
'

test_expect_success 'errors: no such container, no --container, --idle alone' '
	test_expect_code 2 "$CLAWSS" policy --container nope >out 2>err &&
	test_line_count = 1 err &&
	grep "^clawss: policy: no such container: nope\$" err &&
	test ! -s out &&
	test_expect_code 2 "$CLAWSS" policy 2>err &&
	grep "^clawss: policy: --container NAME is required" err &&
	test_expect_code 2 "$CLAWSS" policy --container agent --idle 10s 2>err &&
	grep "^clawss: policy: --idle only makes sense with --until-idle" err
'

test_done
