#!/usr/bin/env python3
"""clawss benchmarks (`make bench`, via bench/run). Prints a table and writes it to
bench/results.txt. Needs root (network namespaces).

Traffic stays on loopback inside namespaces this script makes, or on a veth pair between
two namespaces it makes (192.0.2.0/24, documentation addresses). Nothing is forwarded.
Every namespace lives only as long as a process this script started (bench-ns) or is
deleted at exit (the two `ip netns` ones), even on failure.

Environment: CLAWSS (binary), CLAWSS_HELPERS (dir with bench-ns, bench-floor, bench-rst),
CLAWSS_SRC (repository), BENCH_QUICK=1 (a smaller run, for trying the bench out),
BENCH_ONLY=cpu,variants,short,report,quiet,memory,sockx,flowcost,quiet1000 (sections
to run; the last two, the flow view's, are in bench_flows.py).
"""
import math, os, platform, re, resource, shutil, signal, sqlite3, subprocess, sys
import tempfile, time

CLAWSS = os.path.abspath(os.environ.get("CLAWSS", "./clawss"))
HELPERS = os.path.abspath(os.environ.get("CLAWSS_HELPERS", "build/tests/helpers"))
SRC = os.path.abspath(os.environ.get("CLAWSS_SRC", "."))
QUICK = os.environ.get("BENCH_QUICK") == "1"
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
PREFIX = os.environ.get("BENCH_NS_PREFIX", "clawssbench-%d-" % os.getpid())
TMP = tempfile.mkdtemp(prefix="clawss-bench.")
OUT = []          # lines of the results table
PROCS = []        # processes to end at exit
NETNS = []        # `ip netns` names to delete at exit


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


def note(msg):
    print("  .. " + msg, file=sys.stderr, flush=True)


def want(section):
    return not ONLY or section in ONLY


def mono():
    return time.monotonic()


def now_ms():
    return int(time.time() * 1000)


def cpu_of(pid):
    """CPU time (user+sys, seconds) of a single-threaded process, ns resolution."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mem_of(pid):
    """VmRSS, VmHWM and RssAnon (its own memory, without shared libraries) in KiB."""
    rss = hwm = anon = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1])
    return rss, hwm, anon


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def helper(name):
    return os.path.join(HELPERS, name)


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, **kw)


class Holder:
    """bench-ns: N namespaces, each with one process holding S loopback TCP sockets."""

    def __init__(self, n, s, dual=False):
        self.p = subprocess.Popen([helper("bench-ns"), "-n", str(n), "-s", str(s),
                                   "-f", "900"] + (["-6"] if dual else []),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        PROCS.append(self.p)
        self.pids = []
        self.sockets = 0
        for line in self.p.stdout:
            line = line.strip()
            if line == "ready":
                break
            if line.startswith("sockets "):
                self.sockets = int(line.split()[1])
            else:
                self.pids.append(int(line))
        if len(self.pids) != n:
            self.close()
            raise RuntimeError("bench-ns did not start its %d namespaces" % n)

    def churn(self, tick_ms=50):
        self.p.stdin.write("churn %d\n" % tick_ms)
        self.p.stdin.flush()

    def close(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self.p in PROCS:
            PROCS.remove(self.p)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def floor(pids, interval_ms, rounds, kinds="tcp", runs=1):
    """The floor's CPU per namespace-poll: the cheapest of runs runs."""
    best = None
    for _ in range(runs):
        out = sh(helper("bench-floor"), "-i", str(interval_ms), "-r", str(rounds), "-k",
                 kinds, *map(str, pids), stdout=subprocess.PIPE, text=True).stdout
        us = float(re.search(r"us_per_poll=([0-9.]+)", out).group(1))
        best = us if best is None else min(best, us)
    return best


def ss_cost(pids, rounds):
    c0 = children_cpu()
    for _ in range(rounds):
        for p in pids:
            sh("nsenter", "-t", str(p), "-n", "ss", "-tuani", stdout=subprocess.DEVNULL)
    return (children_cpu() - c0) * 1e6 / (rounds * len(pids))


STATS_RE = re.compile(r"(\d+) polls, (\d+) dumps, (\d+) skipped, (\d+) destroy notifications, "
                      r"(\d+) lost incidents, (\d+) rows written")


def db_count(db, sql, args=()):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


