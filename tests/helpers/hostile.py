#!/usr/bin/env python3
"""A hostile "container" for clawss's t6* tests. Only ever talks to loopback or to the
addresses it is given, which the tests assign inside namespaces they made themselves.

  hostile.py comm HEX ADDR PORT --for S   set /proc/self/comm to the raw bytes HEX (escape
        sequences, quotes, newlines, invalid UTF-8), hold one TCP connection to ADDR:PORT
  hostile.py udp N --for S                N bound UDP sockets on 127.0.0.x, over as many
        processes as the open-file limit needs
  hostile.py flood N ADDR PORT [--hold K]  K held connections, then N short ones at once
  hostile.py forge [--huge]               send forged sock_diag destroy notifications to
        every NETLINK_SOCK_DIAG socket of this namespace (needs CAP_NET_ADMIN here, as a
        container's root has in its own user namespace); --huge: a 2 GiB nlmsg_len
  hostile.py churn ADDR PORT              short connections forever, a few held
Each prints a line ("holding", "flood-done", "forged N") on stdout when it is set up.
"""
import os, resource, socket, struct, sys, time

def say(msg):
    print(msg, flush=True)

def arg_for(argv, default):
    return float(argv[argv.index("--for") + 1]) if "--for" in argv else default

def comm(argv):
    raw = bytes.fromhex(argv[0])
    with open("/proc/self/comm", "wb") as f:
        f.write(raw)
    c = socket.create_connection((argv[1], int(argv[2])), timeout=5)
    say("holding")
    time.sleep(arg_for(argv, 30))
    c.close()

def udp(argv):
    """N sockets over as many processes as the open-file limit needs (its hard limit
    cannot be raised without CAP_SYS_RESOURCE): one container, many processes"""
    n = int(argv[0])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    per = max(1, hard - 64)
    r, w = os.pipe()
    kids = []
    for start in range(0, n, per):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            keep = []
            for i in range(start, min(n, start + per)):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.%d.%d" % (i // 50000 // 250, 1 + i // 50000 % 250),
                        10000 + i % 50000))
                keep.append(s)
            os.write(w, b"x")
            time.sleep(arg_for(argv, 60))
            os._exit(0)
        kids.append(pid)
    os.close(w)
    got = 0
    while got < len(kids):
        b = os.read(r, 64)
        if not b:
            break
        got += len(b)
    say("holding %d in %d processes" % (n, len(kids)))
    for pid in kids:
        os.waitpid(pid, 0)

def flood(argv):
    n, addr, port = int(argv[0]), argv[1], int(argv[2])
    hold = int(argv[argv.index("--hold") + 1]) if "--hold" in argv else 0
    keep = [socket.create_connection((addr, port), timeout=5) for _ in range(hold)]
    linger = struct.pack("ii", 1, 0)
    for _ in range(n):
        c = socket.create_connection((addr, port), timeout=5)
        if "--rst" in argv:
            # no TIME_WAIT remnant: rounds after the first do not run out of ports
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        c.close()
    say("flood-done")
    time.sleep(arg_for(argv, 30))

def churn(argv):
    """short connections for as long as it lives; most closed with RST so that no
    TIME_WAIT remnant holds a port (hours of churn would exhaust them), a few held"""
    addr, port = argv[0], int(argv[1])
    linger = struct.pack("ii", 1, 0)
    keep = []
    say("churning")
    i = 0
    while True:
        try:
            c = socket.create_connection((addr, port), timeout=5)
            c.sendall(b"x" * 100)
        except OSError:
            time.sleep(0.05)
            continue
        if i % 50 == 0:
            keep.append(c)
            if len(keep) > 20:
                keep.pop(0).close()
        else:
            if i % 2:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            c.close()
        i += 1

def diag_sockets():
    """portids of the NETLINK_SOCK_DIAG (protocol 4) sockets of this namespace"""
    out = []
    with open("/proc/self/net/netlink") as f:
        next(f)
        for line in f:
            p = line.split()
            if int(p[1]) == 4 and int(p[2]) != 0:
                out.append(int(p[2]))
    return out

def forged(huge):
    # struct inet_diag_msg: family, state, timer, retrans; sockid (sport, dport, src[4],
    # dst[4], if, cookie[2]); expires, rqueue, wqueue, uid, inode
    src = socket.inet_aton("192.0.2.1") + bytes(12)
    dst = socket.inet_aton("203.0.113.66") + bytes(12)
    msg = struct.pack("!BBBB", socket.AF_INET, 1, 0, 0)
    msg += struct.pack("!HH", 40000, 4444) + src + dst
    msg += struct.pack("=IIIIIIII", 0, 0xdead, 0xbeef, 0, 0, 0, 0, 0)
    # INET_DIAG_PROTOCOL (10) = IPPROTO_TCP
    attr = struct.pack("=HHB", 5, 10, socket.IPPROTO_TCP) + bytes(3)
    body = msg + attr
    # SOCK_DIAG_BY_FAMILY = 20
    one = struct.pack("=IHHII", 16 + len(body), 20, 0, 0, 0) + body
    if huge:
        # then a header claiming 2.25 GiB: libmnl 1.0.4's walk, casting it to int,
        # steps 2.25 GiB past the buffer and reads there
        one += struct.pack("=IHHII", 0x90000000, 20, 0, 0, 0) + bytes(64)
    return one

def forge(argv):
    huge = "--huge" in argv
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)
    sent = 0
    for portid in diag_sockets():
        if portid == s.getsockname()[0]:
            continue
        try:
            s.sendto(forged(huge), (portid, 0))
            sent += 1
        except OSError as e:
            say("refused %d: %s" % (portid, e))
    say("forged %d" % sent)

def main():
    mode, argv = sys.argv[1], sys.argv[2:]
    {"comm": comm, "udp": udp, "flood": flood, "forge": forge, "churn": churn}[mode](argv)

if __name__ == "__main__":
    main()
