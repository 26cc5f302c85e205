/* imageread.c — an image's blobs from the engine's save stream. */
#include "dray/imageread.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include <jansson.h>
#include <zlib.h>

#include "dray/blob.h"
#include "dray/child.h"
#include "dray/http.h"
#include "dray/manifest.h"
#include "dray/pools.h"
#include "dray/ref.h"
#include "dray/runtmp.h"
#include "dray/strbuf.h"
#include "dray/tarstream.h"

/* ---- where images come from ------------------------------------------- */

struct dray_image_source_t {
  const dray_engine_t *engine;    /* the Engine API, or NULL: */
  const char *engine_cmd;         /* podman's CLI */
  const char *const *env;
  dray_runtmp_t *runtmp;          /* where spills go */
};

dray_image_source_t *dray_image_source_engine(const dray_engine_t *engine,
                                              dray_runtmp_t *runtmp,
                                              apr_pool_t *result_pool)
{
  dray_image_source_t *src = apr_pcalloc(result_pool, sizeof(*src));
  src->engine = engine;
  src->runtmp = runtmp;
  return src;
}

dray_image_source_t *dray_image_source_command(const char *engine_cmd, const char *const *env,
                                               dray_runtmp_t *runtmp,
                                               apr_pool_t *result_pool)
{
  dray_image_source_t *src = apr_pcalloc(result_pool, sizeof(*src));
  src->engine_cmd = apr_pstrdup(result_pool, engine_cmd);
  src->env = env;
  src->runtmp = runtmp;
  return src;
}

int dray_image_source_keeps_lists(const dray_image_source_t *src)
{
  return !src->engine;
}

const char *dray_image_source_describe(const dray_image_source_t *src, const char *image,
                                       apr_pool_t *result_pool)
{
  if (src->engine)
    return apr_pstrcat(result_pool, "# read ", image,
                       " from the engine (GET /images/get); upload its blobs and manifest to "
                       "the registry (OCI distribution API)", NULL);
  return apr_pstrcat(result_pool, "# read ", image, " with '", src->engine_cmd,
                     " save --format docker-archive'; upload its blobs and manifest to the "
                     "registry (OCI distribution API)", NULL);
}

/* The engine command's child for ARGS (after the command itself), its
 * stdout a stream. */
static dray_error_t *command_open(dray_child_stream_t **cs, const char **what,
                                  const dray_image_source_t *src, const char *const *args,
                                  dray_cancel_t *cancel, apr_pool_t *pool)
{
  int n = 0;
  const char **argv;
  dray_child_spec_t spec;

  while (args[n])
    n++;
  argv = apr_pcalloc(pool, sizeof(*argv) * (apr_size_t)(n + 2));
  argv[0] = src->engine_cmd;
  memcpy(argv + 1, args, sizeof(*argv) * (apr_size_t)n);
  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.env = src->env;
  spec.cancel = cancel;
  spec.idle_timeout = apr_time_from_sec(DRAY_IMAGEREAD_COMMAND_IDLE);
  spec.capture_max = 4096;
  *what = dray_child_argv_string(argv, pool);
  return dray_child_stream_open(cs, &spec, pool);
}

/* How the closed child went: an error naming WHAT for a failure. */
static dray_error_t *command_result(const dray_child_result_t *r, const char *what,
                                    apr_pool_t *pool)
{
  const char *last;
  if (r->exit_code == 0)
    return DRAY_NO_ERROR;
  last = dray_child_last_line(r, pool);
  /* podman: "Error: ...: image not known" */
  return dray_error_createf(strstr(last, "image not known") ? DRAY_ERR_NOT_FOUND
                                                            : DRAY_ERR_CHILD,
                            NULL, "%s: exit %d%s%s", what, r->exit_code, *last ? ": " : "",
                            last);
}

/* ---- the save stream: GET /images/get or "podman save", a step at a time */

typedef struct save_stream_t {
  /* The engine's answer, */
  CURLM *multi;
  dray_http_t *h;
  CURL *curl;
  /* or the command's output. */
  dray_child_stream_t *child;
  char *chunk;
  dray_child_result_t child_result;
  int child_closed;
  apr_pool_t *pool;
  dray_tarstream_t *tar;
  const char *what;
  dray_error_t *err;          /* the tar handler's */
  long status;
  char errbody[1024];
  apr_size_t errlen;
  int running;
  int done;                   /* the transfer has ended */
  CURLcode result;
  int stop;                   /* the reader has what it wants */
  apr_int64_t bytes;
} save_stream_t;

