/* push_engine.c — push through the Engine API with a byte-level watchdog. */
#include "dray/push_engine.h"
#include "dray/pools.h"

#include <string.h>

#include <apr_atomic.h>
#include <apr_cstr.h>
#include <apr_strings.h>

#include "dray/http.h"
#include "dray/progress.h"
#include "dray/ref.h"

typedef struct engine_driver_t {
  const dray_engine_t *engine;
  dray_auth_config_t *auth;
} engine_driver_t;

typedef struct push_ctx_t {
  CURL *curl;
  const dray_push_request_t *req;
  dray_progress_t *progress;
  apr_pool_t *pool;
  long status;                 /* HTTP status, once known */
  char errbody[8192];          /* body of a non-2xx answer */
  apr_size_t errlen;
  dray_error_t *parse_err;
  volatile apr_uint32_t cancelled;
  int stalled;
  int stalled_waiting;         /* the stall was a wait for an upload slot */
  apr_time_t started;
  apr_time_t active_at;        /* last progress not spent all-waiting */
  apr_time_t last_report;
  int last_layers_done;
  const char *last_status;
} push_ctx_t;

/* When an engine push of this process last showed that the engine's upload
 * slots move: a layer upload finished ("Pushed"), or bytes advanced in a
 * push attempt older than the stall timeout. A push whose every layer waits
 * for a slot is not stalled while the slots move; when they do not, they
 * are held by uploads that never end -- often those of pushes the watchdog
 * aborted, as closing a push's connection does not end a layer upload the
 * engine has under way -- and the wait would never end. The first seconds
 * of a new attempt do not count: it sends what the socket buffers take,
 * then may stall like the rest.
 *
 * This is the one piece of state shared by pusher threads, the one exception
 * to the rule that only the scheduler's thread holds run state (see
 * docs/architecture.md): the engine's upload slots are shared by every push
 * of the process, so whether they move is a fact about all pushes at once,
 * needed by each push's watchdog on its own thread, many times a second. It
 * is one monotonic timestamp, written and read with atomics only (a later
 * time always wins), so no lock and no order between threads matter. */
static volatile apr_uint64_t slots_moved_at;

static void slots_moved(apr_time_t now)
{
  if ((apr_uint64_t)now > apr_atomic_read64(&slots_moved_at))
    apr_atomic_set64(&slots_moved_at, (apr_uint64_t)now);
}

static void note_progress(push_ctx_t *ctx, apr_time_t now)
{
  dray_push_progress_t snap;
  if (dray_progress_idle(ctx->progress, now) != 0)
    return;
  dray_progress_snapshot(ctx->progress, &snap);
  if (snap.waiting)
    return;
  ctx->active_at = now;
  if (ctx->req->stall_timeout > 0
      && now - ctx->started > apr_time_from_sec(ctx->req->stall_timeout))
    slots_moved(now);
}

static void report(push_ctx_t *ctx, apr_time_t now, int force)
{
  dray_push_progress_t snap;
  if (!ctx->req->progress)
    return;
  dray_progress_snapshot(ctx->progress, &snap);
  if (!force && now - ctx->last_report < apr_time_from_msec(DRAY_PUSH_ENGINE_REPORT_MS)
      && snap.layers_done == ctx->last_layers_done && snap.status == ctx->last_status)
    return;
  ctx->last_report = now;
  ctx->last_layers_done = snap.layers_done;
  ctx->last_status = snap.status;
  ctx->req->progress(ctx->req->progress_baton, &snap);
}

