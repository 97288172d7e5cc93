# Sourced by the confinement tests after sharness.sh: read what a clawss process holds
# once it confined itself. CLAWSS_TEST_SECCOMP_PROBE=stop makes it stop (SIGSTOP) right
# after confinement, so nothing here races with it.
#
#   status_field PID FIELD    a field of /proc/PID/status (CapEff, Seccomp, ...)
#   stopped PID               the process is stopped
#   confined PID CAPEFF       a clawss stopped by the probe: Seccomp 2, no_new_privs, CapEff
#                             and CapPrm CAPEFF, no bounding set, no ambient; then SIGCONT

status_field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

stopped() {
	test "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T
}

confined() {
	confined_t=300
	until stopped "$1"; do
		confined_t=$((confined_t - 1))
		[ $confined_t -gt 0 ] || { echo "pid $1 never stopped" >&2; return 1; }
		sleep 0.1
	done
	test "$(status_field "$1" Seccomp)" = 2 &&
	test "$(status_field "$1" NoNewPrivs)" = 1 &&
	test "$(status_field "$1" CapEff)" = "$2" &&
	test "$(status_field "$1" CapPrm)" = "$2" &&
	test "$(status_field "$1" CapBnd)" = 0000000000000000 &&
	test "$(status_field "$1" CapAmb)" = 0000000000000000
	confined_rc=$?
	[ $confined_rc = 0 ] || grep -E "^(Seccomp|NoNewPrivs|Cap)" "/proc/$1/status" >&2
	kill -CONT "$1"
	return $confined_rc
}
