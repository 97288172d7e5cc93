"""The flow view's benchmarks, sections of `make bench` (bench/bench.py calls run()):

7. Cost to the container: a 1-byte TCP request/response loop (tests/helpers/bench-rr)
   and bulk TCP (iperf3) from a "container" namespace to its peer over a veth pair,
   without and with `clawss watch` on the container (its table, conntrack on, events
   read), in interleaved rounds; medians and ratios. Budget RR >= 0.93x, bulk >= 0.97x.
8. 1000 quiet namespaces watched with flows at --interval 1s: time until all are
   attached, CPU share in steady state, resident size. Budget < 1% of one core,
   RSS < 64 MiB, attached within 10 s.

Traffic stays between two namespaces this makes (192.0.2.0/24); nothing is forwarded.
"""
import json, os, shutil, signal, statistics, subprocess, time

B = None   # the bench module (say, table, sh, helper, Holder, ...)


def ns_pair(tag):
    tool, ext = B.PREFIX + tag + "t", B.PREFIX + tag + "e"
    B.NETNS.extend([tool, ext])
    veth = "cf%dt" % (os.getpid() % 100000)
    for n in (tool, ext):
        B.sh("ip", "netns", "add", n)
        B.sh("ip", "-n", n, "link", "set", "lo", "up")
    B.sh("ip", "link", "add", veth, "netns", tool, "type", "veth", "peer", "name",
         veth[:-1] + "e", "netns", ext)
    B.sh("ip", "-n", tool, "addr", "add", "192.0.2.1/24", "dev", veth)
    B.sh("ip", "-n", ext, "addr", "add", "192.0.2.2/24", "dev", veth[:-1] + "e")
    B.sh("ip", "-n", tool, "link", "set", veth, "up")
    B.sh("ip", "-n", ext, "link", "set", veth[:-1] + "e", "up")
    return tool, ext


def bg(*args):
    p = subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    B.PROCS.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in B.PROCS:
        B.PROCS.remove(p)


def has_table(ns):
    return subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "table", "inet",
                           "clawss"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def rr(tool, secs):
    # client on CPU 0, server on CPU 1 (bg serve): the scheduler's placement was the
    # largest noise between rounds
    out = B.sh("ip", "netns", "exec", tool, "taskset", "-c", "0", B.helper("bench-rr"), "run",
               "192.0.2.2", "9200", "%g" % secs, stdout=subprocess.PIPE, text=True).stdout
    return float(out.split()[1])


