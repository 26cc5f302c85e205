/* push_registry.c — push by uploading the image's blobs ourselves. */
#include "dray/push_registry.h"

#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "dray/blobtrack.h"
#include "dray/imageread.h"
#include "dray/manifest.h"
#include "dray/pools.h"
#include "dray/ref.h"
#include "dray/upload.h"

/* One read of an image (by ID) whose spills are kept until the image is
 * pushed: read ahead by the builder that built it (prepare), or by the
 * first push, whose retries then need not read it again. */
typedef struct kept_read_t {
  apr_pool_t *pool;           /* the read's, spills included; NULL: gone */
  const dray_image_blobs_t *blobs; /* in POOL */
  apr_int64_t spill_bytes;
  int reading;                /* a read is under way: wait for it */
  int users;                  /* pushes using its spills now */
} kept_read_t;

typedef struct registry_driver_t {
  const dray_image_source_t *source;
  dray_registry_t *registry;
  dray_blobtrack_t *track;
  int blob_jobs;
  /* Images read this run, by ID: another tag or a retry of the same image
   * need not compress every layer again. */
  apr_thread_mutex_t *lock;
  apr_thread_cond_t *read_done; /* a kept read stopped "reading" */
  apr_pool_t *cache_pool;     /* only under LOCK */
  apr_hash_t *images;         /* image ID -> dray_image_blobs_t */
  /* Layers this run compressed, by diff_id: images that share a base read
   * it without compressing it again (as the engine keeps diffID -> digest). */
  apr_hash_t *layers;         /* diff_id -> dray_image_layer_t */
  apr_hash_t *kept;           /* image ID -> kept_read_t */
  apr_int64_t kept_bytes;     /* spills of kept reads not in use by a push */
} registry_driver_t;

/* One blob of the image being pushed. */
typedef struct blob_job_t {
  const char *digest;
  apr_int64_t size;
  const dray_image_layer_t *layer; /* NULL: the config */
  dray_upload_stats_t stats;
  dray_error_t *err;
} blob_job_t;

/* One image's push, shared by its blob threads: each takes the next blob. */
typedef struct image_push_t {
  const registry_driver_t *d;
  const dray_push_request_t *req;
  const char *domain;         /* as in the reference; NULL: Docker Hub */
  const char *registry_key;   /* the API host, for the blob tracker */
  const char *repo;
  const char *base_url;
  const dray_image_blobs_t *blobs;
  blob_job_t *jobs;
  int njobs;
  volatile apr_uint32_t next;
  volatile apr_uint32_t failed;
  volatile apr_uint32_t finished; /* threads done */
  volatile apr_uint32_t blobs_done;
  volatile apr_uint64_t sent;     /* blob bytes into requests (progress) */
  volatile apr_uint32_t retries;  /* requests tried again (progress) */
} image_push_t;

/* ---- a layer as an upload source --------------------------------------- */

/* The blob's bytes from the file the image's read made of it (its spill),
 * or, without one, from the engine once more. */
typedef struct layer_source_t {
  const image_push_t *ip;
  const dray_image_layer_t *layer;
  dray_layer_reader_t *reader;
  apr_file_t *spill;
} layer_source_t;

static dray_error_t *layer_open(void *baton, apr_int64_t offset, apr_pool_t *pool)
{
  layer_source_t *ls = baton;
  apr_off_t at = (apr_off_t)offset;
  apr_status_t rv;

  ls->spill = NULL;
  ls->reader = NULL;
  if (!ls->layer->spill)
    return dray_layer_reader_open(&ls->reader, ls->ip->d->source, ls->ip->blobs->id,
                                  ls->layer, offset, ls->ip->req->cancel, pool);
  rv = apr_file_open(&ls->spill, ls->layer->spill, APR_FOPEN_READ | APR_FOPEN_BINARY,
                     APR_FPROT_OS_DEFAULT, pool);
  if (!rv)
    rv = apr_file_seek(ls->spill, APR_SET, &at);
  if (rv)
    return dray_error_createf(rv, NULL, "cannot read the temporary file %s", ls->layer->spill);
  return DRAY_NO_ERROR;
}

static dray_error_t *layer_read(void *baton, char *buf, apr_size_t len, apr_size_t *got)
{
  layer_source_t *ls = baton;
  apr_status_t rv;
  if (!ls->spill)
    return dray_layer_reader_read(ls->reader, buf, len, got);
  *got = len;
  rv = apr_file_read(ls->spill, buf, got);
  if (rv == APR_EOF) {
    *got = 0;
    return DRAY_NO_ERROR;
  }
  return rv ? dray_error_createf(rv, NULL, "cannot read the temporary file %s",
                                 ls->layer->spill)
            : DRAY_NO_ERROR;
}

