/* upload.c — blob uploads that resume, and manifest PUTs, as a state machine. */
#include "dray/upload.h"

#include <string.h>

#include <apr_atomic.h>
#include <apr_cstr.h>
#include <stdarg.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include "dray/backoff.h"
#include "dray/http.h"
#include "dray/pools.h"
#include "dray/registry.h"

/* ---- sources ---------------------------------------------------------- */

typedef struct memory_source_t {
  const char *data;
  apr_size_t len;
  apr_size_t pos;
} memory_source_t;

static dray_error_t *memory_open(void *baton, apr_int64_t offset, apr_pool_t *pool)
{
  memory_source_t *m = baton;
  m->pos = offset < 0 ? 0 : (apr_size_t)offset > m->len ? m->len : (apr_size_t)offset;
  return DRAY_NO_ERROR;
}

static dray_error_t *memory_read(void *baton, char *buf, apr_size_t len, apr_size_t *got)
{
  memory_source_t *m = baton;
  *got = m->len - m->pos < len ? m->len - m->pos : len;
  memcpy(buf, m->data + m->pos, *got);
  m->pos += *got;
  return DRAY_NO_ERROR;
}

void dray_blob_source_memory(dray_blob_source_t *source, const char *data, apr_size_t len,
                             apr_pool_t *result_pool)
{
  memory_source_t *m = apr_pcalloc(result_pool, sizeof(*m));
  m->data = data;
  m->len = len;
  source->open = memory_open;
  source->read = memory_read;
  source->baton = m;
}

/* ---- one exchange ----------------------------------------------------- */

typedef struct request_t {
  const char *method;         /* HEAD GET POST PATCH PUT */
  const char *url;
  const char *content_type;   /* or NULL */
  const char *content_range;  /* or NULL */
  const char *body;           /* a fixed body, or NULL */
  apr_size_t body_len;
  const dray_blob_source_t *source; /* PATCH: SOURCE_LEN bytes from here */
  apr_int64_t source_len;
} request_t;

typedef struct response_t {
  apr_pool_t *pool;
  long status;
  const char *location;
  const char *range;
  const char *digest;
  const char *challenge;      /* the WWW-Authenticate values, one a line */
  char body[2048];            /* the start of an error answer */
  apr_size_t body_len;
  curl_off_t sent;            /* request body bytes that left */
  curl_off_t retry_after;
  /* while the request runs */
  const request_t *req;
  apr_int64_t source_left;
  dray_error_t *source_err;
  dray_cancel_t *cancel;
  volatile apr_uint64_t *sent_counter;
  apr_interval_time_t stall;
  apr_time_t moved_at;        /* when bytes last moved either way */
  curl_off_t moved;
  int stalled;
} response_t;

static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
  response_t *r = baton;
  apr_size_t n = size * nmemb;
  const char *v;
  if (n > 5 && !strncmp(data, "HTTP/", 5))
    r->location = r->range = r->digest = r->challenge = NULL; /* a new answer (after a 100) */
  else if ((v = dray_http_header_value(data, n, "WWW-Authenticate", r->pool)) != NULL)
    r->challenge = r->challenge ? apr_pstrcat(r->pool, r->challenge, "\n", v, NULL) : v;
  else if ((v = dray_http_header_value(data, n, "Location", r->pool)) != NULL)
    r->location = v;
  else if ((v = dray_http_header_value(data, n, "Range", r->pool)) != NULL)
    r->range = v;
  else if ((v = dray_http_header_value(data, n, "Docker-Content-Digest", r->pool)) != NULL)
    r->digest = v;
  return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
  response_t *r = baton;
  apr_size_t n = size * nmemb;
  apr_size_t room = sizeof(r->body) - 1 - r->body_len;
  apr_size_t take = n < room ? n : room;
  memcpy(r->body + r->body_len, data, take);
  r->body_len += take;
  r->body[r->body_len] = '\0';
  return n;
}

