/* SPDX-License-Identifier: MIT */
/*
 * subsel: the command-line front end of libsubsel. `subsel <command>
 * [options]`; every command prints one JSON object on standard output,
 * progress on standard error, and exits nonzero with a one-line error on bad
 * arguments or files. `subsel --man` prints the man page the build
 * installs, made from the commands' own option tables.
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
#define COMMANDS (sizeof commands / sizeof commands[0])

/* The environment variables the program and the library read, for --help
 * and the man page. */
static const struct {
    const char *name, *value, *meaning;
} environment[] = {
    {"SUBSEL_ISA", "scalar|avx2|avx512",
     "lowers the kernel level (never above what the CPU and the build have)"},
    {"SUBSEL_ISA_DEBUG", "1", "logs the kernel choice on standard error"},
    {"SUBSEL_MAP_FILES", "0",
     "copies input files instead of memory-mapping them (see docs/matrices.md)"},
    {"SUBSEL_PARALLEL_GAINS", "auto|never|always|pipeline",
     "when batches of gains are shared among threads; pipeline also overlaps lazy greedy's "
     "heap with its gains (see docs/optimizers.md)"},
    {"BLIS_ARCH_TYPE", "N",
     "BLIS's sub-configuration (a number), which subsel then keeps instead of choosing "
     "kernels for this CPU itself (subsel info shows both)"},
};
#define ENVIRONMENT (sizeof environment / sizeof environment[0])

static void usage(FILE *out)
{
    size_t i;
    fprintf(out, "usage: subsel <command> [options]\n       subsel <command> --help\n\ncommands:\n");
    for (i = 0; i < COMMANDS; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nenvironment:\n");
    for (i = 0; i < ENVIRONMENT; i++)
        fprintf(out, "  %s=%-*s %s\n", environment[i].name,
                (int)(30 - strlen(environment[i].name)), environment[i].value,
                environment[i].meaning);
}

/* One entry of a list on the man page: a name in bold (with "=value" when
 * value is not NULL), then its text. */
static void man_entry(const char *name, const char *value, const char *text)
{
    fputs(".TP\n\\fB", stdout);
    cli_man_text(name);
    fputs("\\fR", stdout);
    if (value != NULL) {
        putchar('=');
        cli_man_text(value);
    }
    putchar('\n');
    cli_man_text(text);
    putchar('\n');
}

/* The man page, subsel(1): the commands' list and each command's section
 * come from the tables --help prints (cli.h). */
static int man_page(void)
{
    size_t i;
    printf(".TH SUBSEL 1 \"\" \"subsel %s\" \"User Commands\"\n", subsel_version_string());
    /* option names must stay whole, for reading and for searching */
    printf(".nh\n.ad l\n.SH NAME\nsubsel \\- select subsets of data sets (libsubsel)\n"
           ".SH SYNOPSIS\n\\fBsubsel\\fR \\fIcommand\\fR [\\fIoptions\\fR]\n.br\n"
           "\\fBsubsel\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR\n.br\n"
           "\\fBsubsel \\-\\-help\\fR | \\fB\\-\\-version\\fR\n"
           ".SH DESCRIPTION\n\\fBsubsel\\fR runs the selection methods of libsubsel on "
           "NumPy (.npy) and SciPy (.npz) files. Every command prints one JSON object (its "
           "summary) on standard output, progress on standard error, and on bad arguments "
           "or files a one\\-line error on standard error.\n.PP\n"
           "Options are given as \\fB\\-\\-name\\fR \\fIvalue\\fR or "
           "\\fB\\-\\-name=\\fR\\fIvalue\\fR, each at most once; flags are off unless "
           "given. The only short options are \\fB\\-k\\fR (the k of the method: items to "
           "select, or codes per row), \\fB\\-o\\fR (\\fB\\-\\-out\\fR), \\fB\\-t\\fR "
           "(\\fB\\-\\-threads\\fR) and \\fB\\-h\\fR (\\fB\\-\\-help\\fR). An output "
           "given as \\fB\\-\\fR is standard output; the summary then goes to standard "
           "error.\n.PP\nThe commands:\n");
    for (i = 0; i < COMMANDS; i++)
        man_entry(commands[i].name, NULL, commands[i].summary);
    printf(".SH COMMANDS\nEach command's options, with their defaults (as its "
           "\\fB\\-\\-help\\fR shows them).\n");
    cli_set_man(1);
    for (i = 0; i < COMMANDS; i++)
        if (cli_run_help(&commands[i]) != 0)
            return CLI_FAILED;
    cli_set_man(0);
    printf(".SH ENVIRONMENT\n");
    for (i = 0; i < ENVIRONMENT; i++)
        man_entry(environment[i].name, environment[i].value, environment[i].meaning);
    printf(".SH \"EXIT STATUS\"\n.TP\n.B 0\ndone\n"
           ".TP\n.B %d\nthe run failed: a file cannot be read or written, the data is "
           "malformed or does not fit together, the computation failed\n"
           ".TP\n.B %d\nusage error: the command line is wrong, whatever the data (an "
           "unknown, missing or repeated option, a value that is not a number or out of "
           "range, options that do not go together)\n"
           ".TP\n.B 130\n\\fBsubsel lors buffer\\fR or \\fBdistill\\fR stopped by SIGINT or "
           "SIGTERM, after saving what it finished (\\fBdistill \\-\\-resume\\fR continues)\n",
           CLI_FAILED, CLI_USAGE);
    printf(".SH \"SEE ALSO\"\nThe documentation of libsubsel: docs/cli.md for the "
           "commands, docs/index.md for the library; \\fBpkg\\-config\\fR(1) (module "
           "\\fBsubsel\\fR) and CMake's \\fBfind_package(subsel)\\fR to build against "
           "it (docs/building.md).\n");
    return 0;
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
    if (strcmp(argv[1], "--man") == 0)
        return man_page();
    for (i = 0; i < COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "subsel: unknown command '%s' (see subsel --help)\n", argv[1]);
    return 2;
}
