/* SPDX-License-Identifier: MIT */
/*
 * For check_float16.py: writes the library's float32 value of every one of
 * the 65536 float16 bit patterns, in pattern order, as raw little-endian
 * float32 bits to the file named on the command line, so that NumPy's
 * float16 can be compared with it bit for bit. Exits 0, or 1 with a
 * message when the file cannot be written.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "matrix/matrix.h"

int main(int argc, char **argv)
{
    FILE *f;
    uint32_t h;
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT\n", argv[0]);
        return 1;
    }
    f = fopen(argv[1], "wb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    for (h = 0; h < 65536; h++) {
        float v = ss_half_to_float((uint16_t)h);
        uint32_t bits;
        unsigned char le[4];
        memcpy(&bits, &v, sizeof bits);
        le[0] = (unsigned char)bits;
        le[1] = (unsigned char)(bits >> 8);
        le[2] = (unsigned char)(bits >> 16);
        le[3] = (unsigned char)(bits >> 24);
        if (fwrite(le, 1, 4, f) != 4) {
            perror(argv[1]);
            fclose(f);
            return 1;
        }
    }
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
