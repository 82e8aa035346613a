/* SPDX-License-Identifier: MIT */
/* Placeholder: `subsel tarot` (being written). */
#include "cli.h"
#include "commands.h"

int cmd_tarot(const cli_command *self, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail(self, "not implemented yet");
}
