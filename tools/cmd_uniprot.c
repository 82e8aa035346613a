/* SPDX-License-Identifier: MIT */
/* Placeholder: `subsel uniprot` (being written). */
#include "cli.h"
#include "commands.h"

int cmd_uniprot(const cli_command *self, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail(self, "not implemented yet");
}
