/* SPDX-License-Identifier: MIT */
/*
 * The byte plumbing under the .npy and .npz code: a reader abstraction (a
 * plain file or a zip member) that knows how many bytes it can still
 * deliver, so parsers check sizes before they allocate; the matching writer
 * abstraction; little-endian loads and stores; and the one write helper
 * every writer uses (a temporary file renamed over the real file, or a
 * direct write to devices, FIFOs and /dev/stdout).
 */
#ifndef SS_MATRIX_FILEIO_H
#define SS_MATRIX_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/progress.h"
#include "subsel.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) &&               \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SS_BIG_ENDIAN 1
#else
#define SS_BIG_ENDIAN 0
#endif

/* Bytes of the fixed buffers that data is streamed through. */
#define SS_IO_CHUNK 16384

/* First buffer, in bytes, for data of unknown length (a stream); it
 * doubles as the data arrives. The fuzzers make it tiny, so that their
 * small inputs grow it. */
#ifndef SS_GROW_START_BYTES
#define SS_GROW_START_BYTES ((int64_t)1 << 16)
#endif

/* A source of bytes. `read` delivers up to n bytes into buf and sets *got;
 * *got < n only when the data has ended. Errors (I/O, corrupt compressed
 * data, ...) are recorded on ctx and returned. `finish` checks that the
 * source is exhausted and intact (no trailing bytes, checksum). Bytes read
 * are added to `progress` when it is set (which may cancel the read). */
typedef struct ss_reader ss_reader;
struct ss_reader {
    int (*read)(ss_reader *r, void *buf, size_t n, size_t *got);
    int (*finish)(ss_reader *r);
    subsel_ctx *ctx;
    int64_t available; /* the most bytes still to come; INT64_MAX: unknown
                          (a stream: a pipe, a terminal, a socket) */
    ss_stage *progress; /* or NULL */
};

/* A sink of bytes; `write` writes all n bytes or fails (recorded on ctx). */
typedef struct ss_writer ss_writer;
struct ss_writer {
    int (*write)(ss_writer *w, const void *buf, size_t n);
    subsel_ctx *ctx;
};

/* A reader over a FILE from its current position to its end. */
typedef struct ss_file_reader {
    ss_reader base;
    FILE *f;
} ss_file_reader;

/* A writer appending to a FILE. */
typedef struct ss_file_writer {
    ss_writer base;
    FILE *f;
} ss_file_writer;

/* Size in bytes of a seekable file (fstat for regular files, else seeking
 * to the end and back), or -1 when it cannot be known (a pipe). */
int64_t ss_file_size(FILE *f);

void ss_file_reader_init(ss_file_reader *r, subsel_ctx *ctx, FILE *f);
void ss_file_writer_init(ss_file_writer *w, subsel_ctx *ctx, FILE *f);

/* Reads exactly n bytes; a short read is SUBSEL_E_FORMAT naming `what`. */
int ss_read_exact(ss_reader *r, void *buf, size_t n, const char *what);

/* Writes count items of itemsize bytes (2, 4 or 8) from host order as
 * little-endian (byte-swapped through a small buffer on big-endian hosts). */
int ss_write_le(ss_writer *w, const void *data, int64_t count,
                size_t itemsize);

/* Converts count items of itemsize bytes between little-endian and host
 * order in place; a no-op on little-endian hosts. */
void ss_le_to_host(void *data, size_t count, size_t itemsize);

/* Little-endian loads and stores of unaligned integers. */
uint16_t ss_load_le16(const unsigned char *p);
uint32_t ss_load_le32(const unsigned char *p);
uint64_t ss_load_le64(const unsigned char *p);
void ss_store_le16(unsigned char *p, uint16_t v);
void ss_store_le32(unsigned char *p, uint32_t v);
void ss_store_le64(unsigned char *p, uint64_t v);

/* fseeko / ftello / fread / fwrite with errors recorded on ctx: SUBSEL_E_IO with the
 * errno text, or SUBSEL_E_FORMAT for a read that hits the end of the file
 * (`what` names the data being read). */
int ss_seek(subsel_ctx *ctx, FILE *f, int64_t offset);
int ss_tell(subsel_ctx *ctx, FILE *f, int64_t *offset);
int ss_fread_exact(subsel_ctx *ctx, FILE *f, void *buf, size_t n,
                   const char *what);
int ss_fwrite_all(subsel_ctx *ctx, FILE *f, const void *buf, size_t n);

/* Reads f from its current position to its end into a new buffer on ctx
 * (grown as the data arrives, so a stream of any length can be read), with
 * progress stage "read" (bytes, total 0 until the end). */
int ss_read_stream(subsel_ctx *ctx, FILE *f, unsigned char **data,
                   int64_t *size);

/* Opens path for binary reading: SUBSEL_E_IO with the errno text (also
 * for a folder), not prefixed with the path. */
int ss_open_read(subsel_ctx *ctx, const char *path, FILE **out);

/* Reads a file: opens path for binary reading (SUBSEL_E_IO with the errno
 * text when it cannot), calls `read` on the FILE, closes it. On failure the
 * message is prefixed with the path. */
typedef int (*ss_read_fn)(subsel_ctx *ctx, FILE *f, void *arg);
int ss_read_file(subsel_ctx *ctx, const char *path, ss_read_fn read,
                 void *arg);

/* Writes a file: `write` fills a FILE, and where the data lands depends on
 * what path names.
 * - A regular file or a new one: a new temporary file ".subsel-<pid>-<n>.tmp"
 *   in the folder (created with O_CREAT | O_EXCL and mode 0666, so the
 *   umask applies, and locked while it is written) is flushed, synced and
 *   renamed over the file, so readers never see half a file. Symbolic
 *   links are followed: the file at the end of the chain is replaced (or
 *   created, for a dangling link) and the links stay. Before creating its
 *   own, the writer removes temporary files of that name pattern in the
 *   folder left by writers that died (owned by this user, unlocked, not
 *   modified for a minute).
 * - Anything else that exists (a device such as /dev/null, a FIFO, a
 *   terminal) and any file reached through a procfs link (/dev/stdout,
 *   /dev/fd/N, /proc/self/fd/N): opened and written in place, as
 *   fopen(path, "wb") would, without a rename. Such writes are not atomic.
 * A folder is SUBSEL_E_IO (EISDIR). On any failure of a rename write the
 * temporary file is removed and path is left as it was. Messages are
 * prefixed with the path; failures of the file operations are SUBSEL_E_IO
 * with the errno text. */
typedef int (*ss_write_fn)(subsel_ctx *ctx, FILE *f, void *arg);
int ss_write_atomic(subsel_ctx *ctx, const char *path, ss_write_fn write,
                    void *arg);

/* "dir/name" into buf (cap bytes), with no doubled slash; SUBSEL_E_INVALID
 * with a message when it does not fit. For the folders of .npy files that
 * checkpoints and distilled sets are. */
int ss_path_join(subsel_ctx *ctx, const char *dir, const char *name,
                 char *buf, size_t cap);

/* Creates the folder `dir` unless it exists (its parent must);
 * SUBSEL_E_IO with the system's reason otherwise. */
int ss_make_dir(subsel_ctx *ctx, const char *dir);

#endif