def bulk(tool, secs):
    out = B.sh("ip", "netns", "exec", tool, "iperf3", "-A", "0", "-c", "192.0.2.2", "-p", "9201",
               "-t", "%g" % secs, "-J", stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9


# The designs measured side by side: the table clawss adds without a watcher (the
# kernel's share: conntrack on), a lighter stateless design (rules that only match first
# packets, no conntrack: no destroy, no counters, no RST-closed ports), and the watch.
CT_RULES = ("add table inet bench; "
            "add chain inet bench o { type filter hook output priority 0; }; "
            "add chain inet bench i { type filter hook input priority 0; }; "
            "add rule inet bench o ct state new; add rule inet bench i ct state new")
STATELESS_RULES = ("add table inet bench; "
                   "add chain inet bench o { type filter hook output priority 0; }; "
                   "add chain inet bench i { type filter hook input priority 0; }; "
                   "add rule inet bench o tcp flags & (syn | ack) == syn counter; "
                   "add rule inet bench i tcp flags & (syn | ack) == syn counter")
VARIANTS = ("without", "conntrack only", "stateless", "with watch")


def variant_on(v, tool, db):
    if v in ("conntrack only", "stateless"):
        B.sh("ip", "netns", "exec", tool, "nft", CT_RULES if v == "conntrack only"
             else STATELESS_RULES)
        return None
    if v == "with watch":
        w = bg(B.CLAWSS, "--db", db, "watch", tool)
        t0 = B.mono()
        while not has_table(tool) and B.mono() - t0 < 20:
            time.sleep(0.1)
        return w
    return None


def variant_off(tool, w):
    if w:
        stop(w)
    subprocess.run(["ip", "netns", "exec", tool, "nft", "delete", "table", "inet", "bench"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bench_cost():
    B.say("")
    B.say("7. Cost to the container of the flow view: from a \"container\" namespace to its")
    B.say("   peer over a veth pair, a 1-byte TCP request/response loop (transactions/s) and")
    B.say("   bulk TCP (iperf3, Gbit/s), client and server pinned to CPUs 0 and 1; without")
    B.say("   anything, with the table alone (conntrack on, no watcher), with a lighter")
    B.say("   stateless design (first-packet rules, no conntrack) and with `clawss watch`;")
    B.say("   rounds rotate the order; each ratio is the median of the rounds' own ratios to")
    B.say("   that round's run without. Budget (with watch): RR >= 0.93x, bulk >= 0.97x.")
    if not shutil.which("iperf3"):
        B.say("   (skipped: iperf3 missing; sudo make deps)")
        return None
    rounds, secs = (3, 1.0) if B.QUICK else (9, 2.0)
    tool, ext = ns_pair("c")
    srv = bg("ip", "netns", "exec", ext, "taskset", "-c", "1", B.helper("bench-rr"), "serve",
             "192.0.2.2", "9200")
    srv.stdout.readline()
    ip3 = bg("ip", "netns", "exec", ext, "iperf3", "-s", "-A", "1", "-B", "192.0.2.2", "-p",
             "9201")
    time.sleep(0.5)
    res = {v: {"rr": [], "bulk": []} for v in VARIANTS}
    db = os.path.join(B.TMP, "cost.db")
    for r in range(rounds):
        order = VARIANTS[r % len(VARIANTS):] + VARIANTS[:r % len(VARIANTS)]
        if r % 2:
            order = order[::-1]
        for v in order:
            w = variant_on(v, tool, db)
            B.note("cost: round %d, %s" % (r + 1, v))
            try:
                res[v]["rr"].append(rr(tool, secs))
                res[v]["bulk"].append(bulk(tool, secs))
            finally:
                variant_off(tool, w)
    stop(ip3)
    stop(srv)
    out = {}
    for kind, unit, nd, budget in (("rr", "trans/s", 0, "0.93x"), ("bulk", "Gbit/s", 2, "0.97x")):
        rows = []
        base = res["without"][kind]
        for v in VARIANTS:
            vals = res[v][kind]
            ratio = statistics.median(x / b for x, b in zip(vals, base))
            lo, hi = (min(x / b for x, b in zip(vals, base)), max(x / b for x, b in zip(vals, base)))
            if v == "with watch":
                out[kind] = ratio
            rows.append([kind, unit, v, B.fmt(statistics.median(vals), nd),
                         "%.3fx" % ratio, "%.2f-%.2f" % (lo, hi),
                         budget if v == "with watch" else ""])
        B.table(["test", "unit", "design", "median", "ratio", "round ratios", "budget"], rows)
    return out


def bench_quiet1000():
    B.say("")
    n = 200 if B.QUICK else 1000
    win = 10.0 if B.QUICK else 30.0
    B.say("8. %d quiet containers watched with flows (a table and conntrack events in each)" % n)
    B.say("   at --interval 1s: seconds until all are attached (rows in containers), CPU")
    B.say("   seconds of the warm-up (start, attach, first dumps and owner lookups, two")
    B.say("   refreshes), CPU share over %.0f s of steady state after it, resident size." % win)
    B.say("   Budget: < 1% of one core,")
    B.say("   RSS < 64 MiB, attached within 10 s.")
    with B.Holder(n, 0) as h:
        targets = ["pid:%d" % p for p in h.pids]
        db = os.path.join(B.TMP, "quiet1000.db")
        err = open(os.path.join(B.TMP, "quiet1000.err"), "w+")
        t0 = B.mono()
        p = subprocess.Popen([B.CLAWSS, "-v", "--db", db, "watch", "--interval", "1s",
                              *targets], stderr=err, stdout=subprocess.DEVNULL)
        B.PROCS.append(p)
        attached = None
        try:
            while B.mono() - t0 < 120 and p.poll() is None:
                try:
                    if B.db_count(db, "SELECT count(*) FROM containers") >= n:
                        attached = B.mono() - t0
                        break
                except Exception:
                    pass      # not created yet
                time.sleep(0.2)
            # warm-up: the first ticks dump every namespace and look up each socket's
            # owner, and the first refresh (10 s) dumps those whose counters moved when
            # clawss added its own sockets there; steady state starts after two refreshes
            time.sleep(25.0)
            warm = B.cpu_of(p.pid)
            c0, w0 = B.cpu_of(p.pid), B.mono()
            time.sleep(win)
            c1, w1 = B.cpu_of(p.pid), B.mono()
            rss, hwm, anon = B.mem_of(p.pid)
            tables = sum(1 for pid in h.pids[:20] if subprocess.run(
                ["nsenter", "-t", str(pid), "-n", "nft", "list", "table", "inet", "clawss"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0)
        finally:
            stop(p)
            err.seek(0)
            text = err.read()
            err.close()
    off = text.count("flows are off")
    tamper = text.count("was deleted or changed")
    m = B.STATS_RE.search(text)
    ticks, dumps, skipped = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)
    share = 100 * (c1 - c0) / (w1 - w0)
    B.table(["namespaces", "attached in", "warm-up cpu s", "cpu s", "of one core", "RSS MiB",
             "RssAnon MiB", "tables (of 20)", "flows off", "dumps/ns-poll", "tamper"],
            [[n, "%.1f s" % attached if attached else "never", B.fmt(warm, 3), B.fmt(c1 - c0, 3),
              "%.2f%%" % share, rss // 1024, anon // 1024, tables, off,
              B.fmt(dumps / max(ticks * n, 1), 3), tamper]])
    if tamper:
        B.say("   (tamper: another watcher on this host (an --all run) changed the tables)")
    return dict(attached=attached, share=share, rss=rss)


def run(bench):
    global B
    B = bench
    if B.want("flowcost"):
        bench_cost()
    if B.want("quiet1000"):
        bench_quiet1000()