/* The request body, from the blob source, exactly SOURCE_LEN bytes. */
static size_t on_read(char *buf, size_t size, size_t nitems, void *baton)
{
  response_t *r = baton;
  apr_size_t want = size * nitems, got = 0;
  if ((apr_int64_t)want > r->source_left)
    want = (apr_size_t)r->source_left;
  while (got < want) {
    apr_size_t n = 0;
    r->source_err = r->req->source->read(r->req->source->baton, buf + got, want - got, &n);
    if (r->source_err)
      return CURL_READFUNC_ABORT;
    if (n == 0) {
      r->source_err = dray_error_create(DRAY_ERR_PROTOCOL, NULL,
                                        "the blob's source ended before its size");
      return CURL_READFUNC_ABORT;
    }
    got += n;
  }
  r->source_left -= (apr_int64_t)got;
  if (r->sent_counter)
    apr_atomic_add64(r->sent_counter, (apr_uint64_t)got);
  return got;
}

/* The watchdog: a request that moves no byte either way for the stall
 * time is abandoned; so is one whose run is cancelled. */
static int on_progress(void *baton, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
  response_t *r = baton;
  apr_time_t now = apr_time_now();
  (void)dltotal;
  (void)ultotal;
  if (r->cancel && dray_cancel_level(r->cancel) > 0)
    return 1;
  if (dlnow + ulnow != r->moved) {
    r->moved = dlnow + ulnow;
    r->moved_at = now;
  }
  else if (now - r->moved_at > r->stall) {
    r->stalled = 1;
    return 1;
  }
  return 0;
}

static int stall_sec(const dray_upload_target_t *t)
{
  return t->stall_timeout > 0 ? t->stall_timeout : DRAY_UPLOAD_STALL_SEC;
}

static dray_error_t *set_method(dray_http_t *h, const request_t *rq, response_t *r)
{
  if (!strcmp(rq->method, "HEAD"))
    return dray_http_setopt_long(h, CURLOPT_NOBODY, 1L, "HEAD");
  if (!strcmp(rq->method, "GET"))
    return DRAY_NO_ERROR;
  DRAY_ERR(dray_http_setopt_ptr(h, CURLOPT_CUSTOMREQUEST, rq->method, "method"));
  if (rq->source) {
    DRAY_ERR(dray_http_setopt_long(h, CURLOPT_UPLOAD, 1L, "upload"));
    return dray_http_set_read(h, on_read, r, (curl_off_t)rq->source_len);
  }
  DRAY_ERR(dray_http_setopt_ptr(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "", "body"));
  return dray_http_setopt_long(h, CURLOPT_POSTFIELDSIZE, (long)rq->body_len, "body");
}

/* Run one request. A transport failure is an error (DRAY_ERR_STALLED for
 * the watchdog, DRAY_ERR_CANCELLED, DRAY_ERR_HTTP, or the source's own);
 * any HTTP answer is R->status. */
