/*
 * A reference linear kernel in another process, for the tests of QuantGate's external-kernel protocol
 * (docs/kernels.md, "Out-of-process kernels"). It memory-maps the weight, activation and output files
 * QuantGate hands it, dequantizes every SPEC format (docs/formats.md) and computes y = x . W^T in double.
 *
 * Modes (argv[1]): correct (default), swap-nibbles (reads the high nibble of each byte first: a wrong
 * nibble order), crash-on-prepare, error-on-gemm, malformed, hang-on-gemm, slow (sleeps 20 ms per gemm).
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAXW 4096

typedef struct {
    int used;
    char format[16];
    int group, n, k;
    const uint8_t *codes, *scales, *zeros;
    size_t codes_len, scales_len, zeros_len;
} weights_t;

static weights_t W[MAXW];
static const char *mode = "correct";

static const float FP4[8] = {0.f, .5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f};
static const float NF4[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f,
    0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
    0.7229568362236023f, 1.0f};

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal */
            float f = ldexpf((float)man, -24);
            return (h & 0x8000) ? -f : f;
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

static const uint8_t *map_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return NULL; }
    *len = (size_t)st.st_size;
    void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0) : NULL;
    close(fd);
    return p == MAP_FAILED ? NULL : (const uint8_t *)p;
}

/* x and y: shared read-write mappings, cached by path */
typedef struct { char path[4096]; float *p; size_t len; } shared_t;
static shared_t S[16];

static float *shared(const char *path, size_t need) {
    for (int i = 0; i < 16; i++) {
        if (S[i].p && strcmp(S[i].path, path) == 0 && S[i].len >= need) return S[i].p;
    }
    int fd = open(path, O_RDWR);
    if (fd < 0) return NULL;
    struct stat st;
    fstat(fd, &st);
    if ((size_t)st.st_size < need) { close(fd); return NULL; }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return NULL;
    for (int i = 0; i < 16; i++) {
        if (!S[i].p) {
            snprintf(S[i].path, sizeof S[i].path, "%s", path);
            S[i].p = p;
            S[i].len = (size_t)st.st_size;
            return p;
        }
    }
    return p;
}

static int nibble(const weights_t *w, int r, int c) {
    size_t row = (size_t)r * 4 * ((w->k + 7) / 8);
    int byte = w->codes[row + c / 2];
    int lowFirst = strcmp(mode, "swap-nibbles") != 0;
    return ((c & 1) == (lowFirst ? 0 : 1)) ? (byte & 15) : (byte >> 4);
}

static double weight(const weights_t *w, int r, int c) {
    const char *f = w->format;
    if (!strcmp(f, "fp32")) { float v; memcpy(&v, w->codes + ((size_t)r * w->k + c) * 4, 4); return v; }
    if (!strcmp(f, "fp16")) { uint16_t h; memcpy(&h, w->codes + ((size_t)r * w->k + c) * 2, 2); return half_to_float(h); }
    if (!strcmp(f, "bf16")) {
        uint16_t h; memcpy(&h, w->codes + ((size_t)r * w->k + c) * 2, 2);
        uint32_t bits = (uint32_t)h << 16; float v; memcpy(&v, &bits, 4); return v;
    }
    int groups = (w->k + w->group - 1) / w->group, g = c / w->group;
    uint16_t sb; memcpy(&sb, w->scales + ((size_t)r * groups + g) * 2, 2);
    float s = half_to_float(sb);
    if (!strcmp(f, "int8")) { int8_t q = (int8_t)w->codes[(size_t)r * w->k + c]; return (float)(q * s); }
    int q = nibble(w, r, c);
    if (!strcmp(f, "int4")) { int z = w->zeros[(size_t)r * groups + g]; return (float)((q - z) * s); }
    if (!strcmp(f, "int4s")) { int v = q >= 8 ? q - 16 : q; return (float)(v * s); }
    if (!strcmp(f, "fp4")) { float v = FP4[q & 7] * s; return (q & 8) ? -v : v; }
    if (!strcmp(f, "nf4")) { return NF4[q] * s; }
    return NAN;
}

int main(int argc, char **argv) {
    if (argc > 1) mode = argv[1];
    char line[16384];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        char op[32] = "";
        sscanf(line, "%31s", op);
        if (!strcmp(op, "hello")) {
            printf("ok name=reference-kernel-%s formats=fp32,fp16,bf16,int8,int4,int4s,fp4,nf4 activations=fp32\n", mode);
        } else if (!strcmp(op, "prepare")) {
            if (!strcmp(mode, "crash-on-prepare")) {
                fprintf(stderr, "reference kernel: simulated crash while preparing\n");
                exit(3);
            }
            int h, group, n, k;
            char fmt[16], codes[4096], scales[4096], zeros[4096], act[16];
            if (sscanf(line, "prepare %d %15s %d %d %d %4095s %4095s %4095s %15s", &h, fmt, &group, &n, &k, codes, scales,
                       zeros, act) != 9 || h <= 0 || h >= MAXW) {
                printf("error cannot parse '%s'\n", strtok(line, "\n"));
                continue;
            }
            weights_t *w = &W[h];
            memset(w, 0, sizeof *w);
            snprintf(w->format, sizeof w->format, "%s", fmt);
            w->group = group; w->n = n; w->k = k;
            w->codes = map_file(codes, &w->codes_len);
            if (strcmp(scales, "-")) w->scales = map_file(scales, &w->scales_len);
            if (strcmp(zeros, "-")) w->zeros = map_file(zeros, &w->zeros_len);
            if (!w->codes) { printf("error cannot map %s\n", codes); continue; }
            w->used = 1;
            printf("ok bytes=%zu\n", w->codes_len + w->scales_len + w->zeros_len);
        } else if (!strcmp(op, "gemm")) {
            if (!strcmp(mode, "error-on-gemm")) { printf("error simulated failure: no device memory\n"); continue; }
            if (!strcmp(mode, "malformed")) { printf("this is not a reply\n"); continue; }
            if (!strcmp(mode, "hang-on-gemm")) { sleep(600); }
            if (!strcmp(mode, "slow")) { struct timespec t = {0, 20000000}; nanosleep(&t, NULL); }
            int h, m; long ldx, ldy;
            char xf[4096], yf[4096];
            if (sscanf(line, "gemm %d %d %4095s %ld %4095s %ld", &h, &m, xf, &ldx, yf, &ldy) != 6 || h <= 0 || h >= MAXW
                || !W[h].used) {
                printf("error bad gemm request\n");
                continue;
            }
            weights_t *w = &W[h];
            float *x = shared(xf, (size_t)m * ldx * 4), *y = shared(yf, (size_t)m * ldy * 4);
            if (!x || !y) { printf("error cannot map the activation or output file\n"); continue; }
            for (int i = 0; i < m; i++) {
                for (int r = 0; r < w->n; r++) {
                    double acc = 0;
                    for (int c = 0; c < w->k; c++) acc += weight(w, r, c) * (double)x[(size_t)i * ldx + c];
                    y[(size_t)i * ldy + r] = (float)acc;
                }
            }
            printf("ok\n");
        } else if (!strcmp(op, "release")) {
            int h;
            if (sscanf(line, "release %d", &h) == 1 && h > 0 && h < MAXW) W[h].used = 0;
            printf("ok\n");
        } else if (!strcmp(op, "quit")) {
            printf("ok\n");
            return 0;
        } else {
            printf("error unknown request '%s'\n", op);
        }
    }
    return 0;
}
