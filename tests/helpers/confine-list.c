/* confine-list: prints the system calls clawss's seccomp filters allow, one per line,
 * for each role ("reader", "watcher", "watcher+ns", "watcher+engine"), then the fatal
 * ones ("fatal"): `confine-list ROLE`. For the test that clawss(8) lists them all. */
#include <stdio.h>
#include <string.h>
#include "lib/confine.h"

int main(int argc, char **argv)
{
	const char *const *l = NULL;
	const char *role = argc > 1 ? argv[1] : "";
	if (strcmp(role, "reader") == 0)
		l = confine_allowed(CONFINE_ROLE_READER, 0);
	else if (strcmp(role, "watcher") == 0)
		l = confine_allowed(CONFINE_ROLE_WATCHER, 0);
	else if (strcmp(role, "watcher+ns") == 0)
		l = confine_allowed(CONFINE_ROLE_WATCHER, CONFINE_ENTER_NS);
	else if (strcmp(role, "watcher+engine") == 0)
		l = confine_allowed(CONFINE_ROLE_WATCHER, CONFINE_ENGINE);
	else if (strcmp(role, "fatal") == 0)
		l = confine_fatal();
	if (!l) {
		fprintf(stderr, "usage: confine-list reader|watcher|watcher+ns|watcher+engine|fatal\n");
		return 2;
	}
	for (; *l; l++)
		puts(*l);
	return 0;
}