static size_t save_write(char *data, size_t size, size_t nmemb, void *baton)
{
  save_stream_t *ss = baton;
  apr_size_t n = size * nmemb;

  if (ss->stop)
    return 0;
  if (!ss->status)
    curl_easy_getinfo(ss->curl, CURLINFO_RESPONSE_CODE, &ss->status);
  if (ss->status != 200) {
    apr_size_t room = sizeof(ss->errbody) - 1 - ss->errlen;
    apr_size_t take = n < room ? n : room;
    memcpy(ss->errbody + ss->errlen, data, take);
    ss->errlen += take;
    ss->errbody[ss->errlen] = '\0';
    return n;
  }
  ss->bytes += (apr_int64_t)n;
  ss->err = dray_tarstream_feed(ss->tar, data, n);
  return ss->err || ss->stop ? 0 : n;
}

static apr_status_t save_cleanup(void *baton)
{
  save_stream_t *ss = baton;
  if (ss->multi) {
    if (ss->curl)
      curl_multi_remove_handle(ss->multi, ss->curl);
    curl_multi_cleanup(ss->multi);
  }
  ss->multi = NULL;
  return APR_SUCCESS;
}

/* End the source now rather than with its pool: the command is stopped
 * (unless it has ended) and waited for, the transfer taken down. */
static void save_close(save_stream_t *ss)
{
  if (ss->child && !ss->child_closed) {
    ss->child_closed = 1;
    dray_error_clear(dray_child_stream_close(&ss->child_result, ss->child, ss->pool));
  }
  if (ss->multi)
    apr_pool_cleanup_run(ss->pool, ss, save_cleanup);
}

#define SAVE_CHUNK (64 * 1024)

static dray_error_t *save_open_command(save_stream_t *ss, const dray_image_source_t *src,
                                       const char *id, dray_cancel_t *cancel, apr_pool_t *pool)
{
  const char *args[] = {"save", "--format", "docker-archive", id, NULL};
  ss->chunk = apr_palloc(pool, SAVE_CHUNK);
  return command_open(&ss->child, &ss->what, src, args, cancel, pool);
}

static dray_error_t *save_open(save_stream_t **ss_p, const dray_image_source_t *src,
                               const char *id, const dray_tar_handler_t *handler,
                               dray_cancel_t *cancel, apr_pool_t *pool)
{
  save_stream_t *ss = apr_pcalloc(pool, sizeof(*ss));
  const dray_engine_t *engine = src->engine;
  const char *path;
  dray_http_options_t o;

  ss->pool = pool;
  ss->tar = dray_tarstream_create(handler, pool);
  if (!engine) {
    DRAY_ERR(save_open_command(ss, src, id, cancel, pool));
    *ss_p = ss;
    return DRAY_NO_ERROR;
  }
  path = apr_pstrcat(pool, "/images/get?names=", dray_engine_escape_name(id, pool), NULL);
  ss->what = apr_psprintf(pool, "engine %s: GET %s", dray_engine_endpoint(engine)->host, path);
  DRAY_ERR(dray_engine_http_options(&o, engine, path, cancel, pool));
  DRAY_ERR(dray_http_handle_create(&ss->h, &o, pool));
  DRAY_ERR(dray_http_set_write(ss->h, save_write, ss));
  ss->curl = dray_http_curl(ss->h);
  /* Registered after the handle's: runs first, so the handle leaves the
   * multi before it is freed. */
  ss->multi = curl_multi_init();
  if (!ss->multi)
    return dray_error_create(APR_ENOMEM, NULL, "cannot create a curl multi handle");
  apr_pool_cleanup_register(pool, ss, save_cleanup, apr_pool_cleanup_null);
  if (curl_multi_add_handle(ss->multi, ss->curl) != CURLM_OK)
    return dray_error_createf(DRAY_ERR_HTTP, NULL, "%s: cannot start", ss->what);
  ss->running = 1;
  *ss_p = ss;
  return DRAY_NO_ERROR;
}

/* The command's next piece of output through the tar handler. */
static dray_error_t *save_step_command(save_stream_t *ss)
{
  apr_size_t got;
  DRAY_ERR(dray_child_stream_read(ss->child, ss->chunk, SAVE_CHUNK, &got));
  ss->bytes += (apr_int64_t)got;
  if (got)
    ss->err = dray_tarstream_feed(ss->tar, ss->chunk, got);
  if (!got || ss->err || ss->stop) {
    ss->done = 1;
    save_close(ss);
  }
  return DRAY_NO_ERROR;
}

/* Move the source on: whatever arrives within a second (the command's next
 * piece) goes through the tar handler. Sets SS->done when it has ended. */