/* ---- authorization ------------------------------------------------------ */

/* What a push to one repository asks of the registry client: pull and push
 * there, pull from FROM (a mount's source) if any. */
typedef struct auth_ask_t {
  const image_push_t *ip;
  apr_array_header_t *from;   /* const char *, or NULL */
} auth_ask_t;

static dray_error_t *authorize(void *baton, int refused, const char *challenge,
                               const char **authorization, apr_pool_t *result_pool)
{
  auth_ask_t *a = baton;
  apr_pool_t *scratch = dray_pool_create_sub(result_pool);
  dray_error_t *err = dray_registry_push_auth(authorization, a->ip->d->registry, a->ip->domain,
                                              a->ip->repo, a->from, refused, challenge,
                                              a->ip->req->cancel, result_pool, scratch);
  apr_pool_destroy(scratch);
  return err;
}

/* The target every request of IP goes to; A gets its authorization. */
static void target(dray_upload_target_t *t, image_push_t *ip, auth_ask_t *a)
{
  memset(t, 0, sizeof(*t));
  t->base_url = ip->base_url;
  t->repo = ip->repo;
  t->cancel = ip->req->cancel;
  t->stall_timeout = ip->req->stall_timeout;
  t->log = ip->req->log;
  t->sent = &ip->sent;
  t->retries = &ip->retries;
  t->authorize = authorize;
  t->authorize_baton = a;
  a->ip = ip;
}

/* ---- one blob ---------------------------------------------------------- */

/* Upload JOB unless this run has it already: claimed, it is ours to upload;
 * held by another repository of the registry, it is mounted from there. */
static dray_error_t *push_blob(image_push_t *ip, blob_job_t *job, apr_pool_t *pool)
{
  const dray_push_request_t *req = ip->req;
  const char *holder;
  apr_array_header_t *from = apr_array_make(pool, 1, sizeof(const char *));
  dray_upload_target_t t;
  auth_ask_t ask;
  dray_blob_source_t source;
  layer_source_t ls;
  dray_error_t *err = DRAY_NO_ERROR;

  DRAY_ERR(dray_blobtrack_claim(&holder, ip->d->track, ip->registry_key, job->digest,
                                req->cancel, pool));
  if (holder && strcmp(holder, ip->repo))
    APR_ARRAY_PUSH(from, const char *) = holder;
  target(&t, ip, &ask);
  ask.from = from;
  if (job->layer) {
    ls.ip = ip;
    ls.layer = job->layer;
    ls.reader = NULL;
    ls.spill = NULL;
    source.open = layer_open;
    source.read = layer_read;
    source.baton = &ls;
  }
  else
    dray_blob_source_memory(&source, ip->blobs->config, ip->blobs->config_len, pool);
  err = dray_upload_blob(&job->stats, &t, job->digest, job->size,
                           from->nelts ? APR_ARRAY_IDX(from, 0, const char *) : NULL, &source,
                           pool);
  /* Held already: nothing of ours to report either way. */
  if (!holder && err)
    dray_blobtrack_failed(ip->d->track, ip->registry_key, job->digest);
  else if (!holder || !err)
    dray_blobtrack_done(ip->d->track, ip->registry_key, job->digest, ip->repo);
  return err;
}

static void *APR_THREAD_FUNC blob_thread(apr_thread_t *thread, void *baton)
{
  image_push_t *ip = baton;
  apr_pool_t *pool = apr_thread_pool_get(thread);
  apr_pool_t *iterpool = dray_pool_create_sub(pool);

  for (;;) {
    apr_uint32_t i = apr_atomic_inc32(&ip->next);
    blob_job_t *job;
    if ((int)i >= ip->njobs || apr_atomic_read32(&ip->failed))
      break;
    job = &ip->jobs[i];
    apr_pool_clear(iterpool);
    job->err = push_blob(ip, job, iterpool);
    if (job->err)
      apr_atomic_set32(&ip->failed, 1);
    else
      apr_atomic_inc32(&ip->blobs_done);
  }
  apr_pool_destroy(iterpool);
  apr_atomic_inc32(&ip->finished);
  /* A plain return, not apr_thread_exit: pthread_exit unwinding trips ASan.
   * The thread's pool goes with the push's scratch pool. */
  return NULL;
}

