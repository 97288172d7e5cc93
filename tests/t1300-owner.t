#!/bin/sh
test_description='the owner of a socket held by several processes is the lowest pid holding it
when first seen (README, "owners"), not the process that made it'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

# share.py MODE: a connection held by two processes. MODE passed: the child (the higher
# pid) makes it and passes it to the parent over a unix socket (SCM_RIGHTS); inherited:
# the parent makes it and the child inherits it. Prints "holding PARENT CHILD" once both
# hold it.
cat >share.py <<\EOF
import os, socket, sys, time
mode = sys.argv[1]
a, b = socket.socketpair()
c = socket.create_connection(("192.0.2.2", 9002)) if mode == "inherited" else None
pid = os.fork()
if pid == 0:
    with open("/proc/self/comm", "w") as f:
        f.write("child-holder")
    if mode == "passed":
        c = socket.create_connection(("192.0.2.2", 9002))
        socket.send_fds(a, [b"x"], [c.fileno()])
    else:
        a.send(b"x")
    time.sleep(120)
    sys.exit(0)
with open("/proc/self/comm", "w") as f:
    f.write("parent-holder")
if mode == "passed":
    _, fds, _, _ = socket.recv_fds(b, 1, 1)
    keep = socket.socket(fileno=fds[0])
else:
    b.recv(1)
print("holding %d %d" % (os.getpid(), pid), flush=True)
time.sleep(120)
EOF

# owner_is OUT: the row of the connection to 9002 has the lowest of the two pids, and its
# name (established: the previous run's connection lingers in TIME_WAIT)
owner_is() {
	set -- $(cat "$1") &&
	low=$2 && name=parent-holder &&
	if [ "$3" -lt "$2" ]; then low=$3; name=child-holder; fi &&
	test "$(sql "SELECT count(*) FROM sockets WHERE remote_port = 9002 AND direction = 'out' AND state = 1")" = 1 &&
	test "$(sql "SELECT pid || ' ' || comm FROM sockets WHERE remote_port = 9002 AND direction = 'out' AND state = 1")" = "$low $name"
}

test_expect_success 'setup: two namespaces joined by veth, servers in ext' '
	netns_setup && ext_servers
'

test_expect_success 'a connection made by the child and passed to its parent: the parent owns it' '
	db_reset &&
	bg_ns $NS_TOOL python3 share.py passed >passed.out &&
	wait_for 30 grep -q holding passed.out &&
	# first seen now, with both holding it
	"$CLAWSS" sample $NS_TOOL &&
	owner_is passed.out &&
	ip netns pids $NS_TOOL | xargs -r kill
'

test_expect_success 'a connection made by the parent and inherited by its child: the parent owns it' '
	db_reset &&
	wait_for 10 sh -c "! ip netns pids $NS_TOOL | grep -q ." &&
	bg_ns $NS_TOOL python3 share.py inherited >inherited.out &&
	wait_for 30 grep -q holding inherited.out &&
	"$CLAWSS" sample $NS_TOOL &&
	owner_is inherited.out &&
	ip netns pids $NS_TOOL | xargs -r kill
'

test_done
