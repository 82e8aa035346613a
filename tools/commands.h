/* SPDX-License-Identifier: MIT */
/*
 * The subcommands of the subsel program, one file each (cmd_<name>.c).
 */
#ifndef SUBSEL_COMMANDS_H
#define SUBSEL_COMMANDS_H

#include "cli.h"

int cmd_info(const cli_command *self, int argc, char **argv);
int cmd_fb(const cli_command *self, int argc, char **argv);
int cmd_sdm(const cli_command *self, int argc, char **argv);
int cmd_encode(const cli_command *self, int argc, char **argv);
int cmd_sae_train(const cli_command *self, int argc, char **argv);
int cmd_sae_score(const cli_command *self, int argc, char **argv);
int cmd_uniprot(const cli_command *self, int argc, char **argv);
int cmd_uniprot_batch(const cli_command *self, int argc, char **argv);
int cmd_tarot(const cli_command *self, int argc, char **argv);
int cmd_clipcov(const cli_command *self, int argc, char **argv);
int cmd_lors(const cli_command *self, int argc, char **argv);

#endif