static void report(image_push_t *ip, apr_int64_t total, const char *status)
{
  dray_push_progress_t p;
  if (!ip->req->progress)
    return;
  memset(&p, 0, sizeof(p));
  p.bytes_done = (apr_int64_t)apr_atomic_read64(&ip->sent);
  p.bytes_total = total;
  p.layers_done = (int)apr_atomic_read32(&ip->blobs_done);
  p.layers_total = ip->njobs;
  p.retries = (int)apr_atomic_read32(&ip->retries);
  p.status = status;
  ip->req->progress(ip->req->progress_baton, &p);
}

/* Every blob, BLOB_JOBS at once, on threads of their own; this thread
 * reports progress meanwhile. The first failure stops new blobs. */
static dray_error_t *push_blobs(image_push_t *ip, apr_pool_t *scratch_pool)
{
  int n = ip->njobs < ip->d->blob_jobs ? ip->njobs : ip->d->blob_jobs;
  apr_thread_t **threads = apr_pcalloc(scratch_pool, sizeof(*threads) * (apr_size_t)(n + 1));
  apr_int64_t total = 0;
  int started = 0;
  dray_error_t *err = DRAY_NO_ERROR;

  for (int i = 0; i < ip->njobs; i++)
    total += ip->jobs[i].size;
  for (int i = 0; i < n; i++) {
    /* Each thread's pool has an allocator of its own. */
    apr_pool_t *tpool;
    if (dray_pool_create_threadsafe(&tpool, scratch_pool) != APR_SUCCESS
        || apr_thread_create(&threads[i], NULL, blob_thread, ip, tpool) != APR_SUCCESS) {
      apr_atomic_set32(&ip->failed, 1);
      err = dray_error_create(APR_ENOMEM, NULL, "cannot start the blob upload threads");
      break;
    }
    started++;
  }
  while ((int)apr_atomic_read32(&ip->finished) < started) {
    report(ip, total, "pushing");
    apr_sleep(apr_time_from_msec(200));
  }
  for (int i = 0; i < started; i++) {
    apr_status_t rv;
    apr_thread_join(&rv, threads[i]);
  }
  report(ip, total, "pushing");
  for (int i = 0; i < ip->njobs && !err; i++)
    if (ip->jobs[i].err) {
      err = ip->jobs[i].err;
      ip->jobs[i].err = NULL;
    }
  for (int i = 0; i < ip->njobs; i++)
    dray_error_clear(ip->jobs[i].err);
  return err;
}

/* ---- the driver --------------------------------------------------------- */

/* Forget K's spills (under D->lock). */
static void kept_free(registry_driver_t *d, kept_read_t *k)
{
  if (!k->pool)
    return;
  d->kept_bytes -= k->spill_bytes;
  apr_pool_destroy(k->pool);
  k->pool = NULL;
  k->blobs = NULL;
}

/* Learn of BLOBS (read now) in the run's caches (under D->lock). */
static void remember(registry_driver_t *d, const dray_image_blobs_t *blobs)
{
  const dray_image_blobs_t *known = apr_hash_get(d->images, blobs->id, APR_HASH_KEY_STRING);
  if (known)
    return;
  known = dray_image_blobs_dup(blobs, d->cache_pool);
  apr_hash_set(d->images, known->id, APR_HASH_KEY_STRING, known);
  for (int i = 0; i < known->layers->nelts; i++) {
    const dray_image_layer_t *l = &APR_ARRAY_IDX(known->layers, i, dray_image_layer_t);
    if (!apr_hash_get(d->layers, l->diff_id, APR_HASH_KEY_STRING))
      apr_hash_set(d->layers, l->diff_id, APR_HASH_KEY_STRING, l);
  }
}

/* IMAGE's blobs, for a push (USE) or to have them ready for one (!USE).
 * Read from the engine unless this run has a kept read of the same image
 * (by ID: used, with its spills; one under way is waited for) or knows its
 * blobs (*BLOBS without spills: a layer the registry lacks is read again).
 * Layers this run compressed for another image are not compressed again.
 * A read is kept, spills and all, in *KEPT (NULL: none) until
 * kept_release; a read ahead is kept only while the spills waiting for
 * their pushes stay under DRAY_PUSH_REGISTRY_READ_AHEAD_BYTES. */
