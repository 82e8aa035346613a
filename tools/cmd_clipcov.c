/* SPDX-License-Identifier: MIT */
/* Placeholder: `subsel clipcov` (being written). */
#include "cli.h"
#include "commands.h"

int cmd_clipcov(const cli_command *self, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail(self, "not implemented yet");
}
