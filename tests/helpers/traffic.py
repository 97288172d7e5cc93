#!/usr/bin/env python3
"""Traffic for clawss's end-to-end tests and demo. Only ever talks to the addresses it is
given, which the tests assign inside namespaces they made themselves.

  traffic.py serve ADDR PORT... [--udp PORT...]   TCP sinks and a UDP echo, until killed
  traffic.py tool EXT --burst N --idle S [--covert] [--udp] [--linger S]
        a "tool container": N connections to EXT:80 at start, S seconds idle, then a
        covert upload to EXT:8443 (--covert) and a UDP query to EXT:53 (--udp); prints
        "burst-done", "covert-done" on stdout as it goes, stays --linger S, then exits
  traffic.py rst EXT N [--port P]    N connections closed with RST, as fast as possible
  traffic.py rawpkt --for S          a raw ICMP socket and a packet socket, held
  traffic.py upload EXT PORT BYTES --for S    send BYTES on one connection, then hold it
  traffic.py listen ADDR PORT --for S         accept connections and hold them
  traffic.py connect ADDR PORT N --for S      N connections to ADDR:PORT, held
  Every mode takes --comm NAME: the process name (/proc/self/comm) to use.
  traffic.py hold EXT N --for S [--port P]   N TCP (to EXT:P, default 9000) and N UDP
        (to EXT:53) connections held open for S seconds
"""
import argparse, os, select, socket, struct, sys, threading, time

def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET

def serve(args):
    socks = []
    for p in args.ports:
        s = socket.socket(fam(args.addr), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.addr, p)); s.listen(4096); s.setblocking(False)
        socks.append(s)
    udp = []
    for p in args.udp or []:
        u = socket.socket(fam(args.addr), socket.SOCK_DGRAM)
        u.bind((args.addr, p)); u.setblocking(False)
        udp.append(u)
    conns = []
    while True:
        r, _, _ = select.select(socks + udp + conns, [], [], 1.0)
        for s in r:
            if s in socks:
                try:
                    c, _ = s.accept(); c.setblocking(False); conns.append(c)
                except OSError:
                    pass
            elif s in udp:
                try:
                    data, peer = s.recvfrom(65536); s.sendto(data, peer)
                except OSError:
                    pass
            else:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    conns.remove(s); s.close()

def say(msg):
    print(msg, flush=True)

def tool(args):
    for _ in range(args.burst):
        c = socket.create_connection((args.ext, 80), timeout=5)
        c.sendall(b"GET /model HTTP/1.0\r\n\r\n"); c.close()
    say("burst-done")
    time.sleep(args.idle)
    if args.covert:
        c = socket.create_connection((args.ext, 8443), timeout=5)
        c.sendall(b"s" * 10000)
        time.sleep(args.hold)
        c.close()
    if args.udp:
        u = socket.socket(fam(args.ext), socket.SOCK_DGRAM)
        u.connect((args.ext, 53)); u.send(b"exfil.query"); u.settimeout(2)
        try:
            u.recv(512)
        except OSError:
            pass
        u.close()
    say("covert-done")
    time.sleep(args.linger)

def rst(args):
    linger = struct.pack("ii", 1, 0)
    for _ in range(args.n):
        c = socket.create_connection((args.ext, args.port), timeout=5)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        c.close()
    say("rst-done")

def hold(args):
    keep = []
    for _ in range(args.n):
        keep.append(socket.create_connection((args.ext, args.port), timeout=5))
        u = socket.socket(fam(args.ext), socket.SOCK_DGRAM); u.connect((args.ext, 53))
        keep.append(u)
    say("holding")
    time.sleep(args.seconds)

def rawpkt(args):
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    say("holding")
    time.sleep(args.seconds)

def upload(args):
    c = socket.create_connection((args.ext, args.port), timeout=5)
    c.sendall(b"u" * args.bytes)
    say("holding")
    time.sleep(args.seconds)

def listen(args):
    s = socket.socket(fam(args.addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.addr, args.port)); s.listen(128)
    say("listening")
    keep = []
    end = time.time() + args.seconds
    s.settimeout(0.2)
    while time.time() < end:
        try:
            c, _ = s.accept(); keep.append(c)
        except socket.timeout:
            pass

def connect(args):
    keep = [socket.create_connection((args.addr, args.port), timeout=5) for _ in range(args.n)]
    say("holding")
    time.sleep(args.seconds)

def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve"); p.add_argument("addr"); p.add_argument("ports", type=int, nargs="+")
    p.add_argument("--udp", type=int, nargs="*")
    p = sub.add_parser("tool"); p.add_argument("ext"); p.add_argument("--burst", type=int, default=3)
    p.add_argument("--idle", type=float, default=3); p.add_argument("--covert", action="store_true")
    p.add_argument("--udp", action="store_true"); p.add_argument("--linger", type=float, default=0.5)
    p.add_argument("--hold", type=float, default=0.2)
    p = sub.add_parser("rst"); p.add_argument("ext"); p.add_argument("n", type=int)
    p.add_argument("--port", type=int, default=9000)
    p = sub.add_parser("hold"); p.add_argument("ext"); p.add_argument("n", type=int)
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--for", dest="seconds", type=float, default=5)
    p = sub.add_parser("rawpkt"); p.add_argument("--for", dest="seconds", type=float, default=5)
    p = sub.add_parser("upload"); p.add_argument("ext"); p.add_argument("port", type=int)
    p.add_argument("bytes", type=int); p.add_argument("--for", dest="seconds", type=float, default=5)
    p = sub.add_parser("listen"); p.add_argument("addr"); p.add_argument("port", type=int)
    p.add_argument("--for", dest="seconds", type=float, default=5)
    p = sub.add_parser("connect"); p.add_argument("addr"); p.add_argument("port", type=int)
    p.add_argument("n", type=int); p.add_argument("--for", dest="seconds", type=float, default=5)
    for sp in sub.choices.values():
        sp.add_argument("--comm")
    a = ap.parse_args()
    if a.comm:
        with open("/proc/self/comm", "w") as f:
            f.write(a.comm)
    {"serve": serve, "tool": tool, "rst": rst, "hold": hold, "rawpkt": rawpkt,
     "upload": upload, "listen": listen, "connect": connect}[a.cmd](a)

if __name__ == "__main__":
    main()