static dray_error_t *image_blobs(const dray_image_blobs_t **blobs_p, kept_read_t **kept_p,
                                 int *read_now, registry_driver_t *d, const char *image,
                                 int use, dray_cancel_t *cancel, apr_pool_t *scratch_pool)
{
  dray_image_blobs_t *blobs;
  const dray_image_blobs_t *known;
  kept_read_t *k;
  apr_pool_t *pool;
  dray_error_t *err;

  *blobs_p = NULL;
  *kept_p = NULL;
  *read_now = 0;
  DRAY_ERR(dray_image_inspect(&blobs, d->source, image, cancel, scratch_pool, scratch_pool));
  apr_thread_mutex_lock(d->lock);
  while ((k = apr_hash_get(d->kept, blobs->id, APR_HASH_KEY_STRING)) != NULL && k->reading) {
    if (!use) {
      apr_thread_mutex_unlock(d->lock);
      return DRAY_NO_ERROR; /* someone reads it already */
    }
    apr_thread_cond_wait(d->read_done, d->lock);
  }
  if (k && k->pool) {
    if (use) {
      if (k->users++ == 0)
        d->kept_bytes -= k->spill_bytes; /* no longer waiting */
      *kept_p = k;
      *blobs_p = k->blobs;
    }
    apr_thread_mutex_unlock(d->lock);
    return DRAY_NO_ERROR;
  }
  known = apr_hash_get(d->images, blobs->id, APR_HASH_KEY_STRING);
  if (known || (!use && d->kept_bytes >= DRAY_PUSH_REGISTRY_READ_AHEAD_BYTES)) {
    apr_thread_mutex_unlock(d->lock);
    *blobs_p = use ? known : NULL;
    return DRAY_NO_ERROR;
  }
  for (int i = 0; i < blobs->layers->nelts; i++) {
    dray_image_layer_t *l = &APR_ARRAY_IDX(blobs->layers, i, dray_image_layer_t);
    const dray_image_layer_t *seen = apr_hash_get(d->layers, l->diff_id, APR_HASH_KEY_STRING);
    if (seen) {
      l->digest = apr_pstrdup(scratch_pool, seen->digest);
      l->size = seen->size;
      l->raw_size = seen->raw_size;
      l->as_is = seen->as_is;
    }
  }
  if (!k) {
    k = apr_pcalloc(d->cache_pool, sizeof(*k));
    apr_hash_set(d->kept, apr_pstrdup(d->cache_pool, blobs->id), APR_HASH_KEY_STRING, k);
  }
  if (dray_pool_create_threadsafe(&pool, d->cache_pool) != APR_SUCCESS) {
    apr_thread_mutex_unlock(d->lock);
    return dray_error_create(APR_ENOMEM, NULL, "cannot read the image: out of memory");
  }
  k->reading = 1;
  apr_thread_mutex_unlock(d->lock);

  blobs = dray_image_blobs_dup(blobs, pool);
  err = dray_image_read_blobs(blobs, d->source, cancel, pool, scratch_pool);

  apr_thread_mutex_lock(d->lock);
  k->reading = 0;
  if (err) {
    apr_pool_destroy(pool);
  } else {
    k->pool = pool;
    k->blobs = blobs;
    k->spill_bytes = 0;
    for (int i = 0; i < blobs->layers->nelts; i++) {
      const dray_image_layer_t *l = &APR_ARRAY_IDX(blobs->layers, i, dray_image_layer_t);
      if (l->spill)
        k->spill_bytes += l->size;
    }
    remember(d, blobs);
    if (use) {
      k->users++;
      *kept_p = k;
      *blobs_p = blobs;
    } else {
      d->kept_bytes += k->spill_bytes;
    }
    *read_now = 1;
  }
  apr_thread_cond_broadcast(d->read_done);
  apr_thread_mutex_unlock(d->lock);
  return err;
}

/* A push is done with K: PUSHED, its spills go; else they stay for the
 * retry, while the spills waiting stay under the read-ahead bound. */
static void kept_release(registry_driver_t *d, kept_read_t *k, int pushed)
{
  if (!k)
    return;
  apr_thread_mutex_lock(d->lock);
  if (--k->users == 0) {
    d->kept_bytes += k->spill_bytes; /* waiting again */
    if (pushed || d->kept_bytes > DRAY_PUSH_REGISTRY_READ_AHEAD_BYTES)
      kept_free(d, k);
  }
  apr_thread_mutex_unlock(d->lock);
}

