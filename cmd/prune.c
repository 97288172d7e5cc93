/* Placeholder until this command is written: refuses clearly instead of pretending. */
#include "cmd.h"

int cmd_prune(int argc, char **argv, const struct global *g)
{
	(void)argc; (void)argv; (void)g;
	return cmd_fail("prune: not implemented yet");
}