static dray_error_t *exchange(response_t *r, const dray_upload_target_t *t,
                              const char *authorization, const request_t *rq, apr_pool_t *pool)
{
  dray_http_options_t o;
  dray_http_t *h;
  dray_error_t *err;
  const char *what = apr_psprintf(pool, "registry: %s %s", rq->method,
                                  dray_http_url_shown(rq->url, pool));

  memset(r, 0, sizeof(*r));
  r->pool = pool;
  r->req = rq;
  r->source_left = rq->source_len;
  r->cancel = t->cancel;
  r->sent_counter = t->sent;
  r->stall = apr_time_from_sec(stall_sec(t));
  r->moved_at = apr_time_now();
  r->retry_after = -1;
  memset(&o, 0, sizeof(o));
  o.url = rq->url;
  o.connect_timeout_sec = DRAY_REGISTRY_CONNECT_TIMEOUT_SEC;
  o.low_speed_time_sec = 0; /* on_progress is the watchdog */
  o.cancel = t->cancel;
  o.xferinfo = on_progress;
  o.xferinfo_data = r;
  DRAY_ERR(dray_http_handle_create(&h, &o, pool));
  err = dray_http_set_header_fn(h, on_header, r);
  if (!err)
    err = dray_http_set_write(h, on_body, r);
  if (!err)
    err = set_method(h, rq, r);
  /* No "Expect: 100-continue" round trip before a chunk. */
  if (!err)
    err = dray_http_add_header(h, "Expect:");
  if (!err && rq->content_type)
    err = dray_http_add_header(h, apr_pstrcat(pool, "Content-Type: ", rq->content_type, NULL));
  if (!err && rq->content_range)
    err = dray_http_add_header(h, apr_pstrcat(pool, "Content-Range: ", rq->content_range, NULL));
  if (!err && authorization)
    err = dray_http_add_header(h, apr_pstrcat(pool, "Authorization: ", authorization, NULL));
  if (!err)
    err = dray_http_perform(h, what);
  r->status = err ? 0 : dray_http_status(h);
  if (curl_easy_getinfo(dray_http_curl(h), CURLINFO_SIZE_UPLOAD_T, &r->sent) != CURLE_OK)
    r->sent = 0;
  if (curl_easy_getinfo(dray_http_curl(h), CURLINFO_RETRY_AFTER, &r->retry_after) != CURLE_OK)
    r->retry_after = -1;
  dray_http_handle_destroy(h);
  if (r->source_err) {
    dray_error_clear(err);
    err = r->source_err;
    r->source_err = NULL;
    return err;
  }
  if (err && r->stalled) {
    dray_error_clear(err);
    return dray_error_createf(DRAY_ERR_STALLED, NULL, "%s: no progress for %d s", what,
                              stall_sec(t));
  }
  return err;
}

/* ---- the state machine ------------------------------------------------ */

typedef enum up_state_t {
  UP_AUTH,                    /* get the Authorization header (again) */
  UP_HEAD,                    /* does the repository have the blob? */
  UP_MOUNT,                   /* mount it from another repository */
  UP_START,                   /* open an upload session */
  UP_PATCH,                   /* send the next chunk */
  UP_STATUS,                  /* after a failure: where is the session? */
  UP_COMMIT,                  /* PUT ?digest= */
  UP_CHECK,                   /* after a failed commit: is the blob there? */
  UP_MANIFEST,                /* PUT the manifest */
  UP_DONE
} up_state_t;

typedef struct upload_t {
  const dray_upload_target_t *t;
  dray_upload_stats_t *stats;
  const char *digest;
  apr_int64_t size;
  const char *mount_from;
  const dray_blob_source_t *source;
  apr_pool_t *pool;           /* the upload's */
  apr_pool_t *source_pool;    /* the source's current opening */
  up_state_t state;
  const char *location;       /* the session's URL */
  apr_int64_t offset;         /* bytes the registry has confirmed */
  apr_int64_t source_at;      /* where the open source is; -1: not open */
  apr_int64_t mark;           /* the furthest point reached (MARK_*): passing it
                                 is progress */
  dray_streak_t streak;       /* failed requests since the last progress */
  dray_random_t rng;
  const char *authorization;  /* in POOL; a secret */
  int reauthorized;           /* after a 401, once in a row: until the next
                                 progress, the authorization given was refused */
  const char *challenge;      /* that 401's WWW-Authenticate values, or NULL; in POOL */
  up_state_t after_auth;      /* where UP_AUTH goes on */
  const char *tag;            /* a manifest's */
  const char *media_type;
  const char *body;
  apr_size_t body_len;
} upload_t;

