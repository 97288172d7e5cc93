#!/bin/sh
test_description='bash completion: commands, every option of each command, values, names'
. /usr/share/sharness/sharness.sh

CLAWSS=${CLAWSS:-clawss}
COMP=$CLAWSS_SRC/completion/clawss.bash
if ! test -r "$COMP"; then
	skip_all='needs $CLAWSS_SRC/completion/clawss.bash'
	test_done
fi
. "$CLAWSS_SRC/tests/lib-need.sh"
need bash
need_file "$CLAWSS_HELPERS/mkdb" "make tests"

# complete WORD...: what the completion offers for the command line WORD... (the last
# word is the one being completed), sorted, one a line
cat >complete.sh <<\EOF
. "$COMP"
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
_clawss
printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
EOF
complete() {
	COMP=$COMP bash complete.sh "$CLAWSS" "$@"
}

test_expect_success 'the file registers a completion for clawss' '
	bash -c ". \"$COMP\" && complete -p clawss" | grep -q "_clawss clawss"
'

test_expect_success 'commands: exactly those clawss --help lists' '
	"$CLAWSS" --help | sed -n "/^commands:/,/^\$/s/^  \([a-z][a-z]*\) .*/\1/p" | sort >want &&
	complete "" >got &&
	test_cmp want got &&
	complete pr >got &&
	echo prune >want && test_cmp want got
'

test_expect_success 'global options' '
	complete -- >got &&
	for o in --db --quiet --verbose --help --version; do grep -qx -- $o got || return 1; done
'

for cmd in watch sample report containers policy prune export; do
	test_expect_success "$cmd: every option of its --help, and only those" "
		\"\$CLAWSS\" $cmd --help | sed -n -e 's/^  \(--[a-z-]*\).*/\1/p' | sort -u >want &&
		complete $cmd -- >got &&
		test_cmp want got
	"
done

test_expect_success 'watch --re: --refresh and --retain' '
	complete watch --re >got &&
	printf "%s\n" --refresh --retain >want &&
	test_cmp want got
'

test_expect_success 'option values: formats, groupings, nothing for a duration' '
	complete report --format "" >got &&
	printf "%s\n" csv html json table >want && test_cmp want got &&
	complete containers --format "" >got &&
	printf "%s\n" csv json table >want && test_cmp want got &&
	complete export --format "" >got &&
	echo jsonl >want && test_cmp want got &&
	complete report --by d >got &&
	echo destination >want && test_cmp want got &&
	complete prune --older-than "" >got &&
	test_must_be_empty got &&
	complete --db /nonexistent report --si >got &&
	printf "%s\n" --since --since-idle >want && test_cmp want got
'

test_expect_success 'files for --db and --cursor-file' '
	: >mydb.db &&
	complete --db myd >got &&
	echo mydb.db >want && test_cmp want got &&
	complete export --cursor-file myd >got &&
	test_cmp want got
'

test_expect_success 'targets: pid: and netns: forms' '
	complete sample p >got &&
	echo pid: >want && test_cmp want got &&
	complete watch "pid:$$" >got &&
	grep -qx "pid:$$" got &&
	complete watch netns:/proc/self/ns/ne >got &&
	echo netns:/proc/self/ns/net >want && test_cmp want got
'

if test "$(id -u)" = 0; then
	need ip:iproute2
	test_set_prereq ROOT
fi

test_expect_success ROOT 'targets: the named namespaces under /run/netns' '
	ip netns add clawss-$$-comp &&
	complete watch clawss-$$-c >got;
	ip netns del clawss-$$-comp &&
	echo clawss-$$-comp >want && test_cmp want got
'

test_expect_success '--container: the containers the database recorded' '
	printf "%s\n" "container alpha-1" "container alpha-2" "container beta" |
	"$CLAWSS_HELPERS/mkdb" rec.db &&
	complete --db rec.db report --container al >got &&
	printf "%s\n" alpha-1 alpha-2 >want && test_cmp want got
'

# Names from containers are data: a /run/netns name or a recorded container name such as
# $(cmd) must never run cmd when the operator presses TAB (as root). These names need no
# space, so they survive compgen -W's word splitting and would run there; * would glob.
cat >evil-names <<\EOF
$(>pwned-cs)
`>pwned-bq`
$(touch${IFS}pwned-ifs)
*
EOF
none_ran() {
	for f in pwned-cs pwned-bq pwned-ifs; do
		test ! -e $f || { echo "$f: ran"; return 1; }
	done
}
# offered_all FILE: every name of evil-names is a line of FILE
offered_all() {
	while IFS= read -r n; do
		grep -qxF -- "$n" "$1" || { echo "not offered: $n"; return 1; }
	done <evil-names
}

test_expect_success ROOT 'targets: a /run/netns name such as $(cmd) is offered as text, never run' '
	cat >evil.sh <<-\EOF &&
	set -e
	mount --make-rprivate /
	mount -t tmpfs clawss-test /run/netns
	while IFS= read -r n; do : >"/run/netns/$n"; done <evil-names
	: >/run/netns/x-plain
	bash complete.sh "$CLAWSS" watch "" >got-all
	bash complete.sh "$CLAWSS" sample "\$(" >got-cs
	bash complete.sh "$CLAWSS" watch "x" >got-x
	EOF
	COMP=$COMP CLAWSS=$CLAWSS unshare --mount sh evil.sh &&
	none_ran &&
	offered_all got-all &&
	grep -qx x-plain got-all &&
	printf "%s\n" "\$(>pwned-cs)" "\$(touch\${IFS}pwned-ifs)" >want && test_cmp want got-cs &&
	echo x-plain >want && test_cmp want got-x
'

test_expect_success '--container: a recorded name such as $(cmd) is offered as text, never run' '
	if test -x "$CLAWSS_HELPERS/mkdb"; then
		sed "s/^/container /" evil-names | "$CLAWSS_HELPERS/mkdb" evil.db &&
		complete --db evil.db report --container "" >got &&
		none_ran &&
		offered_all got &&
		test "$(wc -l <got)" = 4
	fi
'

test_done
