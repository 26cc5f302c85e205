/* push_auto.c — the engine's push first, dray's own for what it failed. */
#include "dray/push_auto.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "dray/pools.h"

typedef struct auto_driver_t {
  const dray_push_driver_t *first;
  const dray_push_driver_t *then;
  apr_thread_mutex_t *lock;
  apr_pool_t *pool;           /* only under LOCK */
  apr_hash_t *failed;         /* references FIRST failed to push */
} auto_driver_t;

static dray_error_t *auto_push(const dray_push_driver_t *driver,
                               const dray_push_request_t *req,
                               dray_push_result_t *result,
                               apr_pool_t *result_pool,
                               apr_pool_t *scratch_pool)
{
  auto_driver_t *d = driver->baton;
  dray_error_t *err;
  int failed_before;

  apr_thread_mutex_lock(d->lock);
  failed_before = apr_hash_get(d->failed, req->reference, APR_HASH_KEY_STRING) != NULL;
  apr_thread_mutex_unlock(d->lock);
  if (failed_before) {
    if (req->log)
      apr_file_printf(req->log, "dray: the engine's push of %s failed before: dray uploads "
                      "it itself this time (registry driver)\n", req->reference);
    return d->then->push(d->then, req, result, result_pool, scratch_pool);
  }
  err = d->first->push(d->first, req, result, result_pool, scratch_pool);
  if (err && result->outcome != DRAY_OUTCOME_CANCELLED) {
    apr_thread_mutex_lock(d->lock);
    apr_hash_set(d->failed, apr_pstrdup(d->pool, req->reference), APR_HASH_KEY_STRING, "");
    apr_thread_mutex_unlock(d->lock);
  }
  return err;
}

static const char *auto_describe(const dray_push_driver_t *driver, const char *reference,
                                 apr_pool_t *result_pool)
{
  auto_driver_t *d = driver->baton;
  return apr_pstrcat(result_pool, d->first->describe(d->first, reference, result_pool),
                     " (a retry after a failed push: dray uploads the image itself)", NULL);
}

static const char *auto_describe_list(const dray_push_driver_t *driver, const char *list,
                                      const char *reference, apr_pool_t *result_pool)
{
  auto_driver_t *d = driver->baton;
  return d->first->describe_list(d->first, list, reference, result_pool);
}

dray_error_t *dray_push_auto_driver_create(dray_push_driver_t **driver_p,
                                           const dray_push_driver_t *first,
                                           const dray_push_driver_t *then,
                                           apr_pool_t *result_pool)
{
  dray_push_driver_t *driver = apr_pcalloc(result_pool, sizeof(*driver));
  auto_driver_t *d = apr_pcalloc(result_pool, sizeof(*d));
  d->first = first;
  d->then = then;
  if (apr_thread_mutex_create(&d->lock, APR_THREAD_MUTEX_DEFAULT, result_pool)
      || dray_pool_create_threadsafe(&d->pool, result_pool))
    return dray_error_create(APR_ENOMEM, NULL, "cannot set up the push driver");
  d->failed = apr_hash_make(d->pool);
  driver->name = "auto";
  driver->push = auto_push;
  driver->describe = auto_describe;
  driver->describe_list = first->describe_list ? auto_describe_list : NULL;
  driver->baton = d;
  *driver_p = driver;
  return DRAY_NO_ERROR;
}