static void note(const upload_t *u, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void note(const upload_t *u, const char *fmt, ...)
{
  va_list ap;
  char line[512];
  if (!u->t->log)
    return;
  va_start(ap, fmt);
  apr_vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  apr_file_printf(u->t->log, "# %s %.19s…: %s\n", u->t->repo, u->digest, line);
}

/* A URL the registry gave (Location): absolute, or a path on the registry. */
static const char *resolve(const dray_upload_target_t *t, const char *location, apr_pool_t *pool)
{
  if (!apr_cstr_casecmpn(location, "http://", 7) || !apr_cstr_casecmpn(location, "https://", 8))
    return apr_pstrdup(pool, location);
  return apr_pstrcat(pool, t->base_url, location[0] == '/' ? "" : "/", location, NULL);
}

static const char *blob_url(const upload_t *u, const char *tail, apr_pool_t *pool)
{
  return apr_pstrcat(pool, u->t->base_url, "/v2/", u->t->repo, tail, NULL);
}

/* The end of "0-N" (Range, as docker's registry sends it) plus one: the
 * bytes the session holds; -1 if RANGE says nothing usable. */
static apr_int64_t range_next(const char *range)
{
  const char *dash = range ? strchr(range, '-') : NULL;
  char *end;
  apr_int64_t last;
  if (!dash)
    return -1;
  last = apr_strtoi64(dash + 1, &end, 10);
  if (end == dash + 1 || last < -1)
    return -1;
  return last + 1;
}

/* Whether another try of the same request may go better. */
static int transient(const dray_error_t *err, long status)
{
  if (err)
    return !dray_error_has(err, DRAY_ERR_CANCELLED) && !dray_error_has(err, DRAY_ERR_PROTOCOL)
           && !dray_error_has(err, DRAY_ERR_AUTH);
  /* 507 (no space) and 501 will not change by asking again. */
  return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 507);
}

static dray_error_t *failed(upload_t *u, dray_error_t *err, const response_t *r,
                            const char *doing, apr_pool_t *pool)
{
  const char *text;
  const char *what = u->tag ? apr_psprintf(pool, "manifest %s:%s", u->t->repo, u->tag)
                            : apr_psprintf(pool, "blob %s to %s", u->digest, u->t->repo);
  if (err)
    return dray_error_quick_wrapf(err, "%s: %s", what, doing);
  u->stats->http_status = r->status;
  u->stats->retry_after = r->retry_after > 0 ? apr_time_from_sec(r->retry_after) : 0;
  text = dray_registry_error_text(r->body, r->body_len, pool);
  /* A HEAD's answer has no body: the status alone must say what it means. */
  return dray_error_createf(r->status == 401 || r->status == 403 ? DRAY_ERR_AUTH : DRAY_ERR_HTTP,
                            NULL, "%s: %s: HTTP %ld%s%s%s", what, doing, r->status,
                            r->status == 507   ? " (insufficient storage)"
                            : r->status == 401 ? " (unauthorized: credentials missing or refused)"
                            : r->status == 403 ? " (denied)"
                                               : "",
                            text ? ": " : "", text ? text : "");
}

/* How far an upload got (upload_t.mark): each step once, then the bytes
 * the registry confirmed (MARK_SESSION + bytes). */
#define MARK_AUTHORIZED 1
#define MARK_ANSWERED 2             /* HEAD said: not in the repository */
#define MARK_SESSION 3              /* an upload session opened */

/* The upload reached POINT: further than ever before, that is progress,
 * and the failure streak is over. Going round again (a session started
 * again, fresh authorization) does not pass the mark, so no loop of
 * failures and partial successes can go on for ever. */
static void reached(upload_t *u, apr_int64_t point)
{
  if (point <= u->mark)
    return;
  u->mark = point;
  dray_streak_reset(&u->streak);
  u->reauthorized = 0;
}

/* One more failed request: wait (backoff) and go on in state NEXT, or give
 * up when it is not WORTH_IT or the streak rule says so (upload.h). ERR is
 * consumed. */
