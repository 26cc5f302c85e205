/* blobtrack.c — one upload per unique blob per run. */
#include "dray/blobtrack.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

#include "dray/pools.h"

typedef struct entry_t {
  int uploading;              /* a claimer is uploading it */
  const char *repo;           /* where it is, once uploaded; NULL: nowhere yet */
} entry_t;

struct dray_blobtrack_t {
  apr_thread_mutex_t *lock;
  apr_thread_cond_t *changed;
  apr_pool_t *pool;           /* entries and keys; only under LOCK */
  apr_hash_t *blobs;          /* "registry digest" -> entry_t */
};

dray_error_t *dray_blobtrack_create(dray_blobtrack_t **track_p, apr_pool_t *result_pool)
{
  dray_blobtrack_t *t = apr_pcalloc(result_pool, sizeof(*t));
  if (apr_thread_mutex_create(&t->lock, APR_THREAD_MUTEX_DEFAULT, result_pool)
      || apr_thread_cond_create(&t->changed, result_pool)
      || dray_pool_create_threadsafe(&t->pool, result_pool))
    return dray_error_create(APR_ENOMEM, NULL, "cannot set up the blob tracker");
  t->blobs = apr_hash_make(t->pool);
  *track_p = t;
  return DRAY_NO_ERROR;
}

/* The entry for KEY, made if new; under the lock. */
static entry_t *entry(dray_blobtrack_t *t, const char *registry, const char *digest)
{
  const char *key = apr_pstrcat(t->pool, registry, " ", digest, NULL);
  entry_t *e = apr_hash_get(t->blobs, key, APR_HASH_KEY_STRING);
  if (!e) {
    e = apr_pcalloc(t->pool, sizeof(*e));
    apr_hash_set(t->blobs, key, APR_HASH_KEY_STRING, e);
  }
  return e;
}

dray_error_t *dray_blobtrack_claim(const char **holder, dray_blobtrack_t *t,
                                   const char *registry, const char *digest,
                                   dray_cancel_t *cancel, apr_pool_t *result_pool)
{
  entry_t *e;
  *holder = NULL;
  apr_thread_mutex_lock(t->lock);
  e = entry(t, registry, digest);
  while (e->uploading && !e->repo) {
    if (cancel && dray_cancel_level(cancel) > 0) {
      apr_thread_mutex_unlock(t->lock);
      return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "blob %s: cancelled while another "
                                "push uploaded it", digest);
    }
    apr_thread_cond_timedwait(t->changed, t->lock, apr_time_from_msec(500));
  }
  if (e->repo)
    *holder = apr_pstrdup(result_pool, e->repo);
  else
    e->uploading = 1;
  apr_thread_mutex_unlock(t->lock);
  return DRAY_NO_ERROR;
}

void dray_blobtrack_done(dray_blobtrack_t *t, const char *registry, const char *digest,
                         const char *repo)
{
  entry_t *e;
  apr_thread_mutex_lock(t->lock);
  e = entry(t, registry, digest);
  e->uploading = 0;
  if (!e->repo)
    e->repo = apr_pstrdup(t->pool, repo);
  apr_thread_cond_broadcast(t->changed);
  apr_thread_mutex_unlock(t->lock);
}

void dray_blobtrack_failed(dray_blobtrack_t *t, const char *registry, const char *digest)
{
  apr_thread_mutex_lock(t->lock);
  entry(t, registry, digest)->uploading = 0;
  apr_thread_cond_broadcast(t->changed);
  apr_thread_mutex_unlock(t->lock);
}
