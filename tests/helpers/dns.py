#!/usr/bin/env python3
"""DNS for clawss's end-to-end tests: a tiny authoritative server and a client that
builds raw queries and sends them with sendto (no system resolver). Test code only:
it talks to the addresses it is given, which the tests assign inside their namespaces.

  dns.py serve ADDR [--tcp]    answers until killed:
        api.example.test A     a different address on each query (a CDN), TTL 30
        NAME.example.test A    198.51.100.20 (any other name under example.test)
        late.test A            203.0.113.30
        *.t.tunnel.test        TXT with a few bytes (what a tunnel server sends back)
        anything else          NXDOMAIN
  dns.py query SERVER NAME [--type A|TXT|NULL|CNAME] [--tcp] [--connect --hold S]
        one query, prints the answer's addresses one a line; --connect: from a
        connected UDP socket, held S seconds after the answer
  dns.py tunnel SERVER DOMAIN N  N TXT queries with random 40-character labels (data)
"""
import argparse, random, select, socket, struct, sys, time

API = ["198.51.100.10", "203.0.113.10", "198.51.100.11", "203.0.113.11"]
TYPES = {"A": 1, "NULL": 10, "CNAME": 5, "TXT": 16, "AAAA": 28}

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"

def decode_question(msg):
    i, labels = 12, []
    while msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode())
        i += 1 + n
    qtype, qclass = struct.unpack("!HH", msg[i + 1:i + 5])
    return ".".join(labels).lower(), qtype, msg[12:i + 5]

def answer(msg, state):
    qid = struct.unpack("!H", msg[:2])[0]
    name, qtype, question = decode_question(msg)
    rrs, rcode = [], 0
    ptr = b"\xc0\x0c"
    if qtype == 1 and name == "api.example.test":
        addr = API[state["api"] % len(API)]
        state["api"] += 1
        rrs.append(ptr + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(addr))
    elif qtype == 1 and name.endswith(".example.test"):
        rrs.append(ptr + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton("198.51.100.20"))
    elif qtype == 1 and name == "late.test":
        rrs.append(ptr + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton("203.0.113.30"))
    elif name.endswith(".tunnel.test"):
        data = b"\x08ok-data!"
        rrs.append(ptr + struct.pack("!HHIH", 16, 1, 0, len(data)) + data)
    else:
        rcode = 3
    head = struct.pack("!HHHHHH", qid, 0x8400 | rcode, 1, len(rrs), 0, 0)
    return head + question + b"".join(rrs)

def serve(args):
    state = {"api": 0}
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((args.addr, 53))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((args.addr, 53)); t.listen(64)
    print("ready", flush=True)
    while True:
        r, _, _ = select.select([u, t], [], [])
        if u in r:
            msg, peer = u.recvfrom(4096)
            try:
                u.sendto(answer(msg, state), peer)
            except Exception:
                pass
        if t in r:
            c, _ = t.accept()
            c.settimeout(2)
            try:
                n = struct.unpack("!H", c.recv(2))[0]
                msg = c.recv(n)
                out = answer(msg, state)
                c.sendall(struct.pack("!H", len(out)) + out)
            except Exception:
                pass
            c.close()

def query_msg(name, qtype):
    qid = random.randrange(65536)
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) + \
        struct.pack("!HH", qtype, 1)

def addresses(resp):
    _, _, _, an, _, _ = struct.unpack("!HHHHHH", resp[:12])
    _, _, q = decode_question(resp)
    i, out = 12 + len(q), []
    for _ in range(an):
        i += 2  # compressed owner
        rtype, _, _, rdlen = struct.unpack("!HHIH", resp[i:i + 10])
        i += 10
        if rtype == 1:
            out.append(socket.inet_ntoa(resp[i:i + rdlen]))
        i += rdlen
    return out

def query(args):
    msg = query_msg(args.name, TYPES[args.type])
    if args.tcp:
        c = socket.create_connection((args.server, 53), timeout=3)
        c.sendall(struct.pack("!H", len(msg)) + msg)
        n = struct.unpack("!H", c.recv(2))[0]
        resp = c.recv(n)
        c.close()
    elif args.connect:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect((args.server, 53))
        s.send(msg)
        resp = s.recv(4096)
        time.sleep(args.hold)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(msg, (args.server, 53))
        resp, _ = s.recvfrom(4096)
    for a in addresses(resp):
        print(a)

def tunnel(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    for i in range(args.n):
        label = "".join(random.choice(alphabet) for _ in range(40))
        s.sendto(query_msg("%s.%d.%s" % (label, i, args.domain), TYPES["TXT"]),
                 (args.server, 53))
        try:
            s.recvfrom(4096)
        except socket.timeout:
            pass

def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("serve"); a.add_argument("addr"); a.set_defaults(fn=serve)
    a = sub.add_parser("query"); a.add_argument("server"); a.add_argument("name")
    a.add_argument("--type", default="A"); a.add_argument("--tcp", action="store_true")
    a.add_argument("--connect", action="store_true")
    a.add_argument("--hold", type=float, default=0)
    a.set_defaults(fn=query)
    a = sub.add_parser("tunnel"); a.add_argument("server"); a.add_argument("domain")
    a.add_argument("n", type=int); a.set_defaults(fn=tunnel)
    args = p.parse_args()
    args.fn(args)

if __name__ == "__main__":
    main()