static dray_error_t *again(upload_t *u, dray_error_t *err, const response_t *r, const char *doing,
                           up_state_t next, int worth_it, apr_pool_t *pool)
{
  apr_interval_time_t base = u->t->retry_base > 0 ? u->t->retry_base : apr_time_from_msec(250);
  apr_interval_time_t at_least = r->retry_after > 0
                                     ? apr_time_from_sec(r->retry_after > 60 ? 60 : r->retry_after)
                                     : 0;
  apr_interval_time_t delay = 0;

  if (!worth_it
      || !dray_streak_again(&u->streak, apr_time_now(), u->t->failures,
                            apr_time_from_sec(stall_sec(u->t)), base, apr_time_from_sec(10),
                            at_least, dray_random_unit(&u->rng), &delay)) {
    if (worth_it) /* the span says why when the count is under the limit */
      note(u, "%s failed; %d failed requests in a row without progress, %.1f s since the "
           "first: giving up", doing, u->streak.failures,
           (double)(apr_time_now() - u->streak.first) / APR_USEC_PER_SEC);
    return failed(u, err, r, doing, pool);
  }
  note(u, "%s failed (%s); retrying", doing,
       err ? dray_error_format(err, pool) : apr_psprintf(pool, "HTTP %ld", r->status));
  dray_error_clear(err);
  u->stats->retries++;
  if (u->t->retries)
    apr_atomic_inc32(u->t->retries);
  if (dray_cancel_sleep(u->t->cancel, delay))
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "blob %s to %s: cancelled", u->digest,
                              u->t->repo);
  u->source_at = -1; /* what was read ahead is lost */
  u->state = next;
  return DRAY_NO_ERROR;
}

/* A failure that another try of the same may mend (transient); after a
 * 401, fresh authorization first (once in a row). */
static dray_error_t *retry(upload_t *u, dray_error_t *err, const response_t *r, const char *doing,
                           up_state_t next, apr_pool_t *pool)
{
  if (!err && r->status == 401 && u->t->authorize && !u->reauthorized) {
    u->reauthorized = 1;
    u->challenge = r->challenge ? apr_pstrdup(u->pool, r->challenge) : NULL;
    u->after_auth = next;
    u->state = UP_AUTH;
    return DRAY_NO_ERROR;
  }
  return again(u, err, r, doing, next, transient(err, r->status), pool);
}

static dray_error_t *step_auth(upload_t *u, apr_pool_t *pool)
{
  response_t none;
  dray_error_t *err;
  memset(&none, 0, sizeof(none));
  none.retry_after = -1;
  if (!u->t->authorize) {
    u->state = u->after_auth;
    return DRAY_NO_ERROR;
  }
  /* Here again after a 401 only while reauthorized: a successful try
   * leaves for AFTER_AUTH, and only progress clears it. */
  err = u->t->authorize(u->t->authorize_baton, u->reauthorized,
                        u->reauthorized ? u->challenge : NULL, &u->authorization, u->pool);
  if (!err) {
    reached(u, MARK_AUTHORIZED);
    u->state = u->after_auth;
    return DRAY_NO_ERROR;
  }
  return again(u, err, &none, "authorization", UP_AUTH, transient(err, 0), pool);
}

/* The registry no longer knows the session (404): a new one, from 0. */
static dray_error_t *restart(upload_t *u, const response_t *r, const char *doing,
                             apr_pool_t *pool)
{
  note(u, "the registry forgot the upload session (%s); starting again", doing);
  u->stats->restarts++;
  return again(u, NULL, r, doing, UP_START, 1, pool);
}

/* The registry confirmed NEXT bytes of the session. */
static void confirmed(upload_t *u, apr_int64_t next)
{
  u->offset = next;
  reached(u, MARK_SESSION + next);
}

/* HEAD the blob: first (does the repository have it?) or, with AFTER_COMMIT,
 * after a commit whose answer was lost (did it happen?). */
