/* workers.h — N threads over one queue: pool mechanics, no policy.
 *
 * After git's run_processes_parallel: the pool knows nothing of builds or
 * pushes. It hands each submitted item to RUN on one of its threads; what an
 * item means and what happens after is the caller's. It never holds more
 * items than it was sized for, so a caller that submits only while it has a
 * free thread never makes an item wait behind another.
 *
 * Stopping:
 *  - drain: nothing submitted but not yet taken starts. The items still in
 *    the queue come back to the caller at once; an item a thread took just
 *    before goes to NOT_STARTED on that thread instead of RUN.
 *  - destroy: one sentinel per thread (never apr_queue_term, which would
 *    drop queued items), then join. Every item is either run or handed back.
 *
 * Each thread has a pool of its own, a child of the pool the workers were
 * created in, with an allocator that has a mutex; RUN gets an iteration pool
 * cleared after each item.
 */
#ifndef DRAY_WORKERS_H
#define DRAY_WORKERS_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_workers_t dray_workers_t;

/* Runs ITEM on a worker thread. SCRATCH_POOL is cleared afterwards. */
typedef void (*dray_workers_run_fn)(void *baton, void *item, apr_pool_t *scratch_pool);

/* ITEM was taken by a worker after a drain: it did not run. On that thread. */
typedef void (*dray_workers_not_started_fn)(void *baton, void *item);

/* Start THREADS threads (>= 0) able to hold CAPACITY queued items (>= 1).
 * On failure, the threads already started are stopped. */
apr_status_t dray_workers_create(dray_workers_t **workers, int threads, unsigned capacity,
                                 dray_workers_run_fn run,
                                 dray_workers_not_started_fn not_started,
                                 void *baton, apr_pool_t *pool);

/* Queue ITEM for a thread. APR_EOF after a drain (ITEM was not queued);
 * APR_EAGAIN when the queue is full. Call from one thread. */
apr_status_t dray_workers_submit(dray_workers_t *workers, void *item);

/* Stop starting items; call TAKE_BACK (on the caller's thread) for each item
 * still queued. Idempotent. */
void dray_workers_drain(dray_workers_t *workers,
                        void (*take_back)(void *baton, void *item), void *baton);

/* How many threads the pool runs. */
int dray_workers_threads(const dray_workers_t *workers);

/* Wait for every thread to finish its current item, then stop them. Items
 * still queued run first (drain before to hand them back instead). */
void dray_workers_destroy(dray_workers_t *workers);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_WORKERS_H */
