#!/bin/sh
test_description='watch logs one line per target attached and ended: no timestamp, journald priorities under systemd, -q, -v'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

NS_LOG=clawss-$$-log
# journal_run ERRFILE CMD...: run with stderr going to ERRFILE and JOURNAL_STREAM naming it,
# as systemd does for a unit whose stderr is the journal
journal_run() {
	f=$1; shift
	: >"$f" &&
	JOURNAL_STREAM=$(stat -c %d:%i "$f") "$@" 2>>"$f"
}

test_expect_success 'setup: namespaces' '
	netns_setup && ip netns add $NS_LOG
'

test_expect_success 'on a terminal or a file: "clawss: " lines, one per event, no timestamp' '
	bg "$CLAWSS" watch --interval 100ms $NS_LOG 2>plain.err &&
	W=$BG &&
	wait_for 10 grep -q "watching" plain.err &&
	ip netns del $NS_LOG &&
	wait_for 10 sh -c "! kill -0 $W" &&
	wait $W &&
	cat plain.err &&
	test "$(wc -l <plain.err)" = 2 &&
	grep -q "^clawss: watching $NS_LOG (netns [0-9]*)\$" plain.err &&
	grep -q "^clawss: $NS_LOG ended\$" plain.err &&
	! grep -E -q "[0-9]{2}:[0-9]{2}:[0-9]{2}|[0-9]{4}-[0-9]{2}-[0-9]{2}" plain.err
'

test_expect_success 'under systemd (JOURNAL_STREAM is our stderr): syslog priorities, no prefix' '
	ip netns add $NS_LOG &&
	bg journal_run journal.err "$CLAWSS" watch --interval 100ms $NS_LOG &&
	W=$BG &&
	wait_for 10 grep -q "watching" journal.err &&
	ip netns del $NS_LOG &&
	wait_for 10 sh -c "! kill -0 $W" &&
	cat journal.err &&
	test "$(wc -l <journal.err)" = 2 &&
	grep -q "^<6>watching $NS_LOG (netns [0-9]*)\$" journal.err &&
	grep -q "^<6>$NS_LOG ended\$" journal.err &&
	! grep -q "clawss: " journal.err
'

test_expect_success '-v adds the verbose lines at priority 7' '
	journal_run verbose.err "$CLAWSS" -v watch --interval 100ms --for 300ms $NS_TOOL &&
	grep -q "^<6>watching $NS_TOOL " verbose.err &&
	grep -q "^<7>[0-9]* polls, " verbose.err &&
	! grep -v "^<[67]>" verbose.err
'

test_expect_success 'JOURNAL_STREAM naming another file: plain lines' '
	: >other &&
	JOURNAL_STREAM=$(stat -c %d:%i other) "$CLAWSS" watch --interval 100ms --for 300ms $NS_TOOL 2>notjournal.err &&
	grep -q "^clawss: watching $NS_TOOL " notjournal.err &&
	JOURNAL_STREAM=garbage "$CLAWSS" watch --interval 100ms --for 300ms $NS_TOOL 2>garbage.err &&
	grep -q "^clawss: watching $NS_TOOL " garbage.err
'

test_expect_success '-q: nothing but errors' '
	"$CLAWSS" -q watch --interval 100ms --for 300ms $NS_TOOL 2>quiet.err &&
	test_must_be_empty quiet.err &&
	test_expect_code 2 "$CLAWSS" -q watch --for 300ms no-such-$$ 2>quiet.err &&
	grep -q "^clawss: no such container or namespace" quiet.err
'

test_expect_success 'a container name cannot forge a log line or a priority' '
	evil=$(printf "clawss-$$-e\\033[31m\\n<3>forged") &&
	{ ip netns add "$evil" 2>/dev/null || { evil=$(printf "clawss-$$-e\\033[31m<3>") && ip netns add "$evil"; }; } &&
	journal_run evil.err "$CLAWSS" watch --interval 100ms --for 300ms "$evil";
	rc=$?;
	ip netns del "$evil";
	test $rc = 0 &&
	cat -v evil.err &&
	test "$(wc -l <evil.err)" = 1 &&
	grep -q "^<6>watching clawss-$$-e\\\\x1b\\[31m" evil.err &&
	test $(tr -d "\\n" <evil.err | tr -d -c "\\000-\\037\\177" | wc -c) = 0
'

test_done