static dray_error_t *step_head(upload_t *u, int after_commit, apr_pool_t *pool)
{
  request_t rq = {.method = "HEAD"};
  response_t r;
  dray_error_t *err;

  rq.url = blob_url(u, apr_pstrcat(pool, "/blobs/", u->digest, NULL), pool);
  err = exchange(&r, u->t, u->authorization, &rq, pool);
  if (!err && r.status == 200) {
    if (!after_commit)
      note(u, "already in the repository");
    u->stats->how = after_commit ? DRAY_UPLOAD_SENT : DRAY_UPLOAD_EXISTED;
    u->state = UP_DONE;
    return DRAY_NO_ERROR;
  }
  if (!err && r.status == 404) {
    reached(u, MARK_ANSWERED);
    u->state = after_commit ? UP_STATUS : u->mount_from ? UP_MOUNT : UP_START;
    return DRAY_NO_ERROR;
  }
  return retry(u, err, &r, "HEAD", after_commit ? UP_CHECK : UP_HEAD, pool);
}

/* POST an upload session; with MOUNT, ask for a mount first. */
static dray_error_t *step_post(upload_t *u, int mount, apr_pool_t *pool)
{
  request_t rq = {.method = "POST"};
  response_t r;
  dray_error_t *err;

  rq.url = blob_url(u, mount ? apr_pstrcat(pool, "/blobs/uploads/?mount=", u->digest, "&from=",
                                           u->mount_from, NULL)
                             : "/blobs/uploads/", pool);
  err = exchange(&r, u->t, u->authorization, &rq, pool);
  if (!err && mount && r.status == 201) {
    note(u, "mounted from %s", u->mount_from);
    u->stats->how = DRAY_UPLOAD_MOUNTED;
    u->state = UP_DONE;
    return DRAY_NO_ERROR;
  }
  if (!err && r.status == 202 && r.location) {
    /* A refused mount is an upload session all the same. */
    if (mount) {
      note(u, "mount from %s refused; uploading", u->mount_from);
      u->stats->mount_refused = 1;
    }
    u->location = resolve(u->t, r.location, u->pool);
    u->offset = 0;
    u->source_at = -1;
    reached(u, MARK_SESSION);
    u->state = UP_PATCH;
    return DRAY_NO_ERROR;
  }
  if (!err && mount && r.status >= 400 && r.status < 500 && r.status != 429) {
    /* Some registries answer a mount they will not do with an error. */
    note(u, "mount from %s refused (HTTP %ld); uploading", u->mount_from, r.status);
    u->stats->mount_refused = 1;
    u->state = UP_START;
    return DRAY_NO_ERROR;
  }
  if (!err && r.status == 202)
    return failed(u, dray_error_create(DRAY_ERR_PROTOCOL, NULL,
                                       "the registry opened a session without a Location"),
                  &r, "POST", pool);
  return retry(u, err, &r, mount ? "mount" : "POST", mount ? UP_MOUNT : UP_START, pool);
}