/* The rest of a push of REF, whose blobs are BLOBS. */
static dray_error_t *push_blobs_and_manifest(dray_push_result_t *result, image_push_t *ip,
                                             const registry_driver_t *d,
                                             const dray_push_request_t *req,
                                             const dray_ref_t *ref, const char *repo,
                                             const dray_image_blobs_t *blobs,
                                             apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  const char *ref_s = req->reference;
  dray_upload_target_t t;
  auth_ask_t ask;
  dray_upload_stats_t mstats;
  dray_manifest_t manifest;
  dray_error_t *err;
  long status = 0;

  ip->d = d;
  ip->req = req;
  ip->domain = dray_ref_domain_is_docker_hub(ref->domain) ? NULL : ref->domain;
  ip->registry_key = ip->domain ? ip->domain : DRAY_REGISTRY_HUB_HOST;
  ip->repo = repo;
  ip->base_url = dray_registry_base_url(d->registry, ip->domain, scratch_pool);
  ip->blobs = blobs;
  /* The config first (small), then the layers, largest first so that the
   * longest uploads start early. */
  ip->jobs = apr_pcalloc(scratch_pool, sizeof(blob_job_t) * (apr_size_t)(blobs->layers->nelts + 1));
  ip->jobs[0].digest = blobs->id;
  ip->jobs[0].size = (apr_int64_t)blobs->config_len;
  ip->njobs = 1;
  for (int i = 0; i < blobs->layers->nelts; i++) {
    const dray_image_layer_t *l = &APR_ARRAY_IDX(blobs->layers, i, dray_image_layer_t);
    int j, dup = 0;
    for (j = 1; j < ip->njobs && !dup; j++)
      dup = !strcmp(ip->jobs[j].digest, l->digest); /* a layer twice: one upload */
    if (dup)
      continue;
    for (j = ip->njobs; j > 1 && ip->jobs[j - 1].size < l->size; j--)
      ip->jobs[j] = ip->jobs[j - 1];
    memset(&ip->jobs[j], 0, sizeof(ip->jobs[j]));
    ip->jobs[j].digest = l->digest;
    ip->jobs[j].size = l->size;
    ip->jobs[j].layer = l;
    ip->njobs++;
  }

  err = push_blobs(ip, scratch_pool);
  for (int i = 0; i < ip->njobs; i++) {
    const dray_upload_stats_t *st = &ip->jobs[i].stats;
    result->bytes_sent += st->bytes_sent;
    result->resumed += st->resumes;
    result->bytes_saved += st->bytes_saved;
    if (st->http_status)
      status = st->http_status;
    if (st->retry_after > result->retry_after)
      result->retry_after = st->retry_after;
  }
  if (err) /* no manifest: nothing half-pushed is named by a tag */
    return dray_push_fail(result, dray_outcome_from_error(err, status, DRAY_OUTCOME_NETWORK, scratch_pool),
                dray_error_quick_wrapf(err, "push %s", ref_s));

  dray_manifest_build(&manifest, blobs, scratch_pool);
  target(&t, ip, &ask);
  ask.from = NULL;
  err = dray_upload_manifest(&mstats, &t, ref->tag ? ref->tag : "latest",
                               manifest.media_type, manifest.body, manifest.len,
                               manifest.digest, scratch_pool);
  result->bytes_sent += mstats.bytes_sent;
  if (err)
    return dray_push_fail(result, dray_outcome_from_error(err, mstats.http_status, DRAY_OUTCOME_NETWORK,
                                                scratch_pool),
                dray_error_quick_wrapf(err, "push %s", ref_s));
  if (req->log)
    apr_file_printf(req->log, "%s: digest: %s size: %lu\n", ref->tag ? ref->tag : "latest",
                    manifest.digest, (unsigned long)manifest.len);
  result->digest = apr_pstrdup(result_pool, manifest.digest);
  result->size = (apr_int64_t)manifest.len;
  result->outcome = DRAY_OUTCOME_OK;
  return DRAY_NO_ERROR;
}

