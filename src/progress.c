/* progress.c — the Engine API push stream, one line at a time. */
#include "dray/progress.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>

#include "dray/ref.h"
#include "dray/strbuf.h"

typedef enum layer_state_t {
  LAYER_PREPARING,
  LAYER_WAITING,
  LAYER_PUSHING,
  LAYER_RETRYING,
  LAYER_DONE,
  LAYER_OTHER
} layer_state_t;

typedef struct layer_t {
  const char *id;
  layer_state_t state;
  apr_int64_t current; /* highest progressDetail.current seen */
  apr_int64_t total;   /* progressDetail.total, 0 if unknown */
} layer_t;

struct dray_progress_t {
  apr_pool_t *pool;
  dray_strbuf_t partial;      /* the incomplete line so far */
  apr_hash_t *by_id;          /* id -> layer_t* */
  apr_array_header_t *layers; /* layer_t*, in order of appearance */
  const char *error;
  const char *digest;         /* from the status line */
  apr_int64_t size;
  const char *aux_digest;     /* fallback from aux.Digest */
  apr_int64_t aux_size;
  apr_time_t last_progress;
  int retries;                /* layers that went into "Retrying in" */
  int lines;
  dray_progress_line_fn line_fn;
  void *line_baton;
};

dray_progress_t *dray_progress_create(apr_time_t now, apr_pool_t *pool)
{
  dray_progress_t *p = apr_pcalloc(pool, sizeof(*p));
  p->pool = pool;
  dray_strbuf_init(&p->partial, 4096, pool);
  p->by_id = apr_hash_make(pool);
  p->layers = apr_array_make(pool, 8, sizeof(layer_t *));
  p->size = -1;
  p->aux_size = -1;
  p->last_progress = now;
  return p;
}

void dray_progress_set_line_fn(dray_progress_t *p, dray_progress_line_fn fn,
                               void *baton)
{
  p->line_fn = fn;
  p->line_baton = baton;
}

static layer_t *get_layer(dray_progress_t *p, const char *id)
{
  layer_t *l = apr_hash_get(p->by_id, id, APR_HASH_KEY_STRING);
  if (!l) {
    l = apr_pcalloc(p->pool, sizeof(*l));
    l->id = apr_pstrdup(p->pool, id);
    l->state = LAYER_OTHER;
    apr_hash_set(p->by_id, l->id, APR_HASH_KEY_STRING, l);
    APR_ARRAY_PUSH(p->layers, layer_t *) = l;
  }
  return l;
}

static int starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static apr_int64_t json_int(json_t *obj, const char *key)
{
  json_t *v = obj ? json_object_get(obj, key) : NULL;
  return json_is_integer(v) ? (apr_int64_t)json_integer_value(v) : -1;
}

/* A byte count as the engine sent it, within [0, DRAY_PROGRESS_MAX_BYTES];
 * absent or negative is 0. */
static apr_int64_t byte_count(json_t *detail, const char *key)
{
  apr_int64_t v = json_int(detail, key);
  return v < 0 ? 0 : v > DRAY_PROGRESS_MAX_BYTES ? DRAY_PROGRESS_MAX_BYTES : v;
}

static apr_int64_t add_saturating(apr_int64_t a, apr_int64_t b)
{
  return b > APR_INT64_MAX - a ? APR_INT64_MAX : a + b;
}

/* Apply one layer message; returns whether it counts as progress. */
static int layer_message(dray_progress_t *p, const char *id, const char *status,
                         json_t *detail)
{
  layer_t *l;

  if (!strcmp(status, "Preparing") || !strcmp(status, "Waiting")
      || !strcmp(status, "Pushing") || !strcmp(status, "Pushed")
      || !strcmp(status, "Layer already exists") || starts_with(status, "Mounted from")
      || starts_with(status, "Retrying in") || apr_hash_get(p->by_id, id, APR_HASH_KEY_STRING))
    l = get_layer(p, id);
  else
    return 1; /* some other message with an id: news, but not a layer */

  if (!strcmp(status, "Preparing"))
    l->state = LAYER_PREPARING;
  else if (!strcmp(status, "Waiting"))
    l->state = LAYER_WAITING;
  else if (!strcmp(status, "Pushing")) {
    apr_int64_t cur = byte_count(detail, "current");
    apr_int64_t tot = byte_count(detail, "total");
    int advanced = l->state != LAYER_PUSHING || cur > l->current;
    l->state = LAYER_PUSHING;
    if (tot > 0)
      l->total = tot;
    if (cur > l->current)
      l->current = cur;
    return advanced; /* a repeated count is not progress */
  }
  else if (!strcmp(status, "Pushed") || !strcmp(status, "Layer already exists")
           || starts_with(status, "Mounted from"))
    l->state = LAYER_DONE;
  else if (starts_with(status, "Retrying in")) {
    if (l->state != LAYER_RETRYING) /* the countdown repeats: one retry */
      p->retries++;
    l->state = LAYER_RETRYING;
  }
  return 1;
}

static int all_waiting(const dray_progress_t *p);

