/* The watcher's DNS side (names): attaching a namespace's log, reading it. Writing is
 * in the tick (watch.c poll_one), inside its transaction. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "dnslog.h"
#include "dnsw.h"
#include "watch_int.h"

void watch_dns_attach(struct watch *w, struct wt *wt)
{
	int stranded;
	if (!w->sdns || !wt->flows_on)
		return;   /* no table in this namespace, so nothing is logged to the group */
	struct dnslog *log = dnslog_open(w->home_fd, wt->t.nsfd, &stranded);
	if (!log) {
		if (stranded) {
			w->fatal = 1;
			snprintf(w->fatal_msg, sizeof(w->fatal_msg),
				 "setns back to our own namespace: %s", strerror(errno));
		} else if (!w->dns_warned++) {
			watch_log(w, WLOG_WARN, "%s: DNS logging (nftables, nfnetlink_log): %s; "
				  "names are off there", wt->t.name, strerror(errno));
		}
		return;
	}
	wt->dns = dnsw_new(log);
}

void watch_dns_read(struct watch *w, struct wt *wt)
{
	int lost = 0;
	if (dnsw_read(wt->dns, &lost) < 0)
		watch_log(w, WLOG_WARN, "%s: reading DNS packets: %s", wt->t.name, strerror(errno));
	else if (lost)
		watch_log(w, WLOG_VERBOSE, "%s: DNS packets dropped (counted in dns-budget)",
			  wt->t.name);
}