static dray_error_t *step_patch(upload_t *u, apr_pool_t *pool)
{
  apr_int64_t chunk = u->t->chunk_size > 0 ? u->t->chunk_size : DRAY_UPLOAD_CHUNK;
  apr_int64_t n = u->size - u->offset < chunk ? u->size - u->offset : chunk;
  request_t rq = {.method = "PATCH", .url = u->location};
  response_t r;
  dray_error_t *err;
  apr_int64_t next;

  if (n <= 0) {
    u->state = UP_COMMIT;
    return DRAY_NO_ERROR;
  }
  if (u->source_at != u->offset) {
    apr_pool_clear(u->source_pool);
    DRAY_ERR(u->source->open(u->source->baton, u->offset, u->source_pool));
    u->source_at = u->offset;
  }
  rq.content_type = "application/octet-stream";
  rq.content_range = apr_psprintf(pool, "%" APR_INT64_T_FMT "-%" APR_INT64_T_FMT, u->offset,
                                  u->offset + n - 1);
  rq.source = u->source;
  rq.source_len = n;
  err = exchange(&r, u->t, u->authorization, &rq, pool);
  u->stats->bytes_sent += (apr_int64_t)r.sent;
  if (!err && r.status == 202) {
    next = range_next(r.range);
    if (next < 0)
      next = u->offset + n; /* no Range: the chunk is taken whole */
    if (r.location)
      u->location = resolve(u->t, r.location, u->pool);
    u->source_at = next == u->offset + n ? next : -1;
    confirmed(u, next);
    return DRAY_NO_ERROR;
  }
  if (err && !transient(err, 0))
    return failed(u, err, &r, "PATCH", pool);
  /* 416: the registry holds another offset; 404: the session is gone; a
   * reset, a stall, a 5xx: ask the session where it is. A 416 is a failed
   * request too (the chunk was not taken): a registry that answers 416
   * to every offset it names itself must not keep the upload going round. */
  if (!err && r.status == 404)
    return restart(u, &r, "PATCH", pool);
  if (!err && r.status == 416)
    return again(u, NULL, &r, "PATCH", UP_STATUS, 1, pool);
  return retry(u, err, &r, "PATCH", UP_STATUS, pool);
}

/* Where the session is, after a failure: the upload goes on from there. */
static dray_error_t *step_status(upload_t *u, apr_pool_t *pool)
{
  request_t rq = {.method = "GET", .url = u->location};
  response_t r;
  dray_error_t *err = exchange(&r, u->t, u->authorization, &rq, pool);
  apr_int64_t next;

  if (!err && (r.status == 204 || r.status == 200 || r.status == 202)) {
    next = range_next(r.range);
    /* "0-0" is what docker's registry says for an empty session (and for
     * one byte): from 0 is the safe reading. */
    if (next <= 1)
      next = 0;
    if (r.location)
      u->location = resolve(u->t, r.location, u->pool);
    if (next > u->size)
      return failed(u, dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                                          "the session holds %" APR_INT64_T_FMT
                                          " bytes of a %" APR_INT64_T_FMT "-byte blob",
                                          next, u->size), &r, "GET", pool);
    if (next > 0) {
      u->stats->resumes++;
      u->stats->bytes_saved += next;
    }
    note(u, "resuming at byte %" APR_INT64_T_FMT " of %" APR_INT64_T_FMT, next, u->size);
    confirmed(u, next);
    u->source_at = -1;
    u->state = next == u->size ? UP_COMMIT : UP_PATCH;
    return DRAY_NO_ERROR;
  }
  if (!err && r.status == 404)
    return restart(u, &r, "GET upload status", pool);
  return retry(u, err, &r, "GET upload status", UP_STATUS, pool);
}

static dray_error_t *step_commit(upload_t *u, apr_pool_t *pool)
{
  request_t rq = {.method = "PUT"};
  response_t r;
  dray_error_t *err;

  rq.url = apr_pstrcat(pool, u->location, strchr(u->location, '?') ? "&" : "?", "digest=",
                       u->digest, NULL);
  err = exchange(&r, u->t, u->authorization, &rq, pool);
  if (!err && (r.status == 201 || r.status == 204)) {
    if (r.digest && strcmp(r.digest, u->digest))
      return failed(u, dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                                          "the registry computed %s", r.digest), &r, "PUT",
                    pool);
    note(u, "uploaded (%" APR_INT64_T_FMT " bytes)", u->size);
    u->stats->how = DRAY_UPLOAD_SENT;
    u->state = UP_DONE;
    return DRAY_NO_ERROR;
  }
  if (!err && r.status == 404)
    return restart(u, &r, "PUT", pool);
  if (!err && r.status == 400) /* DIGEST_INVALID: bytes went astray; a fresh session */
    return restart(u, &r, "PUT", pool);
  /* The commit may have happened before the answer was lost. */
  return retry(u, err, &r, "PUT", UP_CHECK, pool);
}

