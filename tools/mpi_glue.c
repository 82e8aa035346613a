/* SPDX-License-Identifier: MIT */
#include "mpi_glue.h"

#ifdef SUBSEL_HAVE_MPI
#include <mpi.h>

int cli_mpi_begin(const cli_command *cmd, int *rank, int *size, int64_t *comm)
{
    int provided = 0, initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized &&
        MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return cli_fail(cmd, "--distributed: MPI_Init_thread failed");
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    *comm = (int64_t)MPI_Comm_c2f(MPI_COMM_WORLD);
    return 0;
}

void cli_mpi_end(void)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
        MPI_Finalize();
}

int cli_mpi_sum_to_root(double *values, int64_t n)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (n > 0x7fffffff)
        return -1;
    return MPI_Reduce(rank == 0 ? MPI_IN_PLACE : values, values, (int)n, MPI_DOUBLE,
                      MPI_SUM, 0, MPI_COMM_WORLD) == MPI_SUCCESS
               ? 0
               : -1;
}

#else

int cli_mpi_begin(const cli_command *cmd, int *rank, int *size, int64_t *comm)
{
    *rank = 0;
    *size = 1;
    *comm = 0;
    return cli_fail(cmd, "--distributed: this subsel was built without MPI (install "
                         "libopenmpi-dev and rebuild)");
}

void cli_mpi_end(void)
{
}

int cli_mpi_sum_to_root(double *values, int64_t n)
{
    (void)values;
    (void)n;
    return -1;
}

#endif
