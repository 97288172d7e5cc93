#!/bin/sh
test_description='bad input everywhere: exit 2, one clear line on stderr, nothing written'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

# a real namespace, so that a bad option is what fails, not the target; a database
# that must never appear; a directory given as the database
NS=clawss-$$-ok
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/never.db"
DIR="$SHARNESS_TRASH_DIRECTORY/adir"

test_expect_success 'setup: a namespace, a directory, bad allowlists' '
	ip netns add $NS &&
	mkdir -p adir &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "999.1.1.1" >a1.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "10.0.0.0/33" >a2.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "1.2.3.4 70000" >a3.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "1.2.3.4 80 sctp" >a4.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "1.2.3.4 90-80" >a5.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "fe80::/129" >a6.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "1.2.3.4 80 tcp extra" >a7.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "example..com 443" >a8.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "1.2.3.4 0x50" >a9.allow &&
	printf "# a comment\n192.0.2.1 80\n%s\n" "1.2.3.4 -80" >a10.allow
'

# The table: an extended regular expression the one line on stderr must match, a tab,
# and the arguments (shell words; $NS, $DIR expand).
cat >cases <<'EOF'
^clawss: no command given \(try 'clawss --help'\)$	
^clawss: unknown command: bogus \(try 'clawss --help'\)$	bogus
^clawss: unknown command: rep \(try 'clawss --help'\)$	rep
^clawss: unknown command: --db-path	-- --db-path
^clawss: unknown option '--bogus' \(try 'clawss --help'\)$	--bogus report
^clawss: unknown option '-x' \(try 'clawss --help'\)$	-x report
^clawss: --db needs a value \(try 'clawss --help'\)$	--db
^clawss: --db: empty path$	--db '' report
^clawss: watch: unknown option '--bogus' \(try 'clawss watch --help'\)$	watch --bogus "$NS"
^clawss: watch: unknown option '-z'	watch -z "$NS"
^clawss: watch: --interval needs a value	watch "$NS" --interval
^clawss: watch: no target given	watch
^clawss: watch: --interval: bad duration '0' \(a positive number with a unit	watch --interval 0 "$NS"
^clawss: watch: --interval: bad duration '-5s'	watch --interval -5s "$NS"
^clawss: watch: --interval: bad duration 'abc'	watch --interval abc "$NS"
^clawss: watch: --interval: bad duration '5'	watch --interval 5 "$NS"
^clawss: watch: --interval: bad duration '1.5'	watch --interval 1.5 "$NS"
^clawss: watch: --interval: bad duration ''	watch --interval '' "$NS"
^clawss: watch: --interval: bad duration '5x'	watch --interval 5x "$NS"
^clawss: watch: --interval: bad duration ' 5s'	watch --interval ' 5s' "$NS"
^clawss: watch: --interval: bad duration '0ms'	watch --interval 0ms "$NS"
^clawss: watch: --interval: bad duration '99999999999999999999h'	watch --interval 99999999999999999999h "$NS"
^clawss: watch: --for: bad duration '0'	watch --for 0 "$NS"
^clawss: watch: --refresh: bad duration '-1s'	watch --refresh -1s "$NS"
^clawss: watch: --retain: bad duration 'abc'	watch --retain abc "$NS"
^clawss: watch: --name needs exactly one target$	watch --name a "$NS" "$NS"
^clawss: watch: --label: expected KEY or KEY=VALUE, got '=x'$	watch --label =x "$NS"
^clawss: no such container or namespace: no-such-namespace-here$	watch no-such-namespace-here
^clawss: no such container or namespace: a/b$	watch a/b
^clawss: no such container or namespace: \.\.$	watch ..
^clawss: no such container or namespace: pid:0$	sample pid:0
^clawss: no such container or namespace: pid:-1$	sample pid:-1
^clawss: no such container or namespace: pid:abc$	sample pid:abc
^clawss: no such container or namespace: pid:$	sample pid:
^clawss: no such container or namespace: pid:1x$	sample pid:1x
^clawss: no such container or namespace: pid:99999999999$	sample pid:99999999999
^clawss: no such container or namespace: netns:/nonexistent$	sample netns:/nonexistent
^clawss: /etc/passwd: not a network namespace$	sample netns:/etc/passwd
^clawss: /proc/self/ns/mnt: not a network namespace$	sample netns:/proc/self/ns/mnt
^clawss: /dev/null: not a network namespace$	sample netns:/dev/null
^clawss: /: not a network namespace$	sample netns:/
^clawss: sample: no target given	sample
^clawss: sample: unknown option '--bogus'	sample --bogus "$NS"
^clawss: sample: --name needs exactly one target$	sample --name a "$NS" "$NS"
^clawss: report: unknown option '--bogus' \(try 'clawss report --help'\)$	report --bogus
^clawss: report: --allow needs a value	report --allow
^clawss: report: unexpected argument 'extra'	report extra
^clawss: report: --idle '0': not a duration	report --idle 0
^clawss: report: --idle '-5s': not a duration	report --idle -5s
^clawss: report: --idle 'abc': not a duration	report --idle abc
^clawss: report: --since 'yesterday': not a time	report --since yesterday
^clawss: report: --since '2026-13-01T00:00:00Z': not a time	report --since 2026-13-01T00:00:00Z
^clawss: report: --since '2026-02-30T00:00:00Z': not a time	report --since 2026-02-30T00:00:00Z
^clawss: report: --since '2026-11-22T25:00:00Z': not a time	report --since 2026-11-22T25:00:00Z
^clawss: report: --since '2026-11-22T10:00:00': not a time	report --since 2026-11-22T10:00:00
^clawss: report: --since '2026-11-22T10:00:00.2-': not a time	report --since 2026-11-22T10:00:00.2-
^clawss: report: --since '2026-11-22T10:00:00\+24:00': not a time	report --since 2026-11-22T10:00:00+24:00
^clawss: report: --since '1969-12-31T23:59:59Z': not a time	report --since 1969-12-31T23:59:59Z
^clawss: report: --until '': not a time	report --until ''
^clawss: report: --until '-5s': not a time	report --until -5s
^clawss: report: --since is later than --until$	report --since 1h --until 2h
^clawss: report: --format 'xml': unknown format	report --format xml
^clawss: report: --by 'bogus': unknown grouping	report --by bogus
^clawss: a1.allow:3: not an IPv4 or IPv6 address: '999.1.1.1'$	report --allow a1.allow
^clawss: a2.allow:3: bad prefix length \(0-32\): '/33'$	report --allow a2.allow
^clawss: a3.allow:3: bad port or port range \(0-65535\): '70000'$	report --allow a3.allow
^clawss: a4.allow:3: expected tcp, udp or icmp, got 'sctp'$	report --allow a4.allow
^clawss: a5.allow:3: port range runs backwards: '90-80'$	report --allow a5.allow
^clawss: a6.allow:3: bad prefix length \(0-128\): '/129'$	report --allow a6.allow
^clawss: a7.allow:3: unexpected 'extra'$	report --allow a7.allow
^clawss: a8.allow:3: empty label in name: 'example..com'$	report --allow a8.allow
^clawss: a9.allow:3: bad port or port range	report --allow a9.allow
^clawss: a10.allow:3: expected a port	report --allow a10.allow
^clawss: /nonexistent.allow: No such file or directory$	report --allow /nonexistent.allow
^clawss: .*/adir: Is a directory$	report --allow "$DIR"
^clawss: containers: unknown option '--bogus'	containers --bogus
^clawss: containers: --idle 'abc': not a duration	containers --idle abc
^clawss: containers: --format 'yaml': unknown format	containers --format yaml
^clawss: policy: --container NAME is required	policy
^clawss: policy: --container needs a value	policy --container
^clawss: policy: --idle only makes sense with --until-idle$	policy --container x --idle 5s
^clawss: policy: --since 'abc': not a time	policy --container x --since abc
^clawss: policy: --until '0': not a time	policy --container x --until 0
^clawss: export: unknown option '--bogus'	export --bogus
^clawss: export: --format 'csv': unknown format	export --format csv
^clawss: export: --since 'abc': not a cursor	export --since abc
^clawss: prune: --older-than is required	prune
^clawss: prune: --older-than '0': not a duration: it has no unit	prune --older-than 0
^clawss: prune: --older-than '0s': not a duration: it is zero	prune --older-than 0s
^clawss: prune: --older-than '1w': not a duration: its unit is unknown	prune --older-than 1w
^clawss: prune: --older-than 'abc': not a duration	prune --older-than abc
^clawss: .*/never.db: no such database$	report
^clawss: .*/never.db: no such database$	containers
^clawss: .*/never.db: no such database$	policy --container x
^clawss: .*/never.db: no such database$	export --format jsonl
^clawss: .*/never.db: no such database$	prune --older-than 30d
^clawss: .*/adir: is a directory$	--db "$DIR" watch --for 1s "$NS"
^clawss: .*/adir: is a directory$	--db "$DIR" sample "$NS"
^clawss: .*/adir: is a directory$	--db "$DIR" report
^clawss: .*/adir: is a directory$	--db "$DIR" containers
^clawss: .*/adir: is a directory$	--db "$DIR" policy --container x
^clawss: .*/adir: is a directory$	--db "$DIR" export --format jsonl
^clawss: .*/adir: is a directory$	--db "$DIR" prune --older-than 30d
EOF

while IFS='	' read -r re args; do
	test_expect_success "clawss $args" '
		eval "set -- $args" &&
		test_expect_code 2 "$CLAWSS" "$@" >out 2>err </dev/null &&
		test "$(lines err)" = 1 &&
		grep -E -q -- "$re" err &&
		test ! -s out &&
		test ! -e never.db
	'
done <cases

test_done