static dray_error_t *save_step(save_stream_t *ss)
{
  CURLMcode mc;
  if (ss->child)
    return save_step_command(ss);
  mc = curl_multi_perform(ss->multi, &ss->running);
  if (mc != CURLM_OK)
    return dray_error_createf(DRAY_ERR_HTTP, NULL, "%s: %s", ss->what, curl_multi_strerror(mc));
  if (!ss->running) {
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(ss->multi, &left)) != NULL)
      if (msg->msg == CURLMSG_DONE)
        ss->result = msg->data.result;
    ss->done = 1;
    return DRAY_NO_ERROR;
  }
  mc = curl_multi_poll(ss->multi, NULL, 0, 1000, NULL);
  if (mc != CURLM_OK)
    return dray_error_createf(DRAY_ERR_HTTP, NULL, "%s: %s", ss->what, curl_multi_strerror(mc));
  return DRAY_NO_ERROR;
}

/* How the ended transfer went: the handler's error, the engine's answer,
 * the transport's failure, in that order. */
static dray_error_t *save_result(save_stream_t *ss, apr_pool_t *pool)
{
  if (ss->err) {
    dray_error_t *err = ss->err;
    ss->err = NULL;
    return dray_error_quick_wrapf(err, "%s", ss->what);
  }
  if (ss->child)
    return ss->stop ? DRAY_NO_ERROR : command_result(&ss->child_result, ss->what, pool);
  if (ss->status && ss->status != 200)
    return dray_error_createf(ss->status == 404 ? DRAY_ERR_NOT_FOUND : DRAY_ERR_HTTP, NULL,
                              "%s: HTTP %ld: %s", ss->what, ss->status,
                              dray_engine_error_message(ss->errbody, ss->errlen, pool));
  if (ss->stop)
    return DRAY_NO_ERROR;
  if (ss->result == CURLE_ABORTED_BY_CALLBACK)
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "%s: cancelled", ss->what);
  if (ss->result != CURLE_OK)
    return dray_http_error(ss->result, ss->what, NULL);
  return DRAY_NO_ERROR;
}

/* ---- the read: every layer's blob digest, and the config --------------- */

/* A blob written to a private file while it is made: the upload reads it
 * from there (and resumes at any offset) instead of asking the engine for
 * the image again and compressing the layer a second time. */
typedef struct spill_t {
  apr_file_t *file;           /* open while the blob is written */
  const char *path;
} spill_t;

static apr_status_t spill_remove(void *baton)
{
  spill_t *sp = baton;
  if (sp->file)
    apr_file_close(sp->file); /* first: Windows removes no open file */
  sp->file = NULL;
  if (sp->path)
    apr_file_remove(sp->path, NULL);
  sp->path = NULL;
  return APR_SUCCESS;
}

/* A new spill in the run's folder (runtmp.h: what a killed dray leaves
 * there, the next run removes), removed with POOL. */
static dray_error_t *spill_create(spill_t **sp_p, dray_runtmp_t *runtmp, apr_pool_t *pool)
{
  spill_t *sp = apr_pcalloc(pool, sizeof(*sp));
  const char *dir;
  char *tmpl;
  apr_status_t rv;
  DRAY_ERR(dray_runtmp_path(&dir, runtmp));
  tmpl = apr_pstrcat(pool, dir, "/blob-XXXXXX", NULL);
  rv = apr_file_mktemp(&sp->file, tmpl,
                       APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL
                           | APR_FOPEN_BINARY,
                       pool);
  if (rv)
    return dray_error_createf(rv, NULL, "cannot create a temporary file in %s", dir);
  sp->path = tmpl; /* mktemp filled in the X's */
  apr_pool_cleanup_register(pool, sp, spill_remove, apr_pool_cleanup_null);
  *sp_p = sp;
  return DRAY_NO_ERROR;
}

static dray_error_t *spill_sink(void *baton, const char *data, apr_size_t len)
{
  spill_t *sp = baton;
  apr_status_t rv = apr_file_write_full(sp->file, data, len, NULL);
  return rv ? dray_error_createf(rv, NULL, "cannot write the temporary file %s", sp->path)
            : DRAY_NO_ERROR;
}

/* Keep SP's file, closed, as long as POOL lives: *PATH (in POOL) names it. */
static dray_error_t *spill_keep(const char **path, spill_t *sp, apr_pool_t *owner,
                                apr_pool_t *pool)
{
  spill_t *kept = apr_pcalloc(pool, sizeof(*kept));
  apr_status_t rv = apr_file_close(sp->file);
  sp->file = NULL;
  if (rv)
    return dray_error_createf(rv, NULL, "cannot write the temporary file %s", sp->path);
  kept->path = apr_pstrdup(pool, sp->path);
  apr_pool_cleanup_kill(owner, sp, spill_remove);
  apr_pool_cleanup_register(pool, kept, spill_remove, apr_pool_cleanup_null);
  *path = kept->path;
  return DRAY_NO_ERROR;
}