def watch(db, targets, interval_ms, warm_s, window_s, extra=(), parts=3):
    """Runs `clawss -v watch`; measures CPU, polls, memory and rows over a window after a
    warm-up (the first tick, which dumps every namespace, is not in it). The window is
    cut in parts and the cheapest part's CPU per poll kept: other work on the machine
    only ever adds to it. Returns a dict."""
    err = open(os.path.join(TMP, "watch.err"), "w+")
    args = [CLAWSS, "-v", "--db", db, "watch", "--interval", "%dms" % interval_ms,
            *extra, *targets]
    t_start = mono()
    p = subprocess.Popen(args, stderr=err, stdout=subprocess.DEVNULL)
    PROCS.append(p)
    try:
        time.sleep(warm_s)
        if p.poll() is not None:
            raise RuntimeError("clawss watch exited early")
        c0, t0, w0 = cpu_of(p.pid), mono(), now_ms()
        marks = [(c0, t0)]
        for _ in range(parts):
            time.sleep(window_s / parts)
            marks.append((cpu_of(p.pid), mono()))
        c1, t1 = marks[-1]
        rss, hwm, anon = mem_of(p.pid)
        rows_window = db_count(db, "SELECT count(*) FROM sockets WHERE last_seen >= ?", (w0,))
        t_stop = mono()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        PROCS.remove(p)
    err.seek(0)
    text = err.read()
    err.close()
    m = STATS_RE.search(text)
    if not m or p.returncode != 0:
        raise RuntimeError("clawss watch failed (%s): %s" % (p.returncode, text[-500:]))
    ticks, dumps, skipped, destroys, lost, rows = map(int, m.groups())
    # ticks are even in time (the warm-up and the window both run the timer); the last
    # one is the forced tick at SIGTERM
    rate = max(ticks - 1, 1) / (t_stop - t_start)
    polls = rate * (t1 - t0) * len(targets)
    best = min((b[0] - a[0]) * 1e6 / (rate * (b[1] - a[1]) * len(targets))
               for a, b in zip(marks, marks[1:]))
    best_share = min((b[0] - a[0]) / (b[1] - a[1]) for a, b in zip(marks, marks[1:]))
    return dict(cpu=c1 - c0, wall=t1 - t0, polls=polls, us_per_poll=best,
                mean_us_per_poll=(c1 - c0) * 1e6 / polls, anon=anon, core=best_share,
                ticks=ticks, dumps=dumps, skipped=skipped, destroys=destroys, lost=lost,
                rows=rows, rows_window=rows_window, rss=rss, hwm=hwm,
                dump_share=dumps / max(ticks * len(targets), 1),
                expected_ticks=(t_stop - t_start) * 1000 / interval_ms + 1)


def sample(db, targets):
    sh(CLAWSS, "-q", "--db", db, "sample", *targets, stdout=subprocess.DEVNULL)


def fmt(v, nd=0):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return ("%%.%df" % nd) % v


def table(header, rows):
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    say("  ".join(str(h).rjust(w[i]) for i, h in enumerate(header)))
    for r in rows:
        say("  ".join(str(c).rjust(w[i]) for i, c in enumerate(r)))


def pick_interval(pids):
    """An interval at which neither the floor nor clawss is CPU-bound: 4x a full round."""
    us = floor(pids, 0, 2)
    round_ms = us * len(pids) / 1000
    return max(100, int(math.ceil(round_ms * 4 / 100.0)) * 100)


# ---- 1. CPU per namespace-poll ---------------------------------------------------------

