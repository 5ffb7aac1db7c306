/*
 * Memory for weights in 2 MiB-aligned anonymous mappings marked MADV_HUGEPAGE. Decode streams every weight once per
 * token; on 4 KiB pages that stream takes a TLB miss every 4 KiB and the hardware prefetchers restart at every page
 * boundary. Measured on a Zen 4 guest (2 threads, int4s-g32 GEMV from DRAM, the same data in both): 0.72-0.83x the
 * time on transparent huge pages. The kernel backs only the whole 2 MiB extents of a mapping with huge pages, so the
 * length is rounded to 4 KiB, not 2 MiB: a 2.1 MiB matrix costs 2.1 MiB, not 4. Where transparent huge pages are
 * off (or the madvise fails) the mapping is ordinary memory, as malloc's would be.
 * The live mappings are listed, so that the pool's read-ahead (qg_pool.c) loads only from memory that is mapped.
 */
#include "quantgate.h"
#include "qg_pages.h"
#include "qg_pool.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_ALIGN ((uintptr_t)2 << 20)

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct live_span {
  uintptr_t lo, hi;
} *live;
static int nlive, live_cap;

/* a mapping that cannot be listed (no memory for the list) is still returned: the read-ahead then only prefetches */
static void live_add(uintptr_t lo, uintptr_t hi) {
  pthread_mutex_lock(&live_mu);
  if (nlive == live_cap) {
    const int cap = live_cap ? 2 * live_cap : 64;
    struct live_span *l = realloc(live, (size_t)cap * sizeof *l);
    if (l) live = l, live_cap = cap;
  }
  if (nlive < live_cap) live[nlive++] = (struct live_span){lo, hi};
  pthread_mutex_unlock(&live_mu);
}

uint64_t qg_pages_epoch_of(const void *p, int64_t bytes) {
  const uintptr_t lo = (uintptr_t)p, hi = lo + (uintptr_t)bytes;
  uint64_t epoch = 0;
  pthread_mutex_lock(&live_mu);
  for (int i = 0; i < nlive && !epoch; i++)
    if (live[i].lo <= lo && hi <= live[i].hi) epoch = qg_pool_pages_epoch();
  pthread_mutex_unlock(&live_mu);
  return epoch;
}

static size_t page_round(int64_t bytes) { return ((size_t)bytes + 4095) & ~(size_t)4095; }

void *qg_pages_alloc(int64_t bytes) {
  if (bytes <= 0 || (uint64_t)bytes > ((uint64_t)1 << 46)) return NULL;
  const size_t len = page_round(bytes), span = len + HUGE_ALIGN;
  uint8_t *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  /* keep the 2 MiB-aligned part, give back the head and the tail */
  uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1));
  if (p > raw) munmap(raw, (size_t)(p - raw));
  const size_t tail = (size_t)(raw + span - (p + len));
  if (tail) munmap(p + len, tail);
#ifdef MADV_HUGEPAGE
  (void)madvise(p, len, MADV_HUGEPAGE); /* advice: without it the memory is still valid, on small pages */
#endif
  live_add((uintptr_t)p, (uintptr_t)p + len);
  return p;
}

int qg_pages_free(void *p, int64_t bytes) {
  if (!p || bytes <= 0) return QG_EINVAL;
  pthread_mutex_lock(&live_mu);
  for (int i = 0; i < nlive; i++)
    if (live[i].lo == (uintptr_t)p) {
      if (live[i].hi - live[i].lo != page_round(bytes)) { /* not the size it was mapped with: unmap nothing */
        pthread_mutex_unlock(&live_mu);
        return QG_EINVAL;
      }
      live[i] = live[--nlive];
      break;
    }
  qg_pool_pages_retire(); /* no read-ahead loads from it from here on */
  pthread_mutex_unlock(&live_mu);
  /* a mapping that could not be listed (no memory for the list) is unmapped all the same */
  return munmap(p, page_round(bytes)) == 0 ? QG_OK : QG_EINVAL;
}