/* ---- an entry that is a gzip blob already ------------------------------ */

/* docker 25+ with the containerd image store exports each layer as the
 * compressed blob it keeps ("blobs/sha256/…", gzip), not as its tar. Such
 * an entry is pushed as it is (its digest is the entry's hash; nothing is
 * compressed), and its diff ID is the hash of what it inflates to. */
typedef struct packed_t {
  unsigned char head[3];      /* the entry's first bytes, until decided */
  apr_size_t head_len;
  int decided;
  int gzip;
  z_stream z;
  int z_open;
  dray_sha256_t *blob;        /* of the bytes as they are */
  dray_sha256_t *inflated;    /* of what they inflate to (the diff ID) */
  unsigned char out[65536];
} packed_t;

static apr_status_t packed_end(void *baton)
{
  packed_t *pk = baton;
  if (pk->z_open)
    inflateEnd(&pk->z);
  pk->z_open = 0;
  return APR_SUCCESS;
}

/* Whether HEAD begins a gzip member (deflate). */
static int is_gzip(const unsigned char *head, apr_size_t len)
{
  return len >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8;
}

static dray_error_t *packed_start(packed_t *pk, const char *name, apr_pool_t *pool)
{
  memset(&pk->z, 0, sizeof(pk->z));
  if (inflateInit2(&pk->z, 15 + 16) != Z_OK)
    return dray_error_createf(APR_ENOMEM, NULL, "%s: cannot start gunzip", name);
  pk->z_open = 1;
  apr_pool_cleanup_register(pool, pk, packed_end, apr_pool_cleanup_null);
  pk->blob = dray_sha256_create(pool);
  pk->inflated = dray_sha256_create(pool);
  return DRAY_NO_ERROR;
}

/* Hash DATA as it is and as it inflates (gzip members one after another,
 * as parallel compressors write them). */
static dray_error_t *packed_add(packed_t *pk, const char *name, const char *data, apr_size_t len)
{
  dray_sha256_add(pk->blob, data, len);
  pk->z.next_in = (Bytef *)data;
  pk->z.avail_in = (uInt)len;
  while (pk->z.avail_in) {
    int rc;
    pk->z.next_out = pk->out;
    pk->z.avail_out = sizeof(pk->out);
    rc = inflate(&pk->z, Z_NO_FLUSH);
    dray_sha256_add(pk->inflated, pk->out, sizeof(pk->out) - pk->z.avail_out);
    if (rc == Z_STREAM_END)
      inflateReset(&pk->z);
    else if (rc != Z_OK && !(rc == Z_BUF_ERROR && pk->z.avail_out == 0))
      return dray_error_createf(DRAY_ERR_PROTOCOL, NULL, "%s: not a valid gzip stream (%s)",
                                name, pk->z.msg ? pk->z.msg : "zlib error");
  }
  return DRAY_NO_ERROR;
}

/* ---- the read's tar handler --------------------------------------------- */

typedef struct scan_t {
  dray_image_blobs_t *blobs;
  apr_pool_t *result_pool;
  apr_pool_t *entry_pool;     /* cleared per entry */
  const char *name;           /* the current entry */
  apr_int64_t entry_size;
  dray_sha256_t *raw;
  dray_blob_writer_t *gz;     /* making it from a tar */
  packed_t *packed;           /* the entry as it began */
  dray_runtmp_t *runtmp;      /* where spills go */
  spill_t *spill;             /* the entry's blob is made here; NULL: only hashed */
  dray_strbuf_t small;        /* the entry's bytes while it may be the config */
  int keep;
  int layers_left;
  /* An entry is only hashed when it looks like a layer the caller knows
   * already (its digest given, from another image of the run; its size
   * that of its entry): compressing costs many times what hashing does.
   * If the guess was wrong (an unknown layer of the same size), a second
   * pass compresses just the entries still NEEDED. */
  apr_hash_t *needed;         /* entry names to compress in a second pass */
  int second;                 /* this is that pass */
} scan_t;

/* Whether an entry of SIZE bytes is likely a layer whose blob is known. */
static int looks_known(const scan_t *s, apr_int64_t size)
{
  for (int i = 0; i < s->blobs->layers->nelts; i++) {
    const dray_image_layer_t *l = &APR_ARRAY_IDX(s->blobs->layers, i, dray_image_layer_t);
    if (!l->entry && l->digest && l->raw_size == size)
      return 1;
  }
  return 0;
}