static dray_error_t *registry_push(const dray_push_driver_t *driver,
                                   const dray_push_request_t *req,
                                   dray_push_result_t *result,
                                   apr_pool_t *result_pool,
                                   apr_pool_t *scratch_pool)
{
  registry_driver_t *d = driver->baton;
  const char *ref_s = req->reference, *repo;
  kept_read_t *kept;
  int read_now;
  image_push_t *ip = apr_pcalloc(scratch_pool, sizeof(*ip));
  const dray_image_blobs_t *blobs;
  dray_ref_t *ref;
  dray_error_t *err;

  memset(result, 0, sizeof(*result));
  result->size = -1;
  DRAY_ERR(dray_push_parse_reference(&ref, result, ref_s, scratch_pool));
  if (req->manifest_list && dray_image_source_keeps_lists(d->source))
    return dray_push_fail(result, DRAY_OUTCOME_REJECTED,
                dray_error_createf(DRAY_ERR_INPUT, NULL,
                                   "push %s: the registry driver pushes one image, not a "
                                   "manifest list (several platforms); use --push-driver cli",
                                   ref_s));
  repo = dray_ref_normalized_name(ref, scratch_pool);
  repo = strchr(repo, '/') + 1; /* without the domain */

  err = image_blobs(&blobs, &kept, &read_now, d, ref_s, 1, req->cancel, scratch_pool);
  if (err)
    return dray_push_fail(result, dray_outcome_from_error(err, 0, DRAY_OUTCOME_PROTOCOL, scratch_pool),
                dray_error_quick_wrapf(err, "push %s: reading the image from the engine",
                                       ref_s));
  if (req->log)
    apr_file_printf(req->log, "# registry push %s: image %s, %d layers, config %lu bytes (%s)\n",
                    ref_s, blobs->id, blobs->layers->nelts, (unsigned long)blobs->config_len,
                    read_now ? "read now" : kept ? "read ahead" : "known to this run");
  err = push_blobs_and_manifest(result, ip, d, req, ref, repo, blobs, result_pool, scratch_pool);
  kept_release(d, kept, !err);
  return err;
}

/* Read REFERENCE ahead of its push, on the builder's thread: the push then
 * only uploads, and holds its slot (the uplink) only for that. */
static void registry_prepare(const dray_push_driver_t *driver, const char *reference,
                             dray_cancel_t *cancel, apr_file_t *log, apr_pool_t *scratch_pool)
{
  registry_driver_t *d = driver->baton;
  const dray_image_blobs_t *blobs;
  kept_read_t *kept;
  int read_now;
  apr_time_t t0 = apr_time_now();
  dray_error_t *err = image_blobs(&blobs, &kept, &read_now, d, reference, 0, cancel,
                                  scratch_pool);
  if (log && err)
    apr_file_printf(log, "dray: could not read %s ahead of its push (its push reads it): %s\n",
                    reference, dray_error_format(err, scratch_pool));
  else if (log && read_now)
    apr_file_printf(log, "dray: read %s ahead of its push in %.1f s\n", reference,
                    (double)(apr_time_now() - t0) / APR_USEC_PER_SEC);
  dray_error_clear(err);
}

static const char *registry_describe(const dray_push_driver_t *driver, const char *reference,
                                     apr_pool_t *result_pool)
{
  const registry_driver_t *d = driver->baton;
  return dray_image_source_describe(d->source, reference, result_pool);
}

dray_error_t *dray_push_registry_driver_create(dray_push_driver_t **driver_p,
                                               const dray_image_source_t *source,
                                               dray_registry_t *registry,
                                               int blob_jobs,
                                               apr_pool_t *result_pool)
{
  dray_push_driver_t *driver = apr_pcalloc(result_pool, sizeof(*driver));
  registry_driver_t *d = apr_pcalloc(result_pool, sizeof(*d));
  d->source = source;
  d->registry = registry;
  d->blob_jobs = blob_jobs > 0 ? blob_jobs : DRAY_PUSH_REGISTRY_BLOB_JOBS;
  DRAY_ERR(dray_blobtrack_create(&d->track, result_pool));
  if (apr_thread_mutex_create(&d->lock, APR_THREAD_MUTEX_DEFAULT, result_pool)
      || apr_thread_cond_create(&d->read_done, result_pool)
      || dray_pool_create_threadsafe(&d->cache_pool, result_pool))
    return dray_error_create(APR_ENOMEM, NULL, "cannot set up the registry push driver");
  d->images = apr_hash_make(d->cache_pool);
  d->layers = apr_hash_make(d->cache_pool);
  d->kept = apr_hash_make(d->cache_pool);
  driver->name = "registry";
  driver->push = registry_push;
  driver->describe = registry_describe;
  driver->prepare = registry_prepare;
  driver->baton = d;
  *driver_p = driver;
  return DRAY_NO_ERROR;
}
