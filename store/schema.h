/* The database schema, version 5 (3: flows). Documented for sqlite3 users in man/clawss.8 (DATABASE).
 * Times are integer milliseconds since the Unix epoch (UTC). Addresses are text, IPv4
 * for v4-mapped IPv6. A NULL means "the kernel did not tell us". */
#ifndef CLAWSS_SCHEMA_H
#define CLAWSS_SCHEMA_H

#include "store_int.h"

#define STORE_APPLICATION_ID 0x636c6177 /* "claw": marks the file as ours */
#define STORE_SCHEMA_VERSION 5

static const char store_schema_v1[] =
	"CREATE TABLE meta (\n"
	"  key TEXT PRIMARY KEY,\n"
	"  value TEXT\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE containers (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  engine_id TEXT,\n"                     /* Docker/Podman id, else NULL */
	"  image TEXT,\n"
	"  netns_ino INTEGER NOT NULL,\n"
	"  boot_id TEXT NOT NULL,\n"
	"  started INTEGER,\n"                    /* engine or process start, else NULL */
	"  first_seen INTEGER NOT NULL,\n"
	"  last_seen INTEGER NOT NULL,\n"
	"  ended INTEGER\n"                       /* when the target ended, else NULL */
	");\n"
	"CREATE INDEX containers_ns ON containers(boot_id, netns_ino);\n"
	"CREATE TABLE sockets (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  container_id INTEGER NOT NULL REFERENCES containers(id) ON DELETE CASCADE,\n"
	"  cookie INTEGER NOT NULL,\n"            /* kernel socket cookie (raw from /proc: 2^63|inode) */
	"  proto TEXT NOT NULL,\n"                /* tcp udp raw packet */
	"  family TEXT NOT NULL,\n"               /* ipv4 ipv6 packet */
	"  direction TEXT NOT NULL,\n"            /* out in listen */
	"  local_addr TEXT,\n"
	"  local_port INTEGER,\n"                 /* RAW: IP protocol; PACKET: ethertype */
	"  remote_addr TEXT,\n"
	"  remote_port INTEGER,\n"
	"  state INTEGER NOT NULL,\n"             /* kernel TCP state number; view gives names */
	"  first_seen INTEGER NOT NULL,\n"
	"  last_seen INTEGER NOT NULL,\n"
	"  closed_at INTEGER,\n"                  /* NULL while open */
	"  bytes_sent INTEGER,\n"
	"  bytes_received INTEGER,\n"
	"  pid INTEGER,\n"
	"  comm TEXT,\n"
	"  uid INTEGER,\n"
	"  inode INTEGER,\n"
	"  seen_alive INTEGER NOT NULL DEFAULT 0\n" /* 1: a poll saw it open, not only its end */
	");\n"
	"CREATE UNIQUE INDEX sockets_cookie ON sockets(container_id, cookie);\n"
	"CREATE INDEX sockets_first ON sockets(container_id, first_seen);\n"
	"CREATE TABLE activity (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  container_id INTEGER NOT NULL REFERENCES containers(id) ON DELETE CASCADE,\n"
	"  kind TEXT NOT NULL,\n"                 /* lost-events, exec, ... */
	"  start INTEGER NOT NULL,\n"
	"  end INTEGER,\n"
	"  count INTEGER,\n"
	"  detail TEXT\n"
	");\n"
	"CREATE INDEX activity_container ON activity(container_id, start);\n"
	/* Names as report --format json spells them, for people at the sqlite3 prompt. */
	"CREATE VIEW connections AS SELECT s.id, c.name AS container, s.proto, s.family,\n"
	"  s.direction, s.local_addr, s.local_port, s.remote_addr, s.remote_port,\n"
	"  CASE WHEN s.proto != 'tcp' AND s.state = 7 THEN 'UNCONN' ELSE\n"
	"  CASE s.state WHEN 1 THEN 'ESTABLISHED' WHEN 2 THEN 'SYN_SENT' WHEN 3 THEN 'SYN_RECV'\n"
	"  WHEN 4 THEN 'FIN_WAIT1' WHEN 5 THEN 'FIN_WAIT2' WHEN 6 THEN 'TIME_WAIT'\n"
	"  WHEN 7 THEN 'CLOSE' WHEN 8 THEN 'CLOSE_WAIT' WHEN 9 THEN 'LAST_ACK'\n"
	"  WHEN 10 THEN 'LISTEN' WHEN 11 THEN 'CLOSING' WHEN 12 THEN 'NEW_SYN_RECV'\n"
	"  ELSE 'UNKNOWN' END END AS state,\n"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', s.first_seen / 1000.0, 'unixepoch') AS first_seen,\n"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', s.last_seen / 1000.0, 'unixepoch') AS last_seen,\n"
	"  s.closed_at IS NOT NULL AS closed, s.bytes_sent, s.bytes_received, s.pid, s.comm\n"
	"  FROM sockets s JOIN containers c ON c.id = s.container_id;\n";