static dray_error_t *scan_begin(void *baton, const char *name, apr_int64_t size, int *want)
{
  scan_t *s = baton;
  int compress;
  apr_pool_clear(s->entry_pool);
  s->name = apr_pstrdup(s->entry_pool, name);
  s->entry_size = size;
  if (s->second) {
    compress = apr_hash_get(s->needed, name, APR_HASH_KEY_STRING) != NULL;
    if (!compress) {
      *want = 0; /* the second pass: only the entries still unknown */
      return DRAY_NO_ERROR;
    }
  } else {
    compress = !looks_known(s, size);
  }
  s->raw = dray_sha256_create(s->entry_pool);
  s->gz = NULL;
  s->spill = NULL;
  s->packed = apr_pcalloc(s->entry_pool, sizeof(*s->packed));
  if (compress)
    DRAY_ERR(spill_create(&s->spill, s->runtmp, s->entry_pool));
  s->keep = size <= DRAY_IMAGEREAD_CONFIG_MAX;
  dray_strbuf_init(&s->small, s->keep ? (apr_size_t)size + 1 : 0, s->entry_pool);
  *want = 1;
  return DRAY_NO_ERROR;
}

/* DATA of the entry, once it is known whether it is gzip. */
static dray_error_t *scan_take(scan_t *s, const char *data, apr_size_t len)
{
  if (s->packed->gzip) {
    DRAY_ERR(packed_add(s->packed, s->name, data, len));
    return s->spill ? spill_sink(s->spill, data, len) : DRAY_NO_ERROR;
  }
  dray_sha256_add(s->raw, data, len);
  if (s->keep)
    dray_strbuf_append(&s->small, data, len);
  return s->gz ? dray_blob_writer_write(s->gz, data, len) : DRAY_NO_ERROR;
}

/* The entry's first bytes (fewer at its end) say what it is. */
static dray_error_t *scan_decide(scan_t *s)
{
  packed_t *pk = s->packed;
  pk->decided = 1;
  pk->gzip = is_gzip(pk->head, pk->head_len);
  if (pk->gzip)
    DRAY_ERR(packed_start(pk, s->name, s->entry_pool));
  else if (s->spill)
    DRAY_ERR(dray_blob_writer_create(&s->gz, spill_sink, s->spill, s->entry_pool));
  return scan_take(s, (const char *)pk->head, pk->head_len);
}

static dray_error_t *scan_data(void *baton, const char *data, apr_size_t len)
{
  scan_t *s = baton;
  packed_t *pk = s->packed;
  if (!pk->decided) {
    apr_size_t take = sizeof(pk->head) - pk->head_len;
    if (take > len)
      take = len;
    memcpy(pk->head + pk->head_len, data, take);
    pk->head_len += take;
    data += take;
    len -= take;
    if (pk->head_len < sizeof(pk->head))
      return DRAY_NO_ERROR;
    DRAY_ERR(scan_decide(s));
  }
  return len ? scan_take(s, data, len) : DRAY_NO_ERROR;
}

static dray_error_t *scan_end(void *baton)
{
  scan_t *s = baton;
  const char *raw, *digest = NULL, *spill = NULL;
  apr_int64_t size = 0;
  int as_is;

  if (!s->packed->decided)
    DRAY_ERR(scan_decide(s));
  as_is = s->packed->gzip;
  raw = dray_sha256_digest(as_is ? s->packed->inflated : s->raw, s->entry_pool);
  if (s->keep && !as_is && !s->blobs->config && !strcmp(raw, s->blobs->id)) {
    s->blobs->config = apr_pmemdup(s->result_pool, s->small.data, s->small.len);
    s->blobs->config_len = s->small.len;
  }
  for (int i = 0; i < s->blobs->layers->nelts; i++) {
    dray_image_layer_t *l = &APR_ARRAY_IDX(s->blobs->layers, i, dray_image_layer_t);
    if (l->entry || strcmp(l->diff_id, raw))
      continue;
    if (!s->spill) {
      /* Only hashed: its entry is known now; its digest, or it is
       * compressed in a second pass. */
      if (l->digest) {
        l->entry = apr_pstrdup(s->result_pool, s->name);
        l->raw_size = s->entry_size;
        l->as_is = as_is;
        s->layers_left--;
      } else {
        apr_hash_set(s->needed, apr_pstrdup(s->result_pool, s->name), APR_HASH_KEY_STRING, "");
      }
      continue;
    }
    if (!digest) {
      if (as_is) {
        digest = dray_sha256_digest(s->packed->blob, s->result_pool);
        size = s->entry_size;
      } else {
        DRAY_ERR(dray_blob_writer_finish(s->gz, &digest, &size, s->result_pool));
      }
      DRAY_ERR(spill_keep(&spill, s->spill, s->entry_pool, s->result_pool));
    }
    l->digest = digest;
    l->size = size;
    l->raw_size = s->entry_size;
    l->as_is = as_is;
    l->spill = spill;
    l->entry = apr_pstrdup(s->result_pool, s->name);
    s->layers_left--;
  }
  return DRAY_NO_ERROR;
}

