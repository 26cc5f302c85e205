/* pools.c — the root pool, the abort function, thread-safe parents. */
#include "dray/pools.h"

#include <stdio.h>
#include <stdlib.h>

#include <apr_allocator.h>
#include <apr_thread_mutex.h>

int dray_pool_abort(int retcode)
{
  (void)retcode;
  fputs("dray: out of memory\n", stderr);
  abort();
  return -1; /* not reached */
}

apr_pool_t *dray_pool_create_root(void)
{
  apr_pool_t *pool = NULL;
  /* Cannot fail except for lack of memory, which the abort function handles. */
  if (apr_pool_create_ex(&pool, NULL, dray_pool_abort, NULL) != APR_SUCCESS)
    dray_pool_abort(APR_ENOMEM);
  return pool;
}

apr_pool_t *dray_pool_create_sub(apr_pool_t *parent)
{
  apr_pool_t *pool = NULL;
  if (apr_pool_create_ex(&pool, parent, dray_pool_abort, NULL) != APR_SUCCESS)
    dray_pool_abort(APR_ENOMEM);
  return pool;
}

apr_status_t dray_pool_create_threadsafe(apr_pool_t **pool_p, apr_pool_t *parent)
{
  apr_allocator_t *allocator;
  apr_thread_mutex_t *mutex;
  apr_pool_t *pool;
  apr_status_t st;

  if ((st = apr_allocator_create(&allocator)))
    return st;
  if ((st = apr_pool_create_ex(&pool, parent, dray_pool_abort, allocator))) {
    apr_allocator_destroy(allocator);
    return st;
  }
  apr_allocator_owner_set(allocator, pool); /* destroyed with the pool */
  if ((st = apr_thread_mutex_create(&mutex, APR_THREAD_MUTEX_DEFAULT, pool))) {
    apr_pool_destroy(pool);
    return st;
  }
  apr_allocator_mutex_set(allocator, mutex);
  *pool_p = pool;
  return APR_SUCCESS;
}
