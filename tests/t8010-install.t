#!/bin/sh
test_description='make install and make uninstall lay out and remove exactly clawss'"'"'s files'
. /usr/share/sharness/sharness.sh

CLAWSS=${CLAWSS:-clawss}
if test -z "$CLAWSS_SRC" || ! test -r "$CLAWSS_SRC/GNUmakefile"; then
	skip_all='needs $CLAWSS_SRC'
	test_done
fi
command -v make >/dev/null || { skip_all='needs make'; test_done; }

# inst DESTDIR [VAR=VALUE...]: make install of the binary under test; -o: never rebuild it
inst() {
	d=$1; shift
	make -s -C "$CLAWSS_SRC" -o "$CLAWSS" BIN="$CLAWSS" DESTDIR="$d" "$@" install
}
uninst() {
	d=$1; shift
	make -s -C "$CLAWSS_SRC" -o "$CLAWSS" BIN="$CLAWSS" DESTDIR="$d" "$@" uninstall
}
UNITS="clawss-watch.service clawss-sample.service clawss-sample.timer clawss-prune.service clawss-prune.timer"

test_expect_success 'install with PREFIX=/usr/local lays everything out' '
	inst "$PWD/root" PREFIX=/usr/local >out &&
	R=$PWD/root &&
	test -x "$R/usr/local/sbin/clawss" &&
	test "$(stat -c %a "$R/usr/local/sbin/clawss")" = 755 &&
	"$R/usr/local/sbin/clawss" --version | grep -q "^clawss " &&
	for m in "$CLAWSS_SRC"/man/*.8; do
		cmp "$m" "$R/usr/local/share/man/man8/${m##*/}" || return 1
	done &&
	test -r "$R/usr/local/share/man/man8/clawss-prune.8" &&
	test -r "$R/usr/local/share/man/man8/clawss-export.8" &&
	for u in $UNITS; do
		test "$(stat -c %a "$R/usr/local/lib/systemd/system/$u")" = 644 || return 1
	done &&
	cmp "$CLAWSS_SRC/completion/clawss.bash" "$R/usr/local/share/bash-completion/completions/clawss" &&
	cmp "$CLAWSS_SRC/systemd/clawss.default" "$R/etc/default/clawss"
'

test_expect_success 'nothing else is installed' '
	(cd root && find . -type f | sort) >files &&
	n_man=$(ls "$CLAWSS_SRC"/man/*.8 | wc -l) &&
	test "$(wc -l <files)" = $((1 + n_man + 5 + 1 + 1))
'

test_expect_success 'the units run the installed binary, with no placeholder left' '
	for u in clawss-watch.service clawss-sample.service clawss-prune.service; do
		grep -q "^ExecStart=/usr/local/sbin/clawss " "root/usr/local/lib/systemd/system/$u" || return 1
	done &&
	! grep -q "@[A-Z]*@" root/usr/local/lib/systemd/system/*
'

test_expect_success 'PREFIX=/usr: units under /usr/lib/systemd/system, binary /usr/sbin' '
	inst "$PWD/usr-root" PREFIX=/usr >out &&
	test -x usr-root/usr/sbin/clawss &&
	grep -q "^ExecStart=/usr/sbin/clawss watch " usr-root/usr/lib/systemd/system/clawss-watch.service &&
	test -r usr-root/usr/share/bash-completion/completions/clawss &&
	test -r usr-root/etc/default/clawss
'

test_expect_success 'a second install keeps an edited /etc/default/clawss' '
	echo "CLAWSS_WATCH_ARGS=--follow --label mine" >>root/etc/default/clawss &&
	cp root/etc/default/clawss edited &&
	inst "$PWD/root" PREFIX=/usr/local >out &&
	grep -q "kept the existing" out &&
	cmp edited root/etc/default/clawss
'

test_expect_success 'uninstall removes every file but the edited settings' '
	uninst "$PWD/root" PREFIX=/usr/local >out &&
	grep -q "kept .*/etc/default/clawss (edited)" out &&
	(cd root && find . -type f) >left &&
	test "$(cat left)" = ./etc/default/clawss
'

test_expect_success 'uninstall removes an unedited /etc/default/clawss too' '
	uninst "$PWD/usr-root" PREFIX=/usr >out &&
	(cd usr-root && find . -type f) >left &&
	test_must_be_empty left
'

test_done