/* The command's whole output, at most MAX bytes of it. */
static dray_error_t *command_output(dray_strbuf_t *out, const dray_image_source_t *src,
                                    const char *const *args, apr_size_t max,
                                    dray_cancel_t *cancel, apr_pool_t *pool)
{
  dray_child_stream_t *cs;
  dray_child_result_t r;
  const char *what;
  char buf[16384];
  apr_size_t got = 1;
  dray_error_t *err = DRAY_NO_ERROR;

  DRAY_ERR(command_open(&cs, &what, src, args, cancel, pool));
  dray_strbuf_init(out, sizeof(buf), pool);
  while (!err && got) {
    err = dray_child_stream_read(cs, buf, sizeof(buf), &got);
    if (!err && out->len + got > max)
      err = dray_error_createf(DRAY_ERR_PROTOCOL, NULL, "%s: more than %lu bytes of output",
                               what, (unsigned long)max);
    else if (!err)
      dray_strbuf_append(out, buf, got);
  }
  err = dray_error_compose(err, dray_child_stream_close(&r, cs, pool));
  return err ? err : command_result(&r, what, pool);
}

/* What the engine knows of IMAGE: the Engine API's inspect object, or the
 * one element of podman's "image inspect" array (the same keys). */
static dray_error_t *inspect_object(json_t **info, const dray_image_source_t *src,
                                    const char *image, dray_cancel_t *cancel, apr_pool_t *pool)
{
  const char *args[] = {"image", "inspect", "--format", "json", "--", image, NULL};
  dray_strbuf_t out;
  json_t *all;

  if (src->engine)
    return dray_engine_inspect_image(info, src->engine, image, cancel, pool);
  DRAY_ERR(command_output(&out, src, args, DRAY_IMAGEREAD_CONFIG_MAX, cancel, pool));
  all = json_loadb(out.data, out.len, 0, NULL);
  if (!json_is_array(all) || json_array_size(all) != 1
      || !json_is_object(json_array_get(all, 0))) {
    json_decref(all);
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                              "%s image inspect %s: not one image's description",
                              src->engine_cmd, image);
  }
  *info = json_incref(json_array_get(all, 0));
  json_decref(all);
  return DRAY_NO_ERROR;
}

/* IMAGE's ID in INFO as a digest ("sha256:…"; podman gives the hex
 * alone), or NULL. */
static const char *info_id(json_t *info, apr_pool_t *pool)
{
  const char *id = json_string_value(json_object_get(info, "Id"));
  if (id && !strchr(id, ':'))
    id = apr_pstrcat(pool, "sha256:", id, NULL);
  return id && dray_digest_is_valid(id) ? apr_pstrdup(pool, id) : NULL;
}

dray_error_t *dray_image_source_id(const char **id, const dray_image_source_t *src,
                                   const char *image, dray_cancel_t *cancel,
                                   apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  json_t *info;
  DRAY_ERR(inspect_object(&info, src, image, cancel, scratch_pool));
  *id = info_id(info, result_pool);
  json_decref(info);
  if (!*id)
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL, "image %s has no usable Id", image);
  return DRAY_NO_ERROR;
}

dray_error_t *dray_image_inspect(dray_image_blobs_t **blobs_p,
                                 const dray_image_source_t *src,
                                 const char *image,
                                 dray_cancel_t *cancel,
                                 apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool)
{
  dray_image_blobs_t *blobs = apr_pcalloc(result_pool, sizeof(*blobs));
  json_t *info, *layers, *v;
  size_t i;
  dray_error_t *err = DRAY_NO_ERROR;

  DRAY_ERR(inspect_object(&info, src, image, cancel, scratch_pool));
  blobs->id = info_id(info, result_pool);
  /* podman says which manifest it keeps for the image (and pushes);
   * dockerd's legacy store says nothing and pushes Docker's. */
  v = json_object_get(info, "ManifestType");
  if (json_is_string(v) && !strcmp(json_string_value(v), DRAY_MANIFEST_OCI_MEDIA_TYPE))
    blobs->manifest_kind = DRAY_IMAGE_MANIFEST_OCI;
  layers = json_object_get(json_object_get(info, "RootFS"), "Layers");
  if (!blobs->id || !json_is_array(layers))
    err = dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                             "engine: image %s has no usable Id or RootFS.Layers", image);
  blobs->layers = apr_array_make(result_pool, (int)json_array_size(layers) + 1,
                                 sizeof(dray_image_layer_t));
  json_array_foreach(layers, i, v) {
    dray_image_layer_t *l = apr_array_push(blobs->layers);
    memset(l, 0, sizeof(*l));
    if (!err && (!json_is_string(v) || !dray_digest_is_valid(json_string_value(v))))
      err = dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                               "engine: image %s has a layer without a valid diff ID", image);
    l->diff_id = err ? "" : apr_pstrdup(result_pool, json_string_value(v));
  }
  json_decref(info);
  *blobs_p = blobs;
  return err;
}

