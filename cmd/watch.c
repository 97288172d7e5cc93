#include "cmd.h"

int cmd_watch(int argc, char **argv, const struct global *g)
{
	(void)argc; (void)argv; (void)g;
	return cmd_fail("watch: not implemented yet");
}

int cmd_sample(int argc, char **argv, const struct global *g)
{
	(void)argc; (void)argv; (void)g;
	return cmd_fail("sample: not implemented yet");
}
