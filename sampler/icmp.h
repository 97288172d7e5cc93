/* Ping sockets (ICMP/ICMPv6 echo datagram sockets, socket(AF_INET, SOCK_DGRAM,
 * IPPROTO_ICMP)): sock_diag has no handler for them, so they are read from
 * /proc/self/net/icmp and icmp6 opened inside the namespace (such an fd keeps reading
 * that namespace). A ping socket shows there once it is bound, which its
 * first send does. Library style: -1 and errno, never print. */
#ifndef CLAWSS_ICMP_H
#define CLAWSS_ICMP_H

#include <stddef.h>
#include "diag.h"

/* The most of a ping socket table read (procnet_read_all): one that never ends. */
#define ICMP_READ_MAX ((size_t)256 << 20)

/* Parses /proc/net/icmp (family SKF_IPV4) or icmp6 (SKF_IPV6) text; cb per socket, with
 * proto SK_ICMP, lport the echo identifier, rport 0, the remote address (once the
 * socket is connected; SK_HAVE_RADDR clear before: sendto alone sets none), state ESTABLISHED or CLOSE, uid and inode, and the
 * cookie SK_COOKIE_INODE | inode (/proc shows no cookie). Lines may be of any length.
 * -1 with EBADMSG on malformed text (then no socket is taken as gone); a callback's
 * nonzero result stops the walk and is returned. */
int icmp_parse(const char *text, int family, diag_cb cb, void *arg);

#endif
