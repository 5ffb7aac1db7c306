/*
 * A user's 4-bit kernel in C, called from Java through java.lang.foreign (see CKernel.java):
 * y = x . W^T for int4s weights (symmetric 4-bit, two's complement nibbles, one fp16 scale per group) in
 * QuantGate's packing (docs/formats.md): row r starts at r * 4 * ceil(K/8) bytes, K index c sits in byte c/2,
 * low nibble first.
 *
 * example_gemm_int4s is the kernel under test. example_gemm_int4s_extra_pass is the same kernel with a
 * regression: it reads all the weights once more per call (a checksum nobody needs), which a speed gate
 * must catch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalize */
            int e = -1;
            do { e++; man <<= 1; } while ((man & 0x400) == 0);
            bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

int example_gemm_int4s(const uint8_t *codes, const uint16_t *scales, int n, int k, int group,
                       const float *x, int m, long ldx, float *y, long ldy) {
    if (n < 1 || k < 1 || group < 1 || m < 1 || ldx < k || ldy < n) {
        return 1;
    }
    long row_bytes = 4L * ((k + 7) / 8);
    int groups = (k + group - 1) / group;
    float *w = malloc(sizeof(float) * (size_t)k);
    if (!w) {
        return 2;
    }
    for (int r = 0; r < n; r++) {
        const uint8_t *row = codes + (long)r * row_bytes;
        for (int g = 0; g < groups; g++) {
            float s = half_to_float(scales[(long)r * groups + g]);
            int end = (g + 1) * group < k ? (g + 1) * group : k;
            for (int c = g * group; c < end; c++) {
                int q = (row[c >> 1] >> (4 * (c & 1))) & 15;
                w[c] = (float)((q ^ 8) - 8) * s; /* two's complement nibble */
            }
        }
        for (int i = 0; i < m; i++) {
            const float *xi = x + (long)i * ldx;
            /* eight partial sums: independent chains the compiler turns into one SIMD register */
            float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
            int c = 0;
            for (; c + 8 <= k; c += 8) {
                for (int l = 0; l < 8; l++) {
                    acc[l] += w[c + l] * xi[c + l];
                }
            }
            float sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
            for (; c < k; c++) {
                sum += w[c] * xi[c];
            }
            y[(long)i * ldy + r] = sum;
        }
    }
    free(w);
    return 0;
}

static volatile float sink;

/* The regression: before the real work, every weight is decoded once more (say, a leftover debug checksum). */
int example_gemm_int4s_extra_pass(const uint8_t *codes, const uint16_t *scales, int n, int k, int group,
                                  const float *x, int m, long ldx, float *y, long ldy) {
    if (n < 1 || k < 1 || group < 1) {
        return 1;
    }
    long row_bytes = 4L * ((k + 7) / 8);
    int groups = (k + group - 1) / group;
    float sum = 0.f;
    for (int r = 0; r < n; r++) {
        const uint8_t *row = codes + (long)r * row_bytes;
        for (int c = 0; c < k; c++) {
            int q = (c & 1) ? (row[c >> 1] >> 4) : (row[c >> 1] & 15);
            sum += (float)(q >= 8 ? q - 16 : q) * half_to_float(scales[(long)r * groups + c / group]);
        }
    }
    sink = sum;
    return example_gemm_int4s(codes, scales, n, k, group, x, m, ldx, y, ldy);
}
