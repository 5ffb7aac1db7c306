#ifndef QG_POOL_H
#define QG_POOL_H
typedef void (*qg_task_fn)(void *ctx, int task, int thread);
int qg_pool_resize(int threads);
int qg_pool_threads(void);
int qg_pool_size(void);
int qg_pool_online_cores(void);
void qg_pool_run(int ntasks, qg_task_fn fn, void *ctx);
/* on (1) or off (0) for the calling thread: its calls then run their tasks on it alone (a lane) */
void qg_pool_serial(int on);
#endif