static void on_line(void *baton, const char *line, apr_size_t len)
{
  static const char pushed[] = "\"status\":\"Pushed\"";
  push_ctx_t *ctx = baton;
  for (apr_size_t i = 0; i + sizeof(pushed) - 1 <= len; i++)
    if (!memcmp(line + i, pushed, sizeof(pushed) - 1)) {
      slots_moved(apr_time_now()); /* a layer upload ended: a slot is free */
      break;
    }
  /* The stream holds no credentials; it is the push's own record. */
  if (ctx->req->log) {
    apr_file_write_full(ctx->req->log, line, len, NULL);
    apr_file_write_full(ctx->req->log, "\n", 1, NULL);
  }
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *baton)
{
  push_ctx_t *ctx = baton;
  apr_size_t n = size * nmemb;
  apr_time_t now = apr_time_now();

  if (!ctx->status)
    curl_easy_getinfo(ctx->curl, CURLINFO_RESPONSE_CODE, &ctx->status);
  if (ctx->status < 200 || ctx->status > 299) {
    apr_size_t room = sizeof(ctx->errbody) - 1 - ctx->errlen;
    apr_size_t take = n < room ? n : room;
    memcpy(ctx->errbody + ctx->errlen, data, take);
    ctx->errlen += take;
    ctx->errbody[ctx->errlen] = '\0';
    return n;
  }
  ctx->parse_err = dray_progress_feed(ctx->progress, data, n, now);
  if (ctx->parse_err)
    return 0; /* makes curl fail with CURLE_WRITE_ERROR */
  note_progress(ctx, now);
  report(ctx, now, 0);
  return n;
}