/* Version 2: the change sequence behind `clawss export --since CURSOR`. meta 'seq' is the
 * last value handed out; every socket write (insert or update) takes the next one into
 * sockets.updated, in the same write transaction, so a reader sees values below the
 * committed 'seq' complete. The sequence starts at the creation time in microseconds:
 * a database made to replace a deleted one starts above any cursor the old one gave
 * (it would have needed more than one write per microsecond over its life to get
 * there), so a stale cursor cannot hide the new file's rows. Rows a v1 file holds get
 * that start value: a first export sends them all. No index: export reads the table
 * sequentially anyway (report/export.c), and an index costs ~16 bytes per row.
 * New files are also created with auto_vacuum=INCREMENTAL (open.c); a v1 file is
 * converted by its first `clawss prune` (a one-time VACUUM, store_prune_vacuum). */
static const char store_schema_v2[] =
	"ALTER TABLE sockets ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;\n"
	"INSERT OR REPLACE INTO meta (key, value) VALUES ('seq',\n"
	"  CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) * 1000);\n"
	"UPDATE sockets SET updated = (SELECT CAST(value AS INTEGER) FROM meta\n"
	"  WHERE key = 'seq');\n";

/* The connections view of version 3; version 4 adds remote_name after source. */
#define CONNECTIONS_VIEW_V3 \
	"CREATE VIEW connections AS SELECT s.id, c.name AS container, s.proto, s.family,\n" \
	"  s.direction, s.local_addr, s.local_port, s.remote_addr, s.remote_port,\n" \
	"  CASE WHEN s.proto != 'tcp' AND s.state = 7 THEN 'UNCONN' ELSE\n" \
	"  CASE s.state WHEN 1 THEN 'ESTABLISHED' WHEN 2 THEN 'SYN_SENT' WHEN 3 THEN 'SYN_RECV'\n" \
	"  WHEN 4 THEN 'FIN_WAIT1' WHEN 5 THEN 'FIN_WAIT2' WHEN 6 THEN 'TIME_WAIT'\n" \
	"  WHEN 7 THEN 'CLOSE' WHEN 8 THEN 'CLOSE_WAIT' WHEN 9 THEN 'LAST_ACK'\n" \
	"  WHEN 10 THEN 'LISTEN' WHEN 11 THEN 'CLOSING' WHEN 12 THEN 'NEW_SYN_RECV'\n" \
	"  ELSE 'UNKNOWN' END END AS state,\n" \
	"  strftime('%Y-%m-%dT%H:%M:%fZ', s.first_seen / 1000.0, 'unixepoch') AS first_seen,\n" \
	"  strftime('%Y-%m-%dT%H:%M:%fZ', s.last_seen / 1000.0, 'unixepoch') AS last_seen,\n" \
	"  s.closed_at IS NOT NULL AS closed, s.bytes_sent, s.bytes_received, s.pid, s.comm,\n" \
	"  s.bytes_source, CASE s.flow WHEN 1 THEN 'flow' WHEN 2 THEN 'socket+flow'\n" \
	"  ELSE 'socket' END AS source"
#define CONNECTIONS_FROM "  FROM sockets s JOIN containers c ON c.id = s.container_id"

/* Version 3: flows (conntrack) joined to sockets. sockets.flow: NULL when no conntrack
 * flow was joined to the row, 1 for a flow with no socket (its own row: unconnected UDP
 * per destination, ICMP echo, a refused SYN; cookie in the 2^62 space, owner unknown),
 * 2 for a socket joined to its flow. sockets.bytes_source says what the byte columns
 * count: 'tcp_info' (payload, TCP only) or 'flow' (conntrack's counters: whole IP
 * packets, headers included); NULL with the bytes. The view gains both. */
