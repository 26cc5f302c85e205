/* workers.c — a fixed set of threads draining one apr_queue. */
#include "dray/workers.h"

#include <apr_atomic.h>
#include <apr_queue.h>
#include <apr_thread_proc.h>

#include "dray/pools.h"

struct dray_workers_t {
  apr_queue_t *queue;
  apr_thread_t **threads;
  int nthreads;                  /* started */
  dray_workers_run_fn run;
  dray_workers_not_started_fn not_started;
  void *baton;
  volatile apr_uint32_t draining;
  apr_pool_t *threads_parent;    /* thread-safe: each thread's pool is its child */
  int destroyed;
};

/* A queue item that stops one thread: never dereferenced. */
static char stop_sentinel;

static apr_status_t queue_push(apr_queue_t *q, void *item)
{
  apr_status_t st;
  do {
    st = apr_queue_push(q, item);
  } while (APR_STATUS_IS_EINTR(st));
  return st;
}

static apr_status_t queue_pop(apr_queue_t *q, void **item)
{
  apr_status_t st;
  do {
    st = apr_queue_pop(q, item);
  } while (APR_STATUS_IS_EINTR(st));
  return st;
}

static void *APR_THREAD_FUNC worker_main(apr_thread_t *thd, void *data)
{
  dray_workers_t *w = data;
  apr_pool_t *pool, *iterpool;
  void *item;

  /* Children of a pool whose allocator has a mutex: safe from any thread. */
  pool = dray_pool_create_sub(w->threads_parent);
  iterpool = dray_pool_create_sub(pool);
  while (queue_pop(w->queue, &item) == APR_SUCCESS && item != &stop_sentinel) {
    if (apr_atomic_read32(&w->draining)) {
      if (w->not_started)
        w->not_started(w->baton, item);
      continue;
    }
    apr_pool_clear(iterpool);
    w->run(w->baton, item, iterpool);
  }
  apr_pool_destroy(pool);
  /* A plain return, not apr_thread_exit: pthread_exit unwinding trips ASan. */
  (void)thd;
  return NULL;
}

apr_status_t dray_workers_create(dray_workers_t **workers_p, int threads, unsigned capacity,
                                 dray_workers_run_fn run,
                                 dray_workers_not_started_fn not_started,
                                 void *baton, apr_pool_t *pool)
{
  dray_workers_t *w = apr_pcalloc(pool, sizeof(*w));
  apr_status_t st;
  int i;

  w->run = run;
  w->not_started = not_started;
  w->baton = baton;
  w->threads = apr_pcalloc(pool, sizeof(*w->threads) * (apr_size_t)(threads + 1));
  if ((st = apr_queue_create(&w->queue, capacity + (unsigned)threads + 1, pool)))
    return st;
  /* Threads create their pools at once: their parent must allow it. */
  if ((st = dray_pool_create_threadsafe(&w->threads_parent, pool)))
    return st;

  for (i = 0; i < threads; i++) {
    st = apr_thread_create(&w->threads[i], NULL, worker_main, w, pool);
    if (st != APR_SUCCESS) {
      dray_workers_destroy(w);
      return st;
    }
    w->nthreads++;
  }
  *workers_p = w;
  return APR_SUCCESS;
}

apr_status_t dray_workers_submit(dray_workers_t *w, void *item)
{
  apr_status_t st;
  if (apr_atomic_read32(&w->draining))
    return APR_EOF;
  do {
    st = apr_queue_trypush(w->queue, item);
  } while (APR_STATUS_IS_EINTR(st));
  return st;
}

void dray_workers_drain(dray_workers_t *w, void (*take_back)(void *baton, void *item),
                        void *baton)
{
  void *item;
  apr_atomic_set32(&w->draining, 1);
  while (apr_queue_trypop(w->queue, &item) == APR_SUCCESS)
    if (item != &stop_sentinel && take_back)
      take_back(baton, item);
}

int dray_workers_threads(const dray_workers_t *w)
{
  return w->nthreads;
}

void dray_workers_destroy(dray_workers_t *w)
{
  apr_status_t rv;
  int i;
  if (!w || w->destroyed)
    return;
  w->destroyed = 1;
  for (i = 0; i < w->nthreads; i++)
    queue_push(w->queue, &stop_sentinel);
  for (i = 0; i < w->nthreads; i++)
    apr_thread_join(&rv, w->threads[i]);
  w->nthreads = 0;
}