static dray_error_t *parse_line(dray_progress_t *p, const char *line,
                                apr_size_t len, apr_time_t now)
{
  json_error_t jerr;
  json_t *root, *v;
  const char *status = NULL, *id = NULL;
  int progress = 1, was_waiting;

  while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
    len--;
  if (!len)
    return DRAY_NO_ERROR;
  p->lines++;
  was_waiting = all_waiting(p);
  if (p->line_fn)
    p->line_fn(p->line_baton, line, len);

  root = json_loadb(line, len, 0, &jerr);
  if (!root || !json_is_object(root)) {
    json_decref(root);
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                              "engine sent a push message that is not a JSON object "
                              "(line %d: %s)", p->lines, jerr.text);
  }

  v = json_object_get(root, "errorDetail");
  if (json_is_object(v) && json_is_string(json_object_get(v, "message")))
    p->error = apr_pstrdup(p->pool, json_string_value(json_object_get(v, "message")));
  else if (json_is_string(json_object_get(root, "error")))
    p->error = apr_pstrdup(p->pool, json_string_value(json_object_get(root, "error")));

  v = json_object_get(root, "status");
  if (json_is_string(v))
    status = json_string_value(v);
  v = json_object_get(root, "id");
  if (json_is_string(v))
    id = json_string_value(v);

  if (status && id && *id)
    progress = layer_message(p, id, status, json_object_get(root, "progressDetail"));
  else if (status && !p->digest) {
    apr_int64_t size;
    const char *digest = dray_push_parse_digest_line(status, &size, p->pool);
    if (digest) {
      p->digest = digest;
      p->size = size;
    }
  }

  v = json_object_get(root, "aux");
  if (json_is_object(v) && json_is_string(json_object_get(v, "Digest"))
      && dray_digest_is_valid(json_string_value(json_object_get(v, "Digest")))) {
    p->aux_digest = apr_pstrdup(p->pool, json_string_value(json_object_get(v, "Digest")));
    p->aux_size = json_int(v, "Size");
  }

  /* The idle clock starts again when the engine's queue lets the layers go:
   * the time spent waiting was no stall. */
  if (progress || (was_waiting && !all_waiting(p)))
    p->last_progress = now;
  json_decref(root);
  return DRAY_NO_ERROR;
}

static dray_error_t *append(dray_progress_t *p, const char *data, apr_size_t n)
{
  if (p->partial.len + n + 1 > DRAY_PROGRESS_MAX_LINE)
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                              "engine sent a push message longer than %d bytes",
                              DRAY_PROGRESS_MAX_LINE);
  dray_strbuf_append(&p->partial, data, n);
  return DRAY_NO_ERROR;
}

/* Parse the line begun in earlier reads, and start the next one afresh. */
static dray_error_t *parse_partial(dray_progress_t *p, apr_time_t now)
{
  dray_error_t *err = parse_line(p, p->partial.data, p->partial.len, now);
  dray_strbuf_clear(&p->partial);
  return err;
}

dray_error_t *dray_progress_feed(dray_progress_t *p, const char *data,
                                 apr_size_t len, apr_time_t now)
{
  while (len) {
    const char *nl = memchr(data, '\n', len);
    apr_size_t n = nl ? (apr_size_t)(nl - data) : len;

    if (!nl)
      return append(p, data, n);
    if (p->partial.len) {
      /* Completes a line begun in an earlier read. */
      DRAY_ERR(append(p, data, n));
      DRAY_ERR(parse_partial(p, now));
    }
    else
      DRAY_ERR(parse_line(p, data, n, now));
    data += n + 1;
    len -= n + 1;
  }
  return DRAY_NO_ERROR;
}

dray_error_t *dray_progress_finish(dray_progress_t *p, apr_time_t now)
{
  return p->partial.len ? parse_partial(p, now) : DRAY_NO_ERROR;
}

static int all_waiting(const dray_progress_t *p)
{
  int waiting = 0;
  for (int i = 0; i < p->layers->nelts; i++) {
    const layer_t *l = APR_ARRAY_IDX(p->layers, i, layer_t *);
    if (l->state == LAYER_DONE)
      continue;
    if (l->state != LAYER_WAITING)
      return 0;
    waiting++;
  }
  return waiting > 0;
}

void dray_progress_snapshot(const dray_progress_t *p, dray_push_progress_t *out)
{
  int pushing = 0, preparing = 0, retrying = 0;

  memset(out, 0, sizeof(*out));
  for (int i = 0; i < p->layers->nelts; i++) {
    const layer_t *l = APR_ARRAY_IDX(p->layers, i, layer_t *);
    apr_int64_t done = l->current;
    /* The engine's total is an estimate that the count may pass: clamp. */
    if (l->total > 0 && (done > l->total || l->state == LAYER_DONE))
      done = l->total;
    if (l->total > 0 || l->current > 0) {
      out->bytes_done = add_saturating(out->bytes_done, done);
      out->bytes_total = add_saturating(out->bytes_total, l->total > 0 ? l->total : l->current);
    }
    out->layers_total++;
    if (l->state == LAYER_DONE)
      out->layers_done++;
    pushing += l->state == LAYER_PUSHING;
    preparing += l->state == LAYER_PREPARING;
    retrying += l->state == LAYER_RETRYING;
  }
  out->waiting = all_waiting(p);
  out->retries = p->retries;

  if (p->error)
    out->status = "failed";
  else if (p->digest || p->aux_digest)
    out->status = "pushed";
  else if (out->waiting)
    out->status = "waiting";
  else if (retrying)
    out->status = "retrying";
  else if (pushing)
    out->status = "pushing";
  else if (preparing)
    out->status = "preparing";
  else if (out->layers_total && out->layers_done == out->layers_total)
    out->status = "finishing";
  else
    out->status = "starting";
}

const char *dray_progress_error(const dray_progress_t *p)
{
  return p->error;
}

const char *dray_progress_digest(const dray_progress_t *p, apr_int64_t *size)
{
  if (size)
    *size = p->digest ? p->size : p->aux_digest ? p->aux_size : -1;
  return p->digest ? p->digest : p->aux_digest;
}

apr_interval_time_t dray_progress_idle(const dray_progress_t *p, apr_time_t now)
{
  if (all_waiting(p))
    return 0; /* the engine's queue is not a stall */
  return now > p->last_progress ? now - p->last_progress : 0;
}

int dray_progress_lines(const dray_progress_t *p)
{
  return p->lines;
}
