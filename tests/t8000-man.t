#!/bin/sh
test_description='man pages: lint clean, one per command, options the same as --help'
. /usr/share/sharness/sharness.sh

CLAWSS=${CLAWSS:-clawss}
if test -z "$CLAWSS_SRC" || ! test -d "$CLAWSS_SRC/man"; then
	skip_all='needs $CLAWSS_SRC with man pages'
	test_done
fi
. "$CLAWSS_SRC/tests/lib-need.sh"
need groff:groff-base python3 mandoc
MAN=$CLAWSS_SRC/man

# options.py help|man ...: the long options of a --help text (stdin) or of a man page's
# SYNOPSIS and the items of its OPTIONS (the arguments of Fl macros), one a line, sorted.
cat >options.py <<\EOF
import re, sys

def from_help(text):
    opts = set()
    usage = True
    for line in text.splitlines():
        if usage:
            if not line.strip():
                usage = False
                continue
            opts.update(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line))
            continue
        # an option line: two spaces, maybe "-x, ", then --name
        m = re.match(r"^  (?:-[a-z], )?(--[a-z][a-z-]*)", line)
        if m:
            opts.add(m.group(1))
    return opts

def from_man(text):
    opts = set()
    section = None
    for line in text.splitlines():
        if line.startswith(".Sh "):
            section = line[4:].strip().strip('"')
            continue
        # the synopsis, and the option items of OPTIONS (their descriptions may cite
        # other commands' options)
        if section == "SYNOPSIS" and line.startswith("."):
            pass
        elif section == "OPTIONS" and line.startswith(".It "):
            pass
        else:
            continue
        words = re.findall(r'"[^"]*"|\S+', line[1:])
        in_fl = False
        for w in words:
            if w == "Fl":
                in_fl = True
                continue
            if in_fl and w.startswith("-") and len(w) > 2:
                opts.add("-" + w)          # Fl -db renders --db
                continue
            if in_fl and w == "|":
                continue
            in_fl = False
    return opts

kind = sys.argv[1]
text = sys.stdin.read()
opts = from_help(text) if kind == "help" else from_man(text)
opts.discard("--help")
print("\n".join(sorted(opts)))
EOF

# The commands clawss --help lists.
commands() {
	"$CLAWSS" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p'
}

test_expect_success 'setup: the command list is there' '
	commands >cmds &&
	test "$(wc -l <cmds)" -ge 7 &&
	grep -qx prune cmds && grep -qx export cmds
'

test_expect_success 'every man page lints clean with groff -mdoc -ww (no warning at all)' '
	for f in "$MAN"/*.8; do
		groff -mdoc -ww -z "$f" 2>err || { cat err; return 1; }
		test_must_be_empty err || { echo "in $f" >&2; return 1; }
	done
'

test_expect_success 'the lint catches a broken page (the check can fail)' '
	printf ".Dd November 22, 2026\n.Dt X 8\n.Os\n.Sh NAME\n.Nm x\n.Nd y\n.Bl -tag\n.It a\n" >bad.8 &&
	groff -mdoc -ww -z bad.8 2>err ;
	test -s err
'

test_expect_success 'mandoc finds no error in any page' '
	for f in "$MAN"/*.8; do
		mandoc -Tlint -Werror "$f" || return 1
	done
'

test_expect_success 'mandoc -Tlint catches a broken page (the check can fail)' '
	! mandoc -Tlint -Werror bad.8 >err 2>&1 &&
	test -s err
'

test_expect_success 'one page per command, and clawss(8) lists and cites each' '
	while read cmd; do
		test -r "$MAN/clawss-$cmd.8" || { echo "no man/clawss-$cmd.8" >&2; return 1; }
		grep -q "^\.It Cm $cmd\$" "$MAN/clawss.8" || { echo "clawss.8 COMMANDS lacks $cmd" >&2; return 1; }
		sed -n "/^\.Sh SEE ALSO/,\$p" "$MAN/clawss.8" | grep -q "^\.Xr clawss-$cmd 8" ||
			{ echo "clawss.8 SEE ALSO lacks clawss-$cmd" >&2; return 1; }
	done <cmds &&
	for f in "$MAN"/clawss-*.8; do
		c=${f##*/clawss-}; c=${c%.8}
		grep -qx "$c" cmds || { echo "$f: no such command" >&2; return 1; }
	done
'

test_expect_success 'every page has EXIT STATUS, EXAMPLES and SEE ALSO; clawss(8) FILES and SECURITY' '
	for f in "$MAN"/*.8; do
		for s in "EXIT STATUS" EXAMPLES "SEE ALSO"; do
			grep -q "^\.Sh $s\$" "$f" || { echo "$f lacks $s" >&2; return 1; }
		done
	done &&
	grep -q "^\.Sh FILES\$" "$MAN/clawss.8" &&
	grep -q "^\.Sh SECURITY\$" "$MAN/clawss.8"
'

test_expect_success 'clawss --help and clawss(8) have the same global options' '
	"$CLAWSS" --help | python3 options.py help >help.opts &&
	python3 options.py man <"$MAN/clawss.8" >man.opts &&
	grep -qx -- --db help.opts &&
	test_cmp help.opts man.opts
'

# The options of a command page: those of --help, plus the global ones a page may
# repeat in its synopsis.
while read cmd; do
	test_expect_success "$cmd: --help and clawss-$cmd(8) have the same options" "
		\"\$CLAWSS\" $cmd --help >help.txt &&
		grep -q 'clawss-$cmd(8)' help.txt &&
		python3 options.py help <help.txt >help.opts &&
		python3 options.py man <\"\$MAN/clawss-$cmd.8\" | grep -vx -e --db -e --quiet -e --verbose >man.opts &&
		test_cmp help.opts man.opts
	"
done <cmds

test_expect_success 'the comparison sees an option missing from a page (it can fail)' '
	sed "/Fl -since Ar CURSOR/d" "$MAN/clawss-export.8" >export.8 &&
	"$CLAWSS" export --help | python3 options.py help >help.opts &&
	python3 options.py man <export.8 >man.opts &&
	! test_cmp help.opts man.opts 2>/dev/null &&
	grep -qx -- --since help.opts
'

test_done