static dray_error_t *step_manifest(upload_t *u, apr_pool_t *pool)
{
  request_t rq = {.method = "PUT"};
  response_t r;
  dray_error_t *err;

  rq.url = blob_url(u, apr_pstrcat(pool, "/manifests/", u->tag, NULL), pool);
  rq.content_type = u->media_type;
  rq.body = u->body;
  rq.body_len = u->body_len;
  err = exchange(&r, u->t, u->authorization, &rq, pool);
  if (!err && (r.status == 201 || r.status == 200)) {
    u->stats->bytes_sent += (apr_int64_t)r.sent;
    if (r.digest && strcmp(r.digest, u->digest))
      return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                                "manifest %s:%s: the registry computed %s, dray %s",
                                u->t->repo, u->tag, r.digest, u->digest);
    note(u, "manifest %s", u->tag);
    u->state = UP_DONE;
    return DRAY_NO_ERROR;
  }
  return retry(u, err, &r, "PUT manifest", UP_MANIFEST, pool);
}

static void init(upload_t *u, dray_upload_stats_t *stats, const dray_upload_target_t *t,
                 const char *digest, up_state_t first, apr_pool_t *pool)
{
  memset(stats, 0, sizeof(*stats));
  memset(u, 0, sizeof(*u));
  u->t = t;
  u->stats = stats;
  u->digest = digest;
  u->pool = pool;
  u->source_at = -1;
  u->state = UP_AUTH;
  u->after_auth = first;
  dray_random_seed(&u->rng, (apr_uint64_t)apr_time_now() ^ (apr_uint64_t)(apr_uintptr_t)u);
}

/* Step until done or failed. */
static dray_error_t *run(upload_t *u)
{
  apr_pool_t *iterpool = dray_pool_create_sub(u->pool);
  dray_error_t *err = DRAY_NO_ERROR;

  u->source_pool = dray_pool_create_sub(u->pool);
  while (!err && u->state != UP_DONE) {
    apr_pool_clear(iterpool);
    switch (u->state) {
    case UP_AUTH:     err = step_auth(u, iterpool); break;
    case UP_HEAD:     err = step_head(u, 0, iterpool); break;
    case UP_MOUNT:    err = step_post(u, 1, iterpool); break;
    case UP_START:    err = step_post(u, 0, iterpool); break;
    case UP_PATCH:    err = step_patch(u, iterpool); break;
    case UP_STATUS:   err = step_status(u, iterpool); break;
    case UP_COMMIT:   err = step_commit(u, iterpool); break;
    case UP_CHECK:    err = step_head(u, 1, iterpool); break;
    case UP_MANIFEST: err = step_manifest(u, iterpool); break;
    case UP_DONE:     break;
    }
  }
  /* An error's text lives in its own pool: these can go. */
  apr_pool_destroy(u->source_pool);
  apr_pool_destroy(iterpool);
  return err;
}

dray_error_t *dray_upload_blob(dray_upload_stats_t *stats,
                               const dray_upload_target_t *t,
                               const char *digest,
                               apr_int64_t size,
                               const char *mount_from,
                               const dray_blob_source_t *source,
                               apr_pool_t *scratch_pool)
{
  upload_t u;
  init(&u, stats, t, digest, UP_HEAD, scratch_pool);
  u.size = size;
  u.mount_from = mount_from && strcmp(mount_from, t->repo) ? mount_from : NULL;
  u.source = source;
  return run(&u);
}

dray_error_t *dray_upload_manifest(dray_upload_stats_t *stats,
                                   const dray_upload_target_t *t,
                                   const char *tag,
                                   const char *media_type,
                                   const char *body,
                                   apr_size_t len,
                                   const char *digest,
                                   apr_pool_t *scratch_pool)
{
  upload_t u;
  init(&u, stats, t, digest, UP_MANIFEST, scratch_pool);
  u.tag = tag;
  u.media_type = media_type;
  u.body = body;
  u.body_len = len;
  return run(&u);
}
