/* SPDX-License-Identifier: MIT */
/*
 * Read-only whole-file mappings (see mapping.h). MAP_PRIVATE: the library
 * never writes to them, and another process's later writes to the file
 * may or may not show (as with numpy.load(mmap_mode='r')); truncating the
 * file while a matrix uses it is what the docs warn about. MAP_POPULATE:
 * the readers check every byte they use at once, and mapping the pages in
 * one call costs a fraction of faulting them in one by one.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"
#include "matrix/mapping.h"

int ss_mapping_open(subsel_ctx *ctx, FILE *f, ss_mapping **out)
{
    struct stat st;
    ss_mapping *m;
    void *p;
    int fd = fileno(f);

    *out = NULL;
    if (!ctx->map_files || fd < 0 || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > (uint64_t)SIZE_MAX)
        return SUBSEL_OK;
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED)
        return SUBSEL_OK;
    if (ss_alloc_array(ctx, 1, sizeof *m, &m) != SUBSEL_OK) {
        munmap(p, (size_t)st.st_size);
        return SUBSEL_E_NOMEM;
    }
    ss_handle_init(m, SS_KIND_MAPPING, &ctx->alloc);
    m->data = p;
    m->size = st.st_size;
    *out = m;
    return SUBSEL_OK;
}

void ss_mapping_release(void *mapping)
{
    ss_mapping *m = mapping;
    ss_allocator a;
    if (!ss_handle_release(m, SS_KIND_MAPPING, __func__))
        return;
    a = m->alloc;
    munmap((void *)m->data, (size_t)m->size);
    ss_free_raw(&a, m);
}

int ss_mapping_fits(const ss_mapping *m, int64_t offset, int64_t bytes,
                    size_t align)
{
    return offset >= 0 && bytes >= 0 && offset <= m->size &&
           bytes <= m->size - offset &&
           (uintptr_t)(m->data + offset) % align == 0;
}
