/* Private to store/: opening a database file for store_open (open.c). */
#ifndef CLAWSS_STORE_OPEN_H
#define CLAWSS_STORE_OPEN_H

#include <stddef.h>
#include "store.h"

/* Checks, opens and (STORE_WRITE) creates or migrates path; a refused file is left
 * exactly as it was. On failure *db is NULL and why says why (without the path). */
int store_open_db(struct sqlite3 **db, const char *path, enum store_mode mode, char *why,
		  size_t len);

#endif