/* Called by curl at least once a second, data or not: the watchdog. */
static int on_xferinfo(void *baton, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  push_ctx_t *ctx = baton;
  apr_time_t now = apr_time_now();
  (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;

  if (apr_atomic_read32(&ctx->cancelled))
    return 1;
  if (ctx->req->stall_timeout > 0) {
    apr_interval_time_t limit = apr_time_from_sec(ctx->req->stall_timeout);
    apr_time_t active;
    if (dray_progress_idle(ctx->progress, now) > limit) {
      ctx->stalled = 1;
      return 1;
    }
    /* Waiting for an upload slot: not a stall while some push moves. */
    active = (apr_time_t)apr_atomic_read64(&slots_moved_at);
    if (active < ctx->active_at)
      active = ctx->active_at;
    if (now - active > limit) {
      dray_push_progress_t snap;
      dray_progress_snapshot(ctx->progress, &snap);
      if (snap.waiting) {
        ctx->stalled = ctx->stalled_waiting = 1;
        return 1;
      }
    }
  }
  report(ctx, now, 0);
  return 0;
}

static void on_cancel(void *baton, int force)
{
  push_ctx_t *ctx = baton;
  (void)force; /* closing the connection is both polite and final */
  apr_atomic_set32(&ctx->cancelled, 1);
}

static const char *push_path(const dray_ref_t *ref, apr_pool_t *pool);

static dray_error_t *engine_push(const dray_push_driver_t *driver,
                                 const dray_push_request_t *req,
                                 dray_push_result_t *result,
                                 apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool)
{
  const engine_driver_t *d = driver->baton;
  const char *ref_s = req->reference;
  const dray_credentials_t *creds = NULL;
  dray_cancel_reg_t *reg = NULL;
  dray_http_options_t o;
  dray_http_t *h = NULL;
  apr_pool_t *reqpool;
  push_ctx_t *ctx;
  dray_ref_t *ref;
  dray_error_t *err, *perform_err;
  const char *path, *what, *registry, *digest, *message;
  apr_int64_t size;

  memset(result, 0, sizeof(*result));
  result->size = -1;

  DRAY_ERR(dray_push_parse_reference(&ref, result, ref_s, scratch_pool));
  registry = ref->domain; /* NULL: Docker Hub */

  if (d->auth) {
    err = dray_auth_get(&creds, d->auth, registry, req->cancel, scratch_pool, scratch_pool);
    if (err)
      return dray_error_has(err, DRAY_ERR_CANCELLED)
                 ? dray_push_fail(result, DRAY_OUTCOME_CANCELLED, err)
                 : dray_push_fail(result, DRAY_OUTCOME_AUTH,
                        dray_error_quick_wrapf(err, "push %s: no credentials", ref_s));
  }

  /* Everything of this request (handle, headers, cancel registration)
   * lives in a pool of its own and goes with it, on every path. */
  reqpool = dray_pool_create_sub(scratch_pool);
  ctx = apr_pcalloc(scratch_pool, sizeof(*ctx));
  ctx->req = req;
  ctx->pool = scratch_pool;
  ctx->progress = dray_progress_create(apr_time_now(), scratch_pool);
  ctx->started = ctx->active_at = apr_time_now();
  dray_progress_set_line_fn(ctx->progress, on_line, ctx);

  if (req->cancel
      && dray_cancel_register(&reg, req->cancel, on_cancel, ctx, reqpool) != APR_SUCCESS) {
    apr_pool_destroy(reqpool);
    return dray_push_fail(result, DRAY_OUTCOME_CANCELLED,
                dray_error_createf(DRAY_ERR_CANCELLED, NULL, "push %s cancelled", ref_s));
  }
  path = push_path(ref, scratch_pool);
  what = apr_psprintf(scratch_pool, "push %s: engine %s", ref_s,
                      dray_engine_endpoint(d->engine)->host);
  err = dray_engine_http_options(&o, d->engine, path, req->cancel, reqpool);
  if (!err) {
    /* The stream may be silent for long while layers wait in the engine's
     * queue: the watchdog (on_xferinfo) judges stalls, not a byte rate. */
    o.low_speed_time_sec = 0;
    o.xferinfo = on_xferinfo;
    o.xferinfo_data = ctx;
    err = dray_http_handle_create(&h, &o, reqpool);
  }
  /* The header value is a secret: it goes to curl and nowhere else. */
  if (!err)
    err = dray_http_add_header(h, apr_pstrcat(reqpool, "X-Registry-Auth: ",
                                              dray_auth_registry_header(creds, reqpool), NULL));
  if (!err)
    err = dray_http_setopt_long(h, CURLOPT_POST, 1L, "POST");
  if (!err)
    err = dray_http_setopt_ptr(h, CURLOPT_POSTFIELDS, "", "POST");
  if (!err)
    err = dray_http_setopt_long(h, CURLOPT_POSTFIELDSIZE, 0L, "POST");
  if (!err)
    err = dray_http_set_write(h, on_write, ctx);
  if (err) {
    apr_pool_destroy(reqpool);
    return dray_push_fail(result, DRAY_OUTCOME_NOT_STARTED, err);
  }
  ctx->curl = dray_http_curl(h);
  if (req->log) {
    const char *note = apr_psprintf(scratch_pool, "# POST /v%s%s (engine %s)\n",
                                    dray_engine_api_version(d->engine), path,
                                    dray_engine_endpoint(d->engine)->host);
    apr_file_write_full(req->log, note, strlen(note), NULL);
  }

  perform_err = dray_http_perform(h, what);
  if (!ctx->status)
    ctx->status = dray_http_status(h);
  if (!perform_err && !ctx->parse_err)
    ctx->parse_err = dray_progress_finish(ctx->progress, apr_time_now());
  report(ctx, apr_time_now(), 1);
  apr_pool_destroy(reqpool); /* closes the connection: ends the push in the engine */

  /* Our own reasons to abort first: the transfer's error says only
   * "cancelled" for them. */
  if (apr_atomic_read32(&ctx->cancelled)) {
    dray_error_clear(perform_err);
    return dray_push_fail(result, DRAY_OUTCOME_CANCELLED,
                dray_error_createf(DRAY_ERR_CANCELLED, NULL, "push %s cancelled", ref_s));
  }
  if (ctx->stalled) {
    dray_push_progress_t snap;
    dray_error_clear(perform_err);
    dray_progress_snapshot(ctx->progress, &snap);
    /* Closing the connection does not end the layer uploads the engine has
     * started, and a retry reattaches to them: give them a stall period. */
    result->retry_after = apr_time_from_sec(req->stall_timeout);
    if (ctx->stalled_waiting)
      return dray_push_fail(result, DRAY_OUTCOME_STALLED,
                  dray_error_createf(DRAY_ERR_STALLED, NULL,
                                     "push %s stalled: no progress for %d s (waiting: "
                                     "every layer waits for an upload slot of the engine, "
                                     "and the uploads holding them do not move)",
                                     ref_s, req->stall_timeout));
    return dray_push_fail(result, DRAY_OUTCOME_STALLED,
                dray_error_createf(DRAY_ERR_STALLED, NULL,
                                   "push %s stalled: no progress for %d s (%s, %"
                                   APR_INT64_T_FMT " of %" APR_INT64_T_FMT " bytes)",
                                   ref_s, req->stall_timeout, snap.status,
                                   snap.bytes_done, snap.bytes_total));
  }
  if (ctx->parse_err) {
    dray_error_clear(perform_err);
    return dray_push_fail(result, DRAY_OUTCOME_PROTOCOL,
                dray_error_quick_wrapf(ctx->parse_err, "push %s", ref_s));
  }
  if (perform_err) /* the transfer itself failed: curl's words say why */
    return dray_push_fail(result, dray_outcome_from_error(perform_err, 0, DRAY_OUTCOME_NETWORK,
                                                scratch_pool),
                perform_err);
  if (ctx->status < 200 || ctx->status > 299) {
    message = dray_engine_error_message(ctx->errbody, ctx->errlen, scratch_pool);
    err = dray_error_createf(ctx->status == 401 || ctx->status == 403 ? DRAY_ERR_AUTH
                             : ctx->status == 404 ? DRAY_ERR_NOT_FOUND : DRAY_ERR_HTTP,
                             NULL, "push %s: engine answered HTTP %ld: %s", ref_s,
                             ctx->status, message);
    return dray_push_fail(result, dray_outcome_from_http_status(ctx->status), err);
  }

  message = dray_progress_error(ctx->progress);
  if (message) {
    /* The engine's own push failed: its words say why (the CLI driver reads
     * the same words from "docker push"). */
    dray_outcome_t outcome = dray_outcome_from_message(message, DRAY_OUTCOME_EXIT);
    return dray_push_fail(result, outcome,
                dray_error_createf(outcome == DRAY_OUTCOME_AUTH ? DRAY_ERR_AUTH : DRAY_ERR_HTTP,
                                   NULL, "push %s failed in the engine: %s", ref_s,
                                   message));
  }
  digest = dray_progress_digest(ctx->progress, &size);
  if (!digest)
    return dray_push_fail(result, DRAY_OUTCOME_PROTOCOL,
                dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                                   "push %s: the engine's stream ended without a digest",
                                   ref_s));
  result->digest = apr_pstrdup(result_pool, digest);
  result->size = size;
  result->outcome = DRAY_OUTCOME_OK;
  return DRAY_NO_ERROR;
}

