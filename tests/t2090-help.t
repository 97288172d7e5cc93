#!/bin/sh
test_description='every command: --help prints the synopsis of its man page'
. /usr/share/sharness/sharness.sh

CLAWSS=${CLAWSS:-clawss}
if test -z "$CLAWSS_SRC" || ! test -r "$CLAWSS_SRC/man/clawss-report.8"; then
	skip_all='needs $CLAWSS_SRC with man pages'
	test_done
fi
if command -v mandoc >/dev/null; then
	render() { MANWIDTH=200 mandoc -Tascii "$1" | col -b; }
else
	render() { groff -mdoc -Tascii -P-cbou -rLL=200n "$1"; }
fi

# The synopsis of a man page, words separated by single spaces.
man_synopsis() {
	render "$CLAWSS_SRC/man/clawss-$1.8" |
	awk '/^SYNOPSIS/ { on = 1; next } on && /^[A-Z]/ { exit } on { print }' |
	tr -s " \t\n" "   " | sed -e "s/^ //" -e "s/ \$//"
}

# The usage lines of --help, the same way.
help_synopsis() {
	"$CLAWSS" "$1" --help | awk '/^$/ { exit } { print }' |
	sed "s/^usage: //" | tr -s " \t\n" "   " | sed -e "s/^ //" -e "s/ \$//"
}

for cmd in watch sample report containers policy prune export; do
	test_expect_success "$cmd --help has the man page's synopsis" "
		man_synopsis $cmd >want &&
		help_synopsis $cmd >got &&
		test -s want &&
		grep '^clawss $cmd ' want &&
		test_cmp want got
	"
	test_expect_success "$cmd --help exits 0 and points at the man page" "
		\"\$CLAWSS\" $cmd --help >out &&
		grep 'clawss-$cmd(8)' out
	"
	test_expect_success "the man page of $cmd lints clean" "
		groff -mdoc -ww -z \"\$CLAWSS_SRC/man/clawss-$cmd.8\" 2>err &&
		test_must_be_empty err
	"
done

test_done
