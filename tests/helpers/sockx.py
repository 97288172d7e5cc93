#!/usr/bin/env python3
"""Ping sockets and unix sockets for clawss's end-to-end tests. Pings only the address it
is given (the tests give one inside namespaces they made); unix sockets only at paths
under the test's own directory.

  sockx.py ping ADDR [--sendto] [--delay S] --for S   an ICMP (ICMPv6 for an IPv6
        ADDR) echo datagram socket: connect()ed to ADDR and an echo sent, or with
        --sendto one echo sent unconnected (--delay: S seconds after the socket was
        made, having printed "created"); waits for the reply, prints "pinged ID",
        holds it
  sockx.py unix-listen PATH --for S         a stream listener; accepts and holds
  sockx.py unix-dgram PATH --for S          a bound datagram receiver
  sockx.py unix-connect PATH [--dgram] --for S   connect to PATH, print "holding", hold
  sockx.py unix-inside DIR --for S          a socketpair, and a listener at DIR/in.sock
        with a client connected to it, all in this process: "holding"
  Every mode takes --comm NAME: the process name (/proc/self/comm) to use.
"""
import argparse, os, select, socket, struct, sys, time

def say(msg):
    print(msg, flush=True)

def ping(a):
    v6 = ":" in a.addr
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    # type 128/8 echo request; the kernel sets the identifier and checksum
    msg = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 0, 1) + b"clawss"
    if a.delay:
        say("created")
        time.sleep(a.delay)
    if a.sendto:
        s.sendto(msg, (a.addr, 0))
    else:
        s.connect((a.addr, 0))
        s.send(msg)
    s.settimeout(5)
    s.recv(512)
    say("pinged %d" % s.getsockname()[1])
    time.sleep(a.seconds)

def unix_listen(a):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(a.path); s.listen(16)
    say("listening")
    keep, end = [], time.time() + a.seconds
    s.settimeout(0.2)
    while time.time() < end:
        try:
            c, _ = s.accept(); keep.append(c)
        except socket.timeout:
            pass

def unix_dgram(a):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.path)
    say("listening")
    time.sleep(a.seconds)

def unix_connect(a):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM if a.dgram else socket.SOCK_STREAM)
    c.connect(a.path)
    say("holding")
    time.sleep(a.seconds)

def unix_inside(a):
    p1, p2 = socket.socketpair()
    path = os.path.join(a.dir, "in.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path); s.listen(4)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    acc, _ = s.accept()
    say("holding")
    time.sleep(a.seconds)

def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ping"); p.add_argument("addr"); p.add_argument("--sendto", action="store_true")
    p.add_argument("--delay", type=float, default=0)
    for name in ("unix-listen", "unix-dgram"):
        p = sub.add_parser(name); p.add_argument("path")
    p = sub.add_parser("unix-connect"); p.add_argument("path"); p.add_argument("--dgram", action="store_true")
    p = sub.add_parser("unix-inside"); p.add_argument("dir")
    for sp in sub.choices.values():
        sp.add_argument("--comm")
        sp.add_argument("--for", dest="seconds", type=float, default=5)
    a = ap.parse_args()
    if a.comm:
        with open("/proc/self/comm", "w") as f:
            f.write(a.comm)
    {"ping": ping, "unix-listen": unix_listen, "unix-dgram": unix_dgram,
     "unix-connect": unix_connect, "unix-inside": unix_inside}[a.cmd](a)

if __name__ == "__main__":
    main()
