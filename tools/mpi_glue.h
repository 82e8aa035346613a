/* SPDX-License-Identifier: MIT */
/*
 * The little MPI the program itself needs for --distributed (the library's
 * MPI component does the selection): starting MPI, this process's rank,
 * and one sum to rank 0. Without MPI at build time, cli_mpi_begin says so.
 */
#ifndef SUBSEL_MPI_GLUE_H
#define SUBSEL_MPI_GLUE_H

#include "cli.h"

/* Starts MPI (MPI_THREAD_FUNNELED) on MPI_COMM_WORLD: *comm is its Fortran
 * handle for subsel_mpi_select. Returns 0 or an exit code. */
int cli_mpi_begin(const cli_command *cmd, int *rank, int *size, int64_t *comm);
void cli_mpi_end(void);

/* values[0..n) summed over the ranks into rank 0's values (in place). */
int cli_mpi_sum_to_root(double *values, int64_t n);

#endif
