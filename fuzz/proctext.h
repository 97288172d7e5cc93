/* The harnesses of the /proc/net table parsers (procnet.c, icmp.c), which read the same
 * line format: byte 0's bit 0 picks IPv4 or IPv6, the rest is the file's text. */
#ifndef CLAWSS_FUZZ_PROCTEXT_H
#define CLAWSS_FUZZ_PROCTEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sampler/diag.h"

typedef int (*fuzz_proc_parser)(const char *text, int family, diag_cb cb, void *arg);

/* Runs parse over the input's text, NUL-terminated in its own allocation, with check
 * per socket; then also (NULL: nothing) over the same text. */
static inline int fuzz_proc_table(const uint8_t *data, size_t size, fuzz_proc_parser parse,
				  diag_cb check, void (*also)(const char *text))
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	parse(text, data[0] & 1 ? SKF_IPV6 : SKF_IPV4, check, NULL);
	if (also)
		also(text);
	free(text);
	return 0;
}

#endif