def bench_cpu():
    say("1. CPU per namespace-poll, microseconds of user+sys CPU (lower is better)")
    say("   Each namespace: TCP listeners on 127.0.0.1 and ::1 and connections to them")
    say("   (both ends), half over IPv4, half over IPv6, held by a process inside it.")
    say("   floor: a bare sock_diag poller (tests/helpers/bench-floor.c: TCP v4+v6 with")
    say("   tcp_info, one dump socket per namespace); all: the same dumping everything a")
    say("   clawss poll dumps (TCP, UDP, PACKET, RAW); ss: `nsenter -t PID -n ss -tuani`.")
    say("   quiet: sockets held, nothing changes. busy: every interval/2, each namespace")
    say("   closes (RST) the connection it opened last time and opens a new one, so every")
    say("   poll must dump, and records new sockets (alive, with their owner) and closed")
    say("   ones; the floor is measured again under the same churn.")
    say("   dumps: dumps per namespace-poll (the first and last ticks dump everything).")
    say("   rows/poll: rows written per namespace-poll in the quiet window (target 0).")
    say("   Each CPU figure is the cheapest of 2 or 3 measurements: other work on the")
    say("   machine only ever adds to it.")
    sizes = [10, 100] if QUICK else [10, 100, 1000]
    counts = [1, 20] if QUICK else [1, 20, 100]
    rows = []
    worst = 0.0
    for s in sizes:
        for n in counts:
            note("cpu: %d namespaces x %d sockets" % (n, s))
            with Holder(n, s, dual=True) as h:
                # at 100 x 1000 a round takes over a second here: poll back to back
                iv = min(pick_interval(h.pids), 1000)
                targets = ["pid:%d" % p for p in h.pids]
                rounds = max(3, int(2000 / iv))
                fl = floor(h.pids, iv, rounds, runs=2)
                fl_all = floor(h.pids, iv, rounds, "all")
                ssus = ss_cost(h.pids, max(1, (40 if QUICK else 100) // n))
                db = os.path.join(TMP, "cpu-%d-%d.db" % (s, n))
                sample(db, targets)
                warm = max(1.0, 3 * iv / 1000)
                win = max(3.0, 5 * iv / 1000)
                q = watch(db, targets, iv, warm, win)
                h.churn(max(iv // 2, 10))
                time.sleep(0.3)
                flb = floor(h.pids, iv, rounds)
                b = watch(db, targets, iv, warm, win)
                flb = min(flb, floor(h.pids, iv, rounds))
                socks = h.sockets
            ratio = b["us_per_poll"] / flb
            worst = max(worst, ratio)
            rows.append([socks, n, "%dms" % iv, fmt(fl), fmt(fl_all), fmt(ssus),
                         fmt(q["us_per_poll"], 1), fmt(q["dump_share"], 2),
                         fmt(q["rows_window"] / q["polls"], 3),
                         fmt(flb), fmt(b["us_per_poll"]), fmt(b["dump_share"], 2),
                         fmt(ratio, 2)])
    table(["sockets/ns", "namespaces", "interval", "floor", "all", "ss", "quiet",
           "dumps", "rows/poll", "floor(busy)", "busy", "dumps", "busy/floor"], rows)
    return worst


def bench_variants():
    say("")
    say("1b. Busy polls of 20 namespaces x ~100 sockets, four ways. IPv4 only: clawss")
    say("   skips the dumps whose sockstat counts read 0 (here TCP over IPv6, UDP, RAW);")
    say("   the floor does not. Child tables: net.ipv4.tcp_child_ehash_entries=1024 (and")
    say("   udp_child_hash_entries=1024) set while the namespaces are made, so that their")
    say("   dumps walk a 1024-bucket table of their own instead of the host's")
    say("   (tcp_ehash_entries buckets); restored right after. Interval 100ms.")
    keys = ["net.ipv4.tcp_child_ehash_entries", "net.ipv4.udp_child_hash_entries"]
    old = {}
    for k in keys:
        r = subprocess.run(["sysctl", "-n", k], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        if r.returncode == 0:
            old[k] = r.stdout.strip()
    n, s = (20, 100)
    rows = []
    child = "net.ipv4.tcp_child_ehash_entries" in old
    if not child:
        say("   (this kernel has no tcp_child_ehash_entries: child tables not measured)")
    elif not os.access("/proc/sys/net/ipv4/tcp_child_ehash_entries", os.W_OK) or \
            subprocess.run(["sysctl", "-q", "-w", "net.ipv4.tcp_child_ehash_entries=%s"
                            % old["net.ipv4.tcp_child_ehash_entries"]],
                           stderr=subprocess.DEVNULL).returncode != 0:
        # a container's read-only /proc/sys: measure the host's tables only
        child = False
        say("   (net.ipv4.tcp_child_ehash_entries cannot be set here: child tables not measured)")
    for label, dual in (("dual-stack", True), ("IPv4 only", False)):
        # the host's and the own-table namespaces exist side by side and are measured in
        # turn, so that other work on the machine weighs on both alike
        note("variants: %s" % label)
        hs = []
        try:
            hs.append(("host's", Holder(n, s, dual=dual)))
            if child:
                try:
                    for k in old:
                        sh("sysctl", "-q", "-w", "%s=1024" % k)
                    hs.append(("own, 1024", Holder(n, s, dual=dual)))
                finally:
                    # only namespaces made while it is set get their own table
                    for k, v in old.items():
                        sh("sysctl", "-q", "-w", "%s=%s" % (k, v), check=False)
            res = {}
            for name, h in hs:
                db = os.path.join(TMP, "var-%d-%s.db" % (dual, name[:3]))
                sample(db, ["pid:%d" % p for p in h.pids])
                h.churn(50)
                res[name] = dict(db=db, fl=[], all=[], busy=[])
            time.sleep(0.3)
            for _ in range(2):
                for name, h in hs:
                    r = res[name]
                    r["fl"].append(floor(h.pids, 100, 15))
                    r["all"].append(floor(h.pids, 100, 15, "all"))
                    r["busy"].append(watch(r["db"], ["pid:%d" % p for p in h.pids], 100,
                                           1.0, 2.0)["us_per_poll"])
            for name, h in hs:
                r = res[name]
                fl, busy = min(r["fl"]), min(r["busy"])
                rows.append([label, name, n, h.sockets, fmt(fl), fmt(min(r["all"])),
                             fmt(busy), fmt(busy / fl, 2)])
        finally:
            for _, h in hs:
                h.close()
    table(["sockets", "hash table", "namespaces", "sockets/ns", "floor", "all",
           "clawss busy", "busy/floor"], rows)
    if old:
        say("   (%s restored to %s)" % (", ".join(k.split(".")[-1] for k in old),
                                        ", ".join(old.values())))


# ---- 2. Short-lived connections ------------------------------------------------------------

def ipns(*args):
    sh("ip", *args)


def bench_short():
    say("")
    say("2. Short-lived connections: RST-closed, ~1 ms lifetime, from a \"tool\" namespace")
    say("   to a server in a second namespace over a veth pair (192.0.2.1 -> 192.0.2.2),")
    say("   watched with the default --interval 1s. recorded: rows in the database.")
    tool, ext = PREFIX + "tool", PREFIX + "ext"
    NETNS.extend([tool, ext])
    ipns("netns", "add", tool)
    ipns("netns", "add", ext)
    veth = "cb%dt" % (os.getpid() % 100000)
    ipns("-n", tool, "link", "set", "lo", "up")
    ipns("-n", ext, "link", "set", "lo", "up")
    ipns("link", "add", veth, "netns", tool, "type", "veth", "peer", "name", veth[:-1] + "e",
         "netns", ext)
    ipns("-n", tool, "addr", "add", "192.0.2.1/24", "dev", veth)
    ipns("-n", ext, "addr", "add", "192.0.2.2/24", "dev", veth[:-1] + "e")
    ipns("-n", tool, "link", "set", veth, "up")
    ipns("-n", ext, "link", "set", veth[:-1] + "e", "up")
    srv = subprocess.Popen(["ip", "netns", "exec", ext, helper("bench-rst"), "serve",
                            "192.0.2.2", "9100"], stdout=subprocess.PIPE, text=True)
    PROCS.append(srv)
    srv.stdout.readline()
    rows = []
    results = {}
    plan = [(1000, 3000 if QUICK else 5000), (10000, 10000 if QUICK else 30000)]
    for rate, count in plan:
        note("short-lived: %d/s x %d" % (rate, count))
        db = os.path.join(TMP, "short-%d.db" % rate)
        err = open(os.path.join(TMP, "short.err"), "w+")
        # every connection a row: this measures what is missed, not the row budget
        w = subprocess.Popen([CLAWSS, "-v", "--db", db, "watch", "--row-budget", "0", tool],
                             stderr=err,
                             stdout=subprocess.DEVNULL)
        PROCS.append(w)
        time.sleep(1.5)
        g = sh("ip", "netns", "exec", tool, helper("bench-rst"), "gen", "192.0.2.2", "9100",
               str(rate), str(count), "1000", stdout=subprocess.PIPE, text=True).stdout
        time.sleep(2.0)   # the last notifications, and a tick to write them
        w.send_signal(signal.SIGTERM)
        w.wait(timeout=120)
        PROCS.remove(w)
        err.seek(0)
        m = STATS_RE.search(err.read())
        err.close()
        made = int(re.search(r"generated (\d+)", g).group(1))
        got_rate = float(re.search(r"rate (\d+)", g).group(1))
        rec = db_count(db, "SELECT count(*) FROM sockets WHERE proto = 'tcp' AND "
                       "direction = 'out' AND remote_addr = '192.0.2.2'")
        lost = int(m.group(5)) if m else -1
        results[rate] = (db, rec)
        rows.append([rate, fmt(got_rate), made, rec, "%.2f%%" % (100.0 * rec / made), lost])
    srv.terminate()
    srv.wait()
    PROCS.remove(srv)
    table(["target/s", "achieved/s", "generated", "recorded", "share", "lost incidents"], rows)
    return results


# ---- 3. Disk ---------------------------------------------------------------------------------

def db_bytes(db):
    con = sqlite3.connect(db, timeout=10)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        n = con.execute("SELECT count(*) FROM sockets").fetchone()[0]
        try:
            tbl = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN ('sockets', "
                              "'sockets_cookie', 'sockets_first') OR name LIKE "
                              "'sqlite_autoindex_sockets%'").fetchone()[0]
        except sqlite3.OperationalError:
            tbl = None
    finally:
        con.close()
    size = os.path.getsize(db)
    return n, size, tbl


def bench_disk(short, cpu_db):
    say("")
    say("3. Disk: bytes per recorded connection (file size after a WAL checkpoint; and the")
    say("   sockets table with its indexes alone, from dbstat). Target <= 200.")
    rows = []
    for label, db in [("RST-closed, 10k/s (section 2)", short.get(10000, (None,))[0]),
                      ("long-lived, all fields (section 1)", cpu_db)]:
        if not db or not os.path.exists(db):
            continue
        n, size, tbl = db_bytes(db)
        rows.append([label, n, size, fmt(size / max(n, 1), 1),
                     fmt(tbl / max(n, 1), 1) if tbl else "-"])
    table(["database", "rows", "file bytes", "bytes/row", "table+index bytes/row"], rows)


# ---- 4. report on a million connections ----------------------------------------------------

GEN_SQL = """
PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {nc})
INSERT INTO containers (name, netns_ino, boot_id, started, first_seen, last_seen, ended)
SELECT 'agent-' || i, 4026540000 + i, 'bench', {t0} + i * 1000, {t0} + i * 1000,
       {t0} + 86400000, NULL FROM c;
WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {per} - 1),
  x AS (SELECT c.id AS cid, c.started AS st, j,
        -- a burst of 40 connections in the first 20 s, then one every ~8 s for a day
        CASE WHEN j < 40 THEN c.started + j * 500
             ELSE c.started + 60000 + (j - 40) * 8000 + (j * 7919 + c.id * 104729) % 3000
        END AS fs
        FROM containers c, k WHERE c.boot_id = 'bench')
INSERT INTO sockets (container_id, cookie, proto, family, direction, local_addr,
  local_port, remote_addr, remote_port, state, first_seen, last_seen, closed_at,
  bytes_sent, bytes_received, pid, comm, uid, inode, seen_alive)
SELECT cid, cid * 10000000 + j,
  CASE WHEN j % 10 = 9 THEN 'udp' ELSE 'tcp' END, 'ipv4', 'out', '192.0.2.1',
  32768 + (j * 31) % 28000,
  CASE WHEN j < 40 THEN '203.0.113.' || (1 + j % 8)
       ELSE '198.51.100.' || (1 + (j * 7919 + cid * 104729) % 200) END,
  CASE WHEN j % 10 = 9 THEN 53 WHEN j % 3 = 0 THEN 80 ELSE 443 END,
  CASE WHEN j % 10 = 9 THEN 1 ELSE 7 END,
  fs, fs + 150 + j % 900, fs + 150 + j % 900,
  CASE WHEN j % 10 = 9 THEN NULL ELSE 300 + (j * 13) % 20000 END,
  CASE WHEN j % 10 = 9 THEN NULL ELSE 1000 + (j * 17) % 900000 END,
  1000 + cid, 'agent-tool', 0, 200000 + j, 1
FROM x;
-- names (schema 4): every destination resolved by its container, so every row is looked
-- up and named; and 1,000 DNS queries per container for the tunnel rule
WITH RECURSIVE a(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM a WHERE i < 200)
INSERT INTO names (container_id, name, addr, first_seen, last_seen, ttl, resolver)
SELECT c.id, 'cdn-' || a.i || '.example.net', '198.51.100.' || a.i, c.started - 100,
       c.started + 86400000, 300, '192.0.2.53' FROM containers c, a WHERE c.boot_id = 'bench'
UNION ALL
SELECT c.id, 'api-' || a.i || '.example.com', '203.0.113.' || a.i, c.started - 100,
       c.started + 86400000, 300, '192.0.2.53' FROM containers c, a
       WHERE c.boot_id = 'bench' AND a.i <= 8;
WITH RECURSIVE q(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM q WHERE i < 999)
INSERT INTO dns_queries (container_id, t, resolver_addr, resolver_port, proto, qname,
  qtype, rcode, answers, answered_at)
SELECT c.id, c.started + q.i * 80000, '192.0.2.53', 53, 'udp',
       'cdn-' || (1 + q.i % 200) || '.example.net', 1, 0, '198.51.100.' || (1 + q.i % 200),
       c.started + q.i * 80000 + 5 FROM containers c, q WHERE c.boot_id = 'bench';
COMMIT;
ANALYZE;
"""


def bench_report():
    say("")
    n_cont, per = (100, 2000) if QUICK else (100, 10000)
    total = n_cont * per
    say("4. report over %s generated connections (%d containers x %d; a burst, then one"
        % ("{:,}".format(total), n_cont, per))
    say("   connection every ~8 s; 1,600 destinations; every destination named, 20,800")
    say("   name episodes, 100,000 DNS queries); wall time, output to /dev/null,")
    say("   best of 3. Target < 1 s.")
    db = os.path.join(TMP, "report.db")
    with Holder(1, 0) as h:
        sample(db, ["pid:%d" % h.pids[0]])
    note("report: generating %d rows" % total)
    t = mono()
    sql = GEN_SQL.format(nc=n_cont, per=per, t0=now_ms() - 2 * 86400000)
    sh("sqlite3", db, stdin=None, input=sql, text=True, stdout=subprocess.DEVNULL)
    gen_s = mono() - t
    # half the names declared by a wildcard, a few exactly, some addresses
    allow = os.path.join(TMP, "report.allow")
    with open(allow, "w") as f:
        f.write("*.example.com 443\napi-1.example.com 80\ncdn-7.example.net\n"
                "198.51.100.0/25 443 tcp\n")
    rows = []
    for label, args in [("report", []), ("report --since-idle", ["--since-idle"]),
                        ("report --by destination", ["--by", "destination"]),
                        ("report --format json", ["--format", "json"]),
                        ("report --allow (names)", ["--allow", allow]),
                        ("report --dns", ["--dns"])]:
        best, rc = None, None
        for _ in range(3):
            t = mono()
            r = subprocess.run([CLAWSS, "--db", db, "report", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            el = mono() - t
            rc = r.returncode
            best = el if best is None else min(best, el)
            if rc not in (0, 1):
                note("%s failed: %s" % (label, r.stderr.strip()))
                break
        rows.append([label, fmt(best, 3) if rc in (0, 1) else "failed (exit %d)" % rc])
    table(["command", "seconds"], rows)
    say("   (database generated with sqlite3 in %.1f s; %d bytes)" % (gen_s, os.path.getsize(db)))


# ---- 5. Many quiet containers, memory ------------------------------------------------------

def bench_quiet():
    say("")
    n, s, win = (200, 4, 10.0 if QUICK else 30.0)
    say("5. %d quiet containers (a listener and 2 connections each, held), watched at" % n)
    say("   --interval 1s (default --refresh 10s) for %.0f s after a warm-up. Target < 2%%." % win)
    with Holder(n, s) as h:
        targets = ["pid:%d" % p for p in h.pids]
        db = os.path.join(TMP, "quiet.db")
        sample(db, targets)
        q = watch(db, targets, 1000, 2.0, win)
        socks = h.sockets
    rows = [[n, socks, "%.0f s" % q["wall"], fmt(q["cpu"], 3),
             "%.2f%%" % (100 * q["cpu"] / q["wall"]), fmt(q["mean_us_per_poll"], 1),
             fmt(q["dump_share"], 3), q["rows_window"], q["rss"] // 1024]]
    table(["namespaces", "sockets/ns", "window", "cpu s", "of one core", "us/ns-poll",
           "dumps/poll", "rows in window", "RSS MiB"], rows)
    return q


def bench_memory():
    say("")
    say("6. Memory of `clawss watch` in KiB, after the first ticks (which insert every")
    say("   socket): VmRSS, VmHWM, and RssAnon (its own memory; the rest of VmRSS is shared")
    say("   library pages). Target: < 32 MiB for 200 namespaces x 100 live sockets.")
    rows = []
    res = {}
    plan = [(1, 0), (200, 0), (200, 100)] if not QUICK else [(1, 0), (50, 0), (50, 100)]
    for n, s in plan:
        note("memory: %d x %d" % (n, s))
        with Holder(n, s) as h:
            targets = ["pid:%d" % p for p in h.pids]
            db = os.path.join(TMP, "mem-%d-%d.db" % (n, s))
            q = watch(db, targets, 1000, 3.0, 2.0)
            q["live"] = n * h.sockets
        res[(n, s)] = q
        rows.append([n, h.sockets, q["live"], q["rss"], q["hwm"], q["anon"]])
    table(["namespaces", "sockets/ns", "live sockets", "VmRSS", "VmHWM", "RssAnon"], rows)
    (n1, _), (nn, _), (nb, sb) = plan
    per_ns = (res[(nn, 0)]["anon"] - res[(n1, 0)]["anon"]) / (nn - n1)
    per_sock = (res[(nb, sb)]["anon"] - res[(nn, 0)]["anon"]) / (
        res[(nb, sb)]["live"] - res[(nn, 0)]["live"])
    say("   per namespace: %.1f KiB; per live socket: %.0f bytes (differences of RssAnon;"
        % (per_ns, per_sock * 1024))
    say("   the SQLite page cache, up to 2 MiB, grows with the database in the latter)")
    return res


# ---- main --------------------------------------------------------------------------------------

def cleanup():
    for p in list(PROCS):
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    for n in NETNS:
        subprocess.run(["ip", "netns", "pids", n], stdout=subprocess.PIPE)
        pids = subprocess.run(["ip", "netns", "pids", n], stdout=subprocess.PIPE,
                              text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
    shutil.rmtree(TMP, ignore_errors=True)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ehash = open("/proc/sys/net/ipv4/tcp_ehash_entries").read().strip() \
        if os.path.exists("/proc/sys/net/ipv4/tcp_ehash_entries") else "?"
    return "%s, %d cores, kernel %s, tcp_ehash_entries %s" % (
        model, os.cpu_count(), platform.release(), ehash)


def bench_sockx():
    say("")
    say("7. Ping and unix sockets (bench-sockx): CPU microseconds per namespace of what")
    say("   each poll reads. icmp is read every tick (the change detector for ping sockets);")
    say("   icmp-parse and unix only when the namespace is dumped; sockstat and tcp+udp")
    say("   for scale. Both /proc/net/icmp and the unix dump grow with the sockets there.")
    runs = [(50, 10, 2), (20, 200, 50)] if not QUICK else [(20, 10, 2)]
    for n, pairs, pings in runs:
        out = sh(helper("bench-sockx"), "-n", str(n), "-u", str(pairs), "-p", str(pings),
                 "-r", "50" if QUICK else "200", capture_output=True, text=True).stdout
        for line in out.splitlines():
            say("   " + line)


def main():
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces): sudo make bench", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
    t_all = mono()
    say("clawss bench, %s%s" % (time.strftime("%Y-%m-%d"), " (BENCH_QUICK)" if QUICK else ""))
    say("machine: %s" % machine())
    try:
        load = open("/proc/loadavg").read().split()[0]
        say("load average at start: %s (other work on the machine skews CPU numbers)" % load)
        say("")
        if want("cpu"):
            bench_cpu()
        if want("variants"):
            bench_variants()
        short = bench_short() if want("short") else {}
        cpu_db = os.path.join(TMP, "cpu-100-20.db")
        if want("short") or want("cpu"):
            bench_disk(short, cpu_db)
        if want("report"):
            bench_report()
        if want("quiet"):
            bench_quiet()
        if want("memory"):
            bench_memory()
        if want("flowcost") or want("quiet1000"):
            import bench_flows
            bench_flows.run(sys.modules[__name__])
        if want("sockx"):
            bench_sockx()
        say("")
        say("bench took %.0f s" % (mono() - t_all))
    finally:
        cleanup()
        dest = os.environ.get("BENCH_RESULTS", os.path.join(SRC, "bench", "results.txt"))
        with open(dest, "w") as f:
            f.write("\n".join(OUT) + "\n")
        print("bench: results written to %s" % dest, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
