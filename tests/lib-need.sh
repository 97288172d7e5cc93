# Sourced by sharness tests right after sharness.sh: what a test needs, and what happens
# when it is missing. On a developer's machine (not root, no CI) a test that lacks a tool
# skips, with a skip line saying which. As root, or with CI set, every tool is one that
# `sudo make deps` installs (tools/deps, test set), so a missing one is a failure that
# says what to install: a suite run as root never passes by skipping what it could run.
#
#   need CMD[:PACKAGE]...     commands (PACKAGE: the Debian package, default CMD)
#   need_file PATH WHY...     a file the build makes (helpers: `make tests`)
#   need_strict               true when missing things fail rather than skip

need_strict() {
	[ "$(id -u)" = 0 ] || [ -n "${CI:-}" ]
}

# need_fail WHAT: one failing test saying what is missing and what to do, then the end.
need_fail() {
	need_what=$1
	test_expect_success "everything this test drives is there" '
		echo >&2 "missing: $need_what" &&
		echo >&2 "(as root or with CI set a missing tool is a failure, not a skip: sudo make deps)" &&
		false
	'
	test_done
}

need() {
	need_missing=
	for need_n in "$@"; do
		need_c=${need_n%%:*}
		need_p=${need_n#*:}
		command -v "$need_c" >/dev/null 2>&1 ||
			need_missing="$need_missing $need_c (package $need_p)"
	done
	[ -z "$need_missing" ] && return 0
	need_strict && need_fail "$need_missing"
	skip_all="needs$need_missing"
	test_done
}

need_file() {
	need_path=$1
	shift
	[ -e "$need_path" ] && return 0
	need_strict && need_fail "$need_path ($*)"
	skip_all="needs $need_path ($*)"
	test_done
}
