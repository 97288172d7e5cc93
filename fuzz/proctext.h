/* The input of the /proc/net table harnesses (procnet.c, icmp.c): byte 0's bit 0 picks
 * IPv4 or IPv6, the rest is the file's text. */
#ifndef CLAWSS_FUZZ_PROCTEXT_H
#define CLAWSS_FUZZ_PROCTEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sampler/diag.h"

/* The text, NUL-terminated in its own allocation (free it), or NULL; *family its family. */
static inline char *fuzz_proc_text(const uint8_t *data, size_t size, int *family)
{
	if (size < 1)
		return NULL;
	char *text = malloc(size);
	if (!text)
		return NULL;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	*family = data[0] & 1 ? SKF_IPV6 : SKF_IPV4;
	return text;
}

#endif