/* The request's path on the engine for REF, or NULL if REF cannot be pushed. */
static const char *push_path(const dray_ref_t *ref, apr_pool_t *pool)
{
  return apr_pstrcat(pool, "/images/", dray_engine_escape_name(ref->name, pool), "/push?tag=",
                     dray_engine_escape_name(ref->tag ? ref->tag : "latest", pool), NULL);
}

static const char *engine_describe(const dray_push_driver_t *driver, const char *reference,
                                   apr_pool_t *result_pool)
{
  const engine_driver_t *d = driver->baton;
  dray_ref_t *ref;
  dray_error_t *err = dray_ref_parse(&ref, reference, result_pool);
  if (err) {
    dray_error_clear(err);
    return apr_pstrcat(result_pool, "# cannot push ", reference, NULL);
  }
  return apr_psprintf(result_pool, "POST /v%s%s (Engine API at %s)",
                      dray_engine_api_version(d->engine), push_path(ref, result_pool),
                      dray_engine_endpoint(d->engine)->host);
}

dray_error_t *dray_push_engine_driver_create(dray_push_driver_t **driver_p,
                                             const dray_engine_t *engine,
                                             dray_auth_config_t *auth,
                                             apr_pool_t *result_pool)
{
  dray_push_driver_t *driver = apr_pcalloc(result_pool, sizeof(*driver));
  engine_driver_t *d = apr_pcalloc(result_pool, sizeof(*d));
  d->engine = engine;
  d->auth = auth;
  driver->name = "engine";
  driver->push = engine_push;
  driver->describe = engine_describe;
  driver->baton = d;
  *driver_p = driver;
  return DRAY_NO_ERROR;
}
