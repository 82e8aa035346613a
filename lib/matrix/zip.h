/* SPDX-License-Identifier: MIT */
/*
 * A minimal ZIP reader and writer for .npz files (no libzip): the reader
 * finds the end of central directory record (ZIP64 too), looks members up
 * in the central directory and streams one member at a time, stored or
 * deflated, with its CRC-32 checked; the writer produces what NumPy's savez
 * does (a ZIP64 extra field in every local header, ZIP64 end records when
 * sizes or offsets need them), with each member's data 64-byte aligned. zlib allocates through the context's hooks.
 */
#ifndef SS_MATRIX_ZIP_H
#define SS_MATRIX_ZIP_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
/* next_in is const with ZLIB_CONST, so written data needs no cast. */
#define ZLIB_CONST
#include <zlib.h>

#include "matrix/fileio.h"
#include "subsel.h"

/* Longest member name we look up or write, with its NUL. */
#define SS_ZIP_NAME_MAX 64
/* Most members one writer holds (an .npz has five). */
#define SS_ZIP_WRITER_MAX 8

/* An archive open for reading; its central directory is held in memory. */
typedef struct ss_zip {
    subsel_ctx *ctx;
    FILE *f;
    int64_t file_size;
    int64_t cd_offset, cd_size, entries;
    unsigned char *cd; /* cd_size bytes, allocated on ctx */
} ss_zip;

/* A member as the central directory describes it. */
typedef struct ss_zip_entry {
    char name[SS_ZIP_NAME_MAX];
    unsigned flags, method;
    uint32_t crc;
    int64_t csize, usize, local_offset;
} ss_zip_entry;

/* A member open for reading, read through `base`. base.finish checks that
 * the member was read to its end, inflates to its declared size and matches
 * its CRC-32. */
typedef struct ss_zip_member {
    ss_reader base;
    ss_zip *zip;
    ss_zip_entry entry;
    int64_t cleft;    /* compressed bytes not yet read from the file */
    int64_t data_offset; /* of the member's first byte in the file */
    int64_t produced; /* uncompressed bytes delivered so far */
    uint32_t crc;
    int inflating, stream_end;
    z_stream zs;
    unsigned char in[SS_IO_CHUNK];
} ss_zip_member;

/* zlib's crc32(crc, p, n): the kernel table's for ctx (carry-less
 * multiplies) where it has one, else zlib's. */
uint32_t ss_zip_crc32(const subsel_ctx *ctx, uint32_t crc,
                      const unsigned char *p, size_t n);

/* Opens the archive in f (seekable, read from any position): locates and
 * checks the end records and loads the central directory. On success the
 * caller ends with ss_zip_close(); on failure nothing is left to free. */
int ss_zip_open(ss_zip *z, subsel_ctx *ctx, FILE *f);
void ss_zip_close(ss_zip *z);

/* Looks a member up by name. SUBSEL_E_FORMAT when it is missing, appears
 * twice, or its directory entry is malformed (the message does not repeat
 * the name: callers prefix it). */
int ss_zip_find(ss_zip *z, const char *name, ss_zip_entry *e);

/* Opens a member for reading: SUBSEL_E_UNSUPPORTED for encrypted members or
 * methods other than stored and deflate, SUBSEL_E_FORMAT when its local
 * header or data lie outside the file or disagree with the directory. On
 * success end with ss_zip_member_close(); one member at a time per archive
 * (they share the FILE position). */
int ss_zip_member_open(ss_zip *z, const ss_zip_entry *e, ss_zip_member *m);
void ss_zip_member_close(ss_zip_member *m);

/* Where in the file the member's next byte is, for a stored member; -1
 * for a deflated one (its bytes are not in the file as they are). */
int64_t ss_zip_member_offset(const ss_zip_member *m);

/* Ends a stored member whose remaining bytes the caller reads in place
 * (`rest`: the file's bytes from ss_zip_member_offset() to the member's
 * end, memory-mapped), copied to `copy` unless it is NULL: checks them
 * against the CRC-32 as base.finish does, in one parallel pass, with
 * progress on base.progress. */
int ss_zip_member_finish_in_place(ss_zip_member *m, const unsigned char *rest,
                                  void *copy);

/* Inflates the rest of a deflated member (its usize - produced bytes) into
 * `out`, taking the compressed bytes it has not read yet from `file` (the
 * whole file, memory-mapped), and checks that the member ends there with
 * its CRC. It touches only m, out and zlib's state (allocated when the
 * header was read), so members can be inflated on several threads at
 * once; `progress` (NULL on all threads but the caller's) gets the bytes,
 * and `stop` is read between pieces, and set when progress cancels. 1 when
 * the member is whole and intact; 0 otherwise, with no message: the caller
 * reads the archive as a stream, which says what is wrong. */
int ss_zip_member_inflate_rest(ss_zip_member *m, const unsigned char *file,
                               unsigned char *out, ss_stage *progress,
                               atomic_int *stop);

/* A member written so far, for the central directory. */
typedef struct ss_zip_written {
    char name[SS_ZIP_NAME_MAX];
    unsigned method;
    uint32_t crc;
    int64_t csize, usize, offset;
} ss_zip_written;

/* An archive being written to a seekable FILE; members are written through
 * `base` between ss_zip_writer_begin() and ss_zip_writer_end(). */
typedef struct ss_zip_writer {
    ss_writer base;
    FILE *f;
    int compress;    /* deflate members, else store them */
    int force_zip64; /* ZIP64 records even where not needed (tests) */
    int count;       /* members begun */
    int open, deflating;
    ss_zip_written members[SS_ZIP_WRITER_MAX];
    z_stream zs;
    unsigned char out[SS_IO_CHUNK];
} ss_zip_writer;

void ss_zip_writer_init(ss_zip_writer *w, subsel_ctx *ctx, FILE *f,
                        int compress, int force_zip64);
int ss_zip_writer_begin(ss_zip_writer *w, const char *name);
int ss_zip_writer_end(ss_zip_writer *w);
/* Writes the central directory and end records. */
int ss_zip_writer_finish(ss_zip_writer *w);
/* Frees the deflate state of a member left open by a failure. */
void ss_zip_writer_release(ss_zip_writer *w);

#endif
