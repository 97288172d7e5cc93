# Sourced by end-to-end tests after sharness.sh. Makes a "tool container" namespace and
# an "ext" namespace joined by a veth pair, with documentation addresses that exist only
# inside them (the network rule: no traffic leaves namespaces the test made):
#   tool 192.0.2.1/24 2001:db8::1/64   <-veth->   ext 192.0.2.2/24 2001:db8::2/64
# Everything is removed at exit, also when a test fails.

if [ "$(id -u)" != 0 ]; then
	skip_all="needs root (network namespaces)"
	test_done
fi
# as root a missing tool fails the test (lib-need.sh), never skips it
. "$CLAWSS_SRC/tests/lib-need.sh"
need ip:iproute2 python3 sqlite3
# inside a container /proc/sys is read-only: made writable (tools/proc-sys-rw), or an error
"$CLAWSS_SRC/tools/proc-sys-rw"

CLAWSS=${CLAWSS:-clawss}
TRAFFIC="python3 $CLAWSS_SRC/tests/helpers/traffic.py"
NS_TOOL=clawss-$$-tool
NS_EXT=clawss-$$-ext
export CLAWSS_DB="$SHARNESS_TRASH_DIRECTORY/clawss.db"
BG_PIDS=

netns_cleanup() {
	for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
	for n in $(ip netns list 2>/dev/null | awk -v p="clawss-$$-" 'index($1, p) == 1 {print $1}'); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
}
trap netns_cleanup EXIT

# netns_setup: the two namespaces and the veth between them
netns_setup() {
	ip netns add $NS_TOOL && ip netns add $NS_EXT &&
	ip -n $NS_TOOL link set lo up && ip -n $NS_EXT link set lo up &&
	ip link add clw$$t netns $NS_TOOL type veth peer name clw$$e netns $NS_EXT &&
	ip -n $NS_TOOL addr add 192.0.2.1/24 dev clw$$t &&
	ip -n $NS_EXT addr add 192.0.2.2/24 dev clw$$e &&
	ip -n $NS_TOOL addr add 2001:db8::1/64 dev clw$$t nodad &&
	ip -n $NS_EXT addr add 2001:db8::2/64 dev clw$$e nodad &&
	ip -n $NS_TOOL link set clw$$t up && ip -n $NS_EXT link set clw$$e up
}

# in_ns NS CMD...: run a command inside a namespace
in_ns() {
	ns=$1; shift
	ip netns exec "$ns" "$@"
}

# bg CMD...: run in the background, killed at exit; its pid in $BG
bg() {
	"$@" &
	BG=$!
	BG_PIDS="$BG_PIDS $BG"
}

# bg_ns NS CMD...: the same inside a namespace; $BG is the command's own pid
# (ip netns exec execs it), so kill $BG ends it
bg_ns() {
	ns=$1; shift
	ip netns exec "$ns" "$@" &
	BG=$!
	BG_PIDS="$BG_PIDS $BG"
}

# db_reset: start from no database (its -wal and -shm too)
db_reset() {
	rm -f "$CLAWSS_DB" "$CLAWSS_DB-wal" "$CLAWSS_DB-shm"
}

# lines FILE: number of lines
lines() {
	wc -l <"$1" | tr -d " "
}

# wait_for TIMEOUT_S CMD...: poll until CMD succeeds (bounded; never a timing assertion)
wait_for() {
	t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# ext_servers: TCP servers on ext:80, :8443, :9000-9009, a UDP responder on ext:53
# (tests use a port of their own: TIME_WAIT remnants of an earlier test are real sockets)
ext_servers() {
	bg_ns $NS_EXT $TRAFFIC serve 192.0.2.2 80 8443 9000 9001 9002 9003 9004 9005 9006 9007 9008 9009 --udp 53 &&
	wait_for 5 in_ns $NS_EXT python3 -c "import socket; socket.create_connection(('192.0.2.2', 9000)).close()"
}

# sql QUERY: one value from the database
sql() {
	sqlite3 "$CLAWSS_DB" "$1"
}
