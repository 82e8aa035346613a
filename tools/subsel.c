/* SPDX-License-Identifier: MIT */
/*
 * subsel: the command-line front end of libsubsel. `subsel <command>
 * [options]`; every command prints one JSON object on standard output,
 * progress on standard error, and exits nonzero with a one-line error on bad
 * arguments or files.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const cli_command commands[] = {
    {"info", "Print the version, the kernels compiled in and selected, the BLIS kernels in use, and the thread count.", cmd_info},
    {"fb", "Select rows maximising a feature-based submodular function of sparse features.", cmd_fb},
    {"sdm", "Select rows whose concept distribution matches a target (Submodular Distribution Matching).", cmd_sdm},
    {"encode", "Encode dense embeddings into sparse codes with a TopK sparse autoencoder.", cmd_encode},
    {"sae-train", "Train a monotone TopK sparse autoencoder on dense embeddings.", cmd_sae_train},
    {"sae-score", "Score a sparse autoencoder's latents: monosemanticity (MS) and monotonicity (MT).", cmd_sae_score},
    {"uniprot", "Select prototypes covering a target by partial optimal transport (UniPROT).", cmd_uniprot},
    {"uniprot-batch", "Prototypes of a batch, or of each source in it (UniPROT-PB / -PS).", cmd_uniprot_batch},
    {"tarot", "Select candidates matching a target in whitened feature space by optimal transport (TAROT).", cmd_tarot},
    {"clipcov", "Select image-caption pairs preserving the cross-covariance (ClipCov).", cmd_clipcov},
    {"lors", "Distil image-text pairs into a few synthetic pairs (LoRS): buffer, distill, eval, baseline.", cmd_lors},
};

static void usage(FILE *out)
{
    size_t i;
    fprintf(out, "usage: subsel <command> [options]\n       subsel <command> --help\n\ncommands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nenvironment: SUBSEL_ISA=scalar|avx2|avx512 lowers the kernel level; "
                 "SUBSEL_ISA_DEBUG=1 logs the choice;\nSUBSEL_MAP_FILES=0 copies input "
                 "files instead of memory-mapping them (see docs/matrices.md).\n");
}

int main(int argc, char **argv)
{
    size_t i;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("subsel %s\n", subsel_version_string());
        return 0;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "subsel: unknown command '%s' (see subsel --help)\n", argv[1]);
    return 2;
}
