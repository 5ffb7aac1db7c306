/*
 * The same int8-activation GEMV on weights in 4 KiB pages and on transparent huge pages, paired in one process: C
 * copies of the matrix (C x its size past the last-level cache, so every call streams from DRAM) in one mapping
 * advised MADV_NOHUGEPAGE and one advised MADV_HUGEPAGE (what qg_pages_alloc does), the two alternating every round,
 * order flipped; prints each mean and the ratio huge / 4K, and the mapping's AnonHugePages so a system without
 * transparent huge pages shows as such.
 *
 *   gcc -O2 ab_hugepages.c -o ab_hugepages -ldl
 *   ./ab_hugepages target/classes/native/linux-x86_64/libquantgate.so FMT N K GROUP COPIES [ROUNDS]   (FMT 3 int8, 5 int4s)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef int (*gemm_fn)(int, int, int, int, int, const void *, const uint16_t *, const uint8_t *, int, const float *,
                       int64_t, float *, int64_t);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static uint8_t *map_aligned(size_t bytes, int huge) {
  const size_t align = (size_t)2 << 20;
  uint8_t *p = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  uint8_t *a = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
  madvise(a, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return a;
}

int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: %s LIB.so FMT N K GROUP COPIES [ROUNDS]\n", argv[0]); return 2; }
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
  gemm_fn gemm = (gemm_fn)dlsym(h, "qg_gemm");
  const int fmt = atoi(argv[2]), n = atoi(argv[3]), k = atoi(argv[4]), g = atoi(argv[5]), copies = atoi(argv[6]);
  const int rounds = argc > 7 ? atoi(argv[7]) : 30;
  if (!gemm || (fmt != 3 && fmt != 5) || n < 1 || k < g || g < 32 || k % g || copies < 1 || rounds < 3) {
    fprintf(stderr, "FMT 3 or 5, N >= 1, K a multiple of GROUP >= 32, COPIES >= 1, ROUNDS >= 3\n");
    return 2;
  }
  const size_t code_bytes = (size_t)n * (fmt == 3 ? k : k / 2), scale_bytes = (size_t)n * (k / g) * 2;
  const size_t per = (code_bytes + scale_bytes + 4095) / 4096 * 4096;
  uint8_t *blk[2];
  for (int v = 0; v < 2; v++) {
    if (!(blk[v] = map_aligned(per * copies, v))) { perror("mmap"); return 1; }
    for (size_t i = 0; i < per * copies; i++) blk[v][i] = (uint8_t)((i * 2654435761u) >> 13);
    for (int c = 0; c < copies; c++) {
      uint16_t *s = (uint16_t *)(blk[v] + c * per + code_bytes);
      for (size_t i = 0; i < scale_bytes / 2; i++) s[i] = (uint16_t)(0x2000 + (i & 0x3ff));
    }
  }
  float *x = malloc(sizeof(float) * k), *y = malloc(sizeof(float) * n);
  for (int i = 0; i < k; i++) x[i] = (float)rand() / RAND_MAX - 0.5f;
  double sum[2] = {0, 0};
  for (int r = -2; r < rounds; r++)
    for (int j = 0; j < 2; j++) {
      const int v = (r & 1) ? 1 - j : j;
      const double t0 = now();
      for (int c = 0; c < copies; c++)
        if (gemm(fmt, 1, n, k, g, blk[v] + c * per, (const uint16_t *)(blk[v] + c * per + code_bytes), NULL, 1, x, k, y, n)) {
          fprintf(stderr, "qg_gemm failed\n");
          return 1;
        }
      if (r >= 0) sum[v] += (now() - t0) / copies;
    }
  char line[256];
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "AnonHugePages")) printf("process %s", line);
  if (f) fclose(f);
  const double a = sum[0] / rounds, b = sum[1] / rounds, bytes = (double)(code_bytes + scale_bytes);
  printf("fmt %d %dx%d g%d M=1 x %d copies: 4K pages %.1f us (%.1f GB/s), huge pages %.1f us (%.1f GB/s), huge/4K %.3f\n",
         fmt, n, k, g, copies, a * 1e6, bytes / a / 1e9, b * 1e6, bytes / b / 1e9, b / a);
  return 0;
}