dray_image_blobs_t *dray_image_blobs_dup(const dray_image_blobs_t *blobs,
                                         apr_pool_t *result_pool)
{
  dray_image_blobs_t *copy = apr_pmemdup(result_pool, blobs, sizeof(*blobs));
  copy->id = apr_pstrdup(result_pool, blobs->id);
  copy->config = blobs->config ? apr_pmemdup(result_pool, blobs->config, blobs->config_len)
                               : NULL;
  copy->layers = apr_array_copy(result_pool, blobs->layers);
  for (int i = 0; i < copy->layers->nelts; i++) {
    dray_image_layer_t *l = &APR_ARRAY_IDX(copy->layers, i, dray_image_layer_t);
    l->diff_id = apr_pstrdup(result_pool, l->diff_id);
    l->digest = l->digest ? apr_pstrdup(result_pool, l->digest) : NULL;
    l->entry = l->entry ? apr_pstrdup(result_pool, l->entry) : NULL;
    l->spill = NULL; /* the file goes with the read's pool, not this copy */
  }
  return copy;
}

dray_error_t *dray_image_read(dray_image_blobs_t **blobs_p,
                              const dray_image_source_t *src,
                              const char *image,
                              dray_cancel_t *cancel,
                              apr_pool_t *result_pool,
                              apr_pool_t *scratch_pool)
{
  DRAY_ERR(dray_image_inspect(blobs_p, src, image, cancel, result_pool, scratch_pool));
  return dray_image_read_blobs(*blobs_p, src, cancel, result_pool, scratch_pool);
}

/* One read of the save stream through HANDLER. */
static dray_error_t *save_read(apr_int64_t *bytes, const dray_image_source_t *src,
                               const char *id, const dray_tar_handler_t *handler,
                               dray_cancel_t *cancel, apr_pool_t *scratch_pool)
{
  save_stream_t *ss;
  apr_pool_t *pool = dray_pool_create_sub(scratch_pool);
  dray_error_t *err = save_open(&ss, src, id, handler, cancel, pool);
  while (!err && !ss->done)
    err = save_step(ss);
  if (!err)
    err = save_result(ss, scratch_pool);
  if (!err)
    *bytes += ss->bytes;
  apr_pool_destroy(pool);
  return err;
}

dray_error_t *dray_image_read_blobs(dray_image_blobs_t *blobs,
                                    const dray_image_source_t *src,
                                    dray_cancel_t *cancel,
                                    apr_pool_t *result_pool,
                                    apr_pool_t *scratch_pool)
{
  dray_tar_handler_t handler = {scan_begin, scan_data, scan_end, NULL};
  scan_t scan;
  apr_pool_t *pool = dray_pool_create_sub(scratch_pool);
  const char *image = blobs->id;
  dray_error_t *err;

  memset(&scan, 0, sizeof(scan));
  scan.blobs = blobs;
  scan.result_pool = result_pool;
  scan.runtmp = src->runtmp;
  scan.entry_pool = dray_pool_create_sub(pool);
  scan.layers_left = blobs->layers->nelts;
  scan.needed = apr_hash_make(pool);
  handler.baton = &scan;
  blobs->bytes_read = 0;
  err = save_read(&blobs->bytes_read, src, blobs->id, &handler, cancel, pool);
  if (!err && apr_hash_count(scan.needed) > 0) {
    /* A layer was taken for a known one of its size: compress it now. */
    scan.second = 1;
    err = save_read(&blobs->bytes_read, src, blobs->id, &handler, cancel, pool);
  }
  if (!err && scan.layers_left > 0)
    err = dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                             "engine: the saved image %s lacks %d of its %d layers", image,
                             scan.layers_left, blobs->layers->nelts);
  if (!err && !blobs->config)
    err = dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                             "engine: the saved image %s has no config with digest %s", image,
                             blobs->id);
  apr_pool_destroy(pool);
  return err;
}

/* ---- the second pass: one layer's blob, from an offset ---------------- */

