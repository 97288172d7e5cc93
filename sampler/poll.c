/* One namespace's dump (every socket kind, from sock_diag or /proc), and the incidents
 * a watch records when something could not be seen: private to the watcher. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "owner.h"
#include "procnet.h"
#include "table.h"
#include "watch_int.h"

/* One stderr line now, the activity row at the namespace's next transaction
 * (poll_incidents_write): incidents happen inside a finishing target's transaction too,
 * where a transaction of their own could not begin. */
void poll_incident(struct watch *w, struct wt *wt, int64_t at, const char *kind,
		   const char *fmt, ...)
{
	char detail[sizeof(wt->inc[0].detail)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	watch_log(w, WLOG_WARN, "%s: %s", wt->t.name, detail);
	if (wt->ninc == MAX_INCIDENTS)
		return;  /* the stderr line was said; a row per kind per tick is plenty */
	struct incident *i = &wt->inc[wt->ninc++];
	i->at = at;
	i->kind = kind;
	snprintf(i->detail, sizeof(i->detail), "%s", detail);
}

/* Inside the caller's transaction. */
int poll_incidents_write(struct watch *w, struct wt *wt)
{
	for (int i = 0; i < wt->ninc; i++)
		if (store_activity(w->st, wt->sc.id, wt->inc[i].kind, wt->inc[i].at, wt->inc[i].at,
				   1, wt->inc[i].detail) < 0)
			return -1;
	wt->ninc = 0;
	return 0;
}

/* /proc/net/raw{,6}, read whole whatever their size. */
static int dump_raw_proc(struct watch *w, struct wt *wt)
{
	static const int fams[2] = { SKF_IPV4, SKF_IPV6 };
	for (int i = 0; i < 2; i++) {
		if (wt->h.raw_fd[i] < 0)
			continue;
		if (procnet_read_all(wt->h.raw_fd[i], &w->rawbuf[i], PROCNET_BUF_MAX) < 0)
			return -1;
		if (procnet_parse_raw(w->rawbuf[i].p, fams[i], table_dump_sock, wt->tab) != 0) {
			if (errno != ENOMEM)
				errno = EBADMSG;
			return -1;
		}
	}
	return 0;
}

/* What one dump could not complete: per kind, the first error. */
struct dump_fail {
	unsigned sk_kinds;        /* 1 << SK_* */
	int err[SK_PROTO_MAX + 1];
};

static void dump_failed(struct dump_fail *f, int proto, int err)
{
	if (!(f->sk_kinds & (1u << proto)))
		f->err[proto] = err;
	f->sk_kinds |= 1u << proto;
}

/* A kind whose dump fails is never silent: an incident (stderr and an activity row) when
 * it starts failing, a line when it works again. Its sockets meanwhile stay as the last
 * complete dump showed them: table_dump_end closes only what complete dumps miss. */
static void dump_report(struct watch *w, struct wt *wt, int64_t now, const struct dump_fail *f,
			unsigned attempted)
{
	for (int p = 1; p <= SK_PROTO_MAX; p++) {
		unsigned bit = 1u << p;
		if ((f->sk_kinds & bit) && !(wt->failing_sk & bit))
			poll_incident(w, wt, now, "dump-failed", "%s dump failed: %s; its sockets "
				      "are kept as the last complete dump showed them",
				      sk_proto_name(p), strerror(f->err[p]));
		else if (!(f->sk_kinds & bit) && (wt->failing_sk & bit) && (attempted & bit))
			watch_log(w, WLOG_INFO, "%s: %s dump works again", wt->t.name,
				  sk_proto_name(p));
	}
	wt->failing_sk = (wt->failing_sk & ~attempted) | f->sk_kinds;
}

/* One TCP or UDP pass: both families in one walk where the kernel can, else each. */
static int dump_inet(struct watch *w, struct wt *wt, int proto, unsigned procnet_kinds,
		     const unsigned bits[2], unsigned states, struct dump_fail *f)
{
	if (proto == SK_TCP && w->tcp_both >= 0 && (procnet_kinds & bits[0]) &&
	    (procnet_kinds & bits[1])) {
		/* both families in one walk of the host-wide TCP tables */
		if (diag_dump_states(wt->h.dump, SK_TCP, DIAG_BOTH_FAMILIES, states,
				     table_dump_sock, wt->tab) == 0) {
			w->tcp_both = 1;
			return 0;
		}
		if (w->tcp_both != 0 ||
		    (errno != EINVAL && errno != ENOENT && errno != EOPNOTSUPP)) {
			dump_failed(f, proto, errno);
			return -1;
		}
		w->tcp_both = -1;
		watch_log(w, WLOG_VERBOSE, "TCPDIAG_GETSOCK refused (%s): "
			  "dumping TCP one family at a time", strerror(errno));
	}
	int rc = 0;
	for (int i = 0; i < 2; i++) {
		int fam = i ? SKF_IPV6 : SKF_IPV4;
		if (!(procnet_kinds & bits[i]))
			continue;
		if (diag_dump_states(wt->h.dump, proto, fam, states, table_dump_sock, wt->tab) < 0 &&
		    !(fam == SKF_IPV6 && (errno == EAFNOSUPPORT || errno == ENOENT))) {
			dump_failed(f, proto, errno);
			rc = -1;
		}
	}
	return rc;
}

/* RAW: raw_diag where the kernel has it, else /proc/net/raw{,6}. */
static int dump_raw(struct watch *w, struct wt *wt, struct dump_fail *f)
{
	if (w->raw_diag >= 0) {
		int rc = diag_dump(wt->h.dump, SK_RAW, SKF_IPV4, table_dump_sock, wt->tab);
		if (rc == 0)
			rc = diag_dump(wt->h.dump, SK_RAW, SKF_IPV6, table_dump_sock, wt->tab);
		if (rc == 0) {
			w->raw_diag = 1;
			return 0;
		}
		if (errno != ENOENT || w->raw_diag != 0) {
			dump_failed(f, SK_RAW, errno);
			return -1;
		}
		w->raw_diag = -1;
		watch_log(w, WLOG_VERBOSE, "no raw_diag in this kernel: reading /proc/net/raw");
	}
	if (dump_raw_proc(w, wt) < 0) {
		dump_failed(f, SK_RAW, errno);
		return -1;
	}
	return 0;
}

/* The refresh of a quiet namespace whose only open sockets are TCP listeners: those
 * alone (the listening table, not the host-wide established one). */
void poll_refresh_listeners(struct watch *w, struct wt *wt, int64_t now)
{
	static const unsigned tcp_bits[2] = { PROCNET_TCP4, PROCNET_TCP6 };
	struct dump_fail f = { 0 };
	table_dump_begin(wt->tab, now);
	table_dump_listeners_only(wt->tab);
	/* the families sockstat counts sockets in (the table's listeners are among them) */
	dump_inet(w, wt, SK_TCP, wt->procnet_kinds, tcp_bits, DIAG_TCP_LISTEN_ONLY, &f);
	if (table_dump_end(wt->tab, (1u << SK_TCP) & ~f.sk_kinds) < 0)
		poll_incident(w, wt, now, "dump-failed", "out of memory recording sockets");
	dump_report(w, wt, now, &f, 1u << SK_TCP);
	w->stats.listener_refreshes++;
}

/* procnet_kinds: the PROCNET_* kinds to dump; the others have no socket (their sockstat
 * counts read 0), which makes their dumps complete without the cost of a kernel walk. */
void poll_dump(struct watch *w, struct wt *wt, int64_t now, unsigned procnet_kinds)
{
	static const unsigned tcp_bits[2] = { PROCNET_TCP4, PROCNET_TCP6 };
	static const unsigned udp_bits[2] = { PROCNET_UDP4, PROCNET_UDP6 };
	struct dump_fail f = { 0 };
	unsigned attempted = 1u << SK_TCP | 1u << SK_UDP | 1u << SK_PACKET;

	table_dump_begin(wt->tab, now);
	dump_inet(w, wt, SK_TCP, procnet_kinds, tcp_bits, ~0u, &f);
	dump_inet(w, wt, SK_UDP, procnet_kinds, udp_bits, ~0u, &f);
	if (diag_dump(wt->h.dump, SK_PACKET, 0, table_dump_sock, wt->tab) < 0)
		dump_failed(&f, SK_PACKET, errno);  /* ENOENT too: no packet_diag, none seen */
	if (procnet_kinds & (PROCNET_RAW4 | PROCNET_RAW6)) {
		attempted |= 1u << SK_RAW;
		dump_raw(w, wt, &f);
	}
	unsigned extra = watch_extra_dump(w, wt);   /* ping sockets, unix sockets out */
	owner_round(wt->owner);
	/* the kinds dumped, or absent (no socket to miss), minus those that failed */
	unsigned complete = ((1u << SK_TCP | 1u << SK_UDP | 1u << SK_PACKET | 1u << SK_RAW) &
			     ~f.sk_kinds) | extra;
	if (table_dump_end(wt->tab, complete) < 0)
		poll_incident(w, wt, now, "dump-failed", "out of memory recording sockets");
	dump_report(w, wt, now, &f, attempted);
	wt->last_dump = now;
	wt->dumped = 1;
	wt->pending = 0;
	wt->need_dump = 0;
	w->stats.dumps++;
}

