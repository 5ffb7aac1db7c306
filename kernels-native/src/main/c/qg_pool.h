#ifndef QG_POOL_H
#define QG_POOL_H
#include <stdint.h>
typedef void (*qg_task_fn)(void *ctx, int task, int thread);
int qg_pool_resize(int threads);
int qg_pool_threads(void);
int qg_pool_size(void);
int qg_pool_online_cores(void);
void qg_pool_run(int ntasks, qg_task_fn fn, void *ctx);
/* qg_pool_run, and reading ahead: thread t, once it finds no task of this call left, reads [start[t], start[t] +
 * bytes[t]) (64-byte aligned starts) into its cache until the next call begins, and goes on between later calls until
 * that is read or a call sets new regions (bytes 0: none); the calling thread reads its region only while it waits for
 * the others in this call. nregions: the entries of start and bytes, the pool's size (qg_pool_threads) — another count
 * (the pool resized meanwhile) sets empty regions. epoch: what qg_pool_pages_epoch() said when every region was found
 * inside a live qg_pages mapping — the regions are then read with loads, which qg_pool_pages_retire keeps off
 * unmapped memory; 0: with prefetch instructions, which cannot fault (and reach less: dropped while the core's misses
 * are full). start NULL: the regions stay as they are (qg_pool_run). */
void qg_pool_run_ahead(int ntasks, qg_task_fn fn, void *ctx, int nregions, const char *const *start,
                       const int64_t *bytes, uint64_t epoch);
uint64_t qg_pool_pages_epoch(void);
/* before a qg_pages mapping is unmapped: regions checked earlier are no longer loaded from, and a load under way ends
 * before this returns */
void qg_pool_pages_retire(void);
/* on (1) or off (0) for the calling thread: its calls then run their tasks on it alone (a lane) */
void qg_pool_serial(int on);
#endif
