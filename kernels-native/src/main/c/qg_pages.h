#ifndef QG_PAGES_H
#define QG_PAGES_H
#include <stdint.h>
/* qg_pool_pages_epoch() if [p, p + bytes) lies inside one live qg_pages_alloc mapping (the pool may then load from
 * it until that epoch ends), else 0 */
uint64_t qg_pages_epoch_of(const void *p, int64_t bytes);
#endif