struct dray_layer_reader_t {
  save_stream_t *ss;
  apr_pool_t *pool;
  const dray_image_layer_t *layer;
  dray_blob_writer_t *gz;     /* or, for a layer pushed as it is: */
  dray_sha256_t *as_is;       /* the hash of its bytes */
  apr_int64_t as_is_size;
  apr_int64_t skip;           /* compressed bytes still to drop */
  dray_strbuf_t out;          /* compressed bytes not yet read */
  apr_size_t out_pos;
  int in_entry;
  int seen;                   /* the entry has begun */
  int ended;                  /* the blob is complete and checked */
};

static dray_error_t *reader_sink(void *baton, const char *data, apr_size_t len)
{
  dray_layer_reader_t *r = baton;
  if (r->skip >= (apr_int64_t)len) {
    r->skip -= (apr_int64_t)len;
    return DRAY_NO_ERROR;
  }
  data += r->skip;
  len -= (apr_size_t)r->skip;
  r->skip = 0;
  dray_strbuf_append(&r->out, data, len);
  return DRAY_NO_ERROR;
}

static dray_error_t *reader_begin(void *baton, const char *name, apr_int64_t size, int *want)
{
  dray_layer_reader_t *r = baton;
  *want = !r->seen && !strcmp(name, r->layer->entry);
  r->seen |= *want;
  r->in_entry = *want;
  return DRAY_NO_ERROR;
}

static dray_error_t *reader_data(void *baton, const char *data, apr_size_t len)
{
  dray_layer_reader_t *r = baton;
  if (!r->as_is)
    return dray_blob_writer_write(r->gz, data, len);
  dray_sha256_add(r->as_is, data, len);
  r->as_is_size += (apr_int64_t)len;
  return reader_sink(r, data, len);
}

static dray_error_t *reader_end(void *baton)
{
  dray_layer_reader_t *r = baton;
  const char *digest;
  apr_int64_t size;
  if (r->as_is) {
    digest = dray_sha256_digest(r->as_is, r->pool);
    size = r->as_is_size;
  } else {
    DRAY_ERR(dray_blob_writer_finish(r->gz, &digest, &size, r->pool));
  }
  if (strcmp(digest, r->layer->digest) || size != r->layer->size)
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                              "layer %s compressed to %s (%" APR_INT64_T_FMT " bytes) on the "
                              "first read and to %s (%" APR_INT64_T_FMT " bytes) now",
                              r->layer->diff_id, r->layer->digest, r->layer->size, digest,
                              size);
  r->ended = 1;
  r->ss->stop = 1; /* nothing more is needed from the stream */
  return DRAY_NO_ERROR;
}

dray_error_t *dray_layer_reader_open(dray_layer_reader_t **reader,
                                     const dray_image_source_t *src,
                                     const char *id,
                                     const dray_image_layer_t *layer,
                                     apr_int64_t offset,
                                     dray_cancel_t *cancel,
                                     apr_pool_t *pool)
{
  dray_layer_reader_t *r = apr_pcalloc(pool, sizeof(*r));
  dray_tar_handler_t handler = {reader_begin, reader_data, reader_end, NULL};

  r->pool = pool;
  r->layer = layer;
  r->skip = offset;
  dray_strbuf_init(&r->out, 128 * 1024, pool);
  if (layer->as_is)
    r->as_is = dray_sha256_create(pool);
  else
    DRAY_ERR(dray_blob_writer_create(&r->gz, reader_sink, r, pool));
  handler.baton = r;
  DRAY_ERR(save_open(&r->ss, src, id, &handler, cancel, pool));
  *reader = r;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_layer_reader_read(dray_layer_reader_t *r, char *buf, apr_size_t len,
                                     apr_size_t *got)
{
  /* The stream is moved on only while nothing is buffered: the buffer
   * holds at most what one piece of the stream compresses to. */
  while (r->out_pos == r->out.len && !r->ended) {
    dray_strbuf_clear(&r->out);
    r->out_pos = 0;
    if (r->ss->done) {
      DRAY_ERR(save_result(r->ss, r->pool));
      return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                                "%s: the stream ended before layer %s (%s) did",
                                r->ss->what, r->layer->diff_id, r->layer->entry);
    }
    DRAY_ERR(save_step(r->ss));
    if (r->ss->err) /* the handler failed: that is the answer */
      return save_result(r->ss, r->pool);
  }
  *got = r->out.len - r->out_pos < len ? r->out.len - r->out_pos : len;
  memcpy(buf, r->out.data + r->out_pos, *got);
  r->out_pos += *got;
  if (r->ended && r->out_pos == r->out.len)
    dray_layer_reader_close(r);
  return DRAY_NO_ERROR;
}

void dray_layer_reader_close(dray_layer_reader_t *r)
{
  if (r->ss)
    save_close(r->ss);
}