static const char store_schema_v3[] =
	"ALTER TABLE sockets ADD COLUMN flow INTEGER;\n"
	"ALTER TABLE sockets ADD COLUMN bytes_source TEXT;\n"
	"UPDATE sockets SET bytes_source = 'tcp_info' WHERE bytes_sent IS NOT NULL;\n"
	"DROP VIEW connections;\n"
	CONNECTIONS_VIEW_V3 "\n"
	CONNECTIONS_FROM ";\n";

/* Version 4: names (DNS answers and queries seen in the namespace).
 * names: one row per resolution episode of an address in a container: name resolved
 * to addr from first_seen to last_seen (answers seen), TTL of the last answer. When
 * another name takes the address, a new row begins, so the rows of one (container,
 * addr) are disjoint episodes in time order and "the name that resolved to it last
 * before a connection" is one index seek (report/names.c; the view below does it in
 * SQL). dns_queries: one row per query (or per answer whose query was not seen).
 * Both are bounded per container by the watcher (sampler/dnsw.c); what it did not store
 * is counted in an activity row of kind 'dns-budget'. */
static const char store_schema_v4[] =
	"CREATE TABLE names (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  container_id INTEGER NOT NULL REFERENCES containers(id) ON DELETE CASCADE,\n"
	"  name TEXT NOT NULL,\n"                /* lower case, no final dot */
	"  addr TEXT NOT NULL,\n"
	"  first_seen INTEGER NOT NULL,\n"
	"  last_seen INTEGER NOT NULL,\n"
	"  ttl INTEGER NOT NULL,\n"              /* seconds, of the last answer */
	"  resolver TEXT,\n"                     /* address of the server that answered */
	"  answers INTEGER NOT NULL DEFAULT 1\n" /* answers that gave it in this episode */
	");\n"
	"CREATE INDEX names_addr ON names(container_id, addr, first_seen);\n"
	"CREATE TABLE dns_queries (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  container_id INTEGER NOT NULL REFERENCES containers(id) ON DELETE CASCADE,\n"
	"  t INTEGER NOT NULL,\n"
	"  resolver_addr TEXT,\n"
	"  resolver_port INTEGER,\n"
	"  proto TEXT NOT NULL,\n"               /* udp tcp */
	"  qname TEXT NOT NULL,\n"
	"  qtype INTEGER NOT NULL,\n"
	"  rcode INTEGER,\n"                     /* NULL: no answer seen */
	"  answers TEXT,\n"                      /* addresses, space-separated */
	"  answered_at INTEGER\n"
	");\n"
	"CREATE INDEX dns_queries_container ON dns_queries(container_id, t);\n"
	/* remote_name for sqlite3 users: the same rule as report (names.h) */
	"DROP VIEW connections;\n"
	CONNECTIONS_VIEW_V3 ",\n"
	"  " STORE_REMOTE_NAME_SQL "\n"
	"  AS remote_name\n"
	CONNECTIONS_FROM ";\n"
	"CREATE VIEW dns AS SELECT q.id, c.name AS container,\n"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', q.t / 1000.0, 'unixepoch') AS time,\n"
	"  q.resolver_addr, q.resolver_port, q.proto, q.qname, q.qtype, q.rcode, q.answers\n"
	"  FROM dns_queries q JOIN containers c ON c.id = q.container_id;\n";

/* Version 5: budgets and incidents of the hardening work. Connections that `watch` did
 * not record one row each, because their container was past its row budget for the hour
 * (watch --row-budget) or because the database was full and more were held in memory
 * than a bound, are counted here per container, hour and destination; an activity row
 * (kind row-budget or disk-full) says when and why. NULL bytes: the kernel gave none. */
static const char store_schema_v5[] =
	"CREATE TABLE aggregates (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  container_id INTEGER NOT NULL REFERENCES containers(id) ON DELETE CASCADE,\n"
	"  hour INTEGER NOT NULL,\n"               /* start of the hour (ms) they fell in */
	"  proto TEXT NOT NULL,\n"
	"  family TEXT NOT NULL,\n"
	"  direction TEXT NOT NULL,\n"
	"  remote_addr TEXT,\n"
	"  remote_port INTEGER,\n"
	"  count INTEGER NOT NULL,\n"              /* connections */
	"  bytes_sent INTEGER,\n"
	"  bytes_received INTEGER,\n"
	"  first_seen INTEGER NOT NULL,\n"
	"  last_seen INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX aggregates_container ON aggregates(container_id, hour);\n";

#endif
