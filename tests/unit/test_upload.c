/* test_upload.c — the blob upload state machine (upload.c) against a fake
 * registry that keeps what it is sent (testhttpd's handler mode): HEAD
 * first, mounts and refused mounts, chunks with Content-Range, resumes from
 * the registry's offset after a cut connection, a 416, a session the
 * registry forgot (404), a stall, 507, the manifest PUT; the failure streak
 * (upload.h): failed requests in a row without progress end the upload,
 * progress starts a new streak, going round again is no progress, a
 * registry that hangs every request is given up after two stalls. Then the registry
 * push driver whole (push_registry.c, imageread.c) against the same fake
 * registry and a fake engine on the same port that serves two images
 * sharing a base layer as "docker save" would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include <jansson.h>
#include <zlib.h>

#include "dray/backoff.h"
#include "dray/blob.h"
#include "dray/blobtrack.h"
#include "dray/engine.h"
#include "dray/push_registry.h"
#include "dray/registry.h"
#include "dray/runtmp.h"
#include "dray/strbuf.h"
#include "dray/upload.h"

#include "testutil.h"
#include "testhttpd.h"
#include "testtar.h"

/* ---- the fake registry ---------------------------------------------------- */

typedef struct fake_t {
  apr_pool_t *pool;           /* the server thread's: blobs and sessions */
  apr_hash_t *blobs;          /* "repo digest" -> dray_strbuf_t * */
  apr_hash_t *sessions;       /* id -> dray_strbuf_t * */
  int next_id;
  /* what happened */
  int heads, posts, mounts, patches, gets, puts, manifests;
  apr_int64_t body_bytes;     /* PATCH body bytes received */
  /* faults, each for one request */
  int cut_patch;              /* this PATCH (1 = the first): keep half, no answer */
  int forget_on_cut;          /* with cut_patch: the session is then gone (as docker's
                                 registry does on a stale _state) */
  int patch_416;              /* this PATCH answers 416 */
  int patch_500;              /* this PATCH answers 500, keeping nothing */
  int stall_patch;            /* this PATCH: no answer for STALL_MS */
  int stall_patch_all;        /* every PATCH: no answer for STALL_MS, nothing kept */
  int stall_ms;
  int refuse_mount;
  int post_507;               /* every POST answers 507 */
  int post_500;               /* every POST answers 500 */
  int patch_416_all;          /* every PATCH answers 416 */
  int patch_500_every;        /* every Nth PATCH answers 500, keeping nothing */
  long cut_from;              /* every PATCH from this offset (> 0) is cut as cut_patch's */
  int hang_ms;                /* every request: no answer for HANG_MS, then closed */
  int head_401;               /* every HEAD answers 401 (no body: a HEAD's) */
  int hangs;
  const char *manifest_digest; /* the Docker-Content-Digest the manifest PUT sends */
  apr_hash_t *stored_manifests; /* "repo:tag" -> dray_strbuf_t * */
  /* the fake engine: two images */
  const char *inspect[2];     /* GET /images/NAME/json answers */
  const char *names[2];       /* NAME as escaped in the path */
  const char *ids[2];
  apr_int64_t config_len[2];
  dray_strbuf_t saves[2];     /* GET /images/get?names=ID answers (tar streams) */
  int image_gets;
  apr_thread_mutex_t *lock;   /* with a second server (the engine's): one at a time */
} fake_t;

static const char *answer(apr_pool_t *p, int status, const char *headers, const char *body)
{
  return apr_psprintf(p, "HTTP/1.1 %d X\r\nConnection: close\r\n%sContent-Length: %d\r\n\r\n%s",
                      status, headers ? headers : "", (int)strlen(body ? body : ""),
                      body ? body : "");
}

/* "/v2/REPO/blobs/..." -> REPO and what follows "/blobs/" or "/manifests/". */
static const char *split(const char *path, const char **rest, const char *mark, apr_pool_t *p)
{
  const char *at = strstr(path, mark);
  if (strncmp(path, "/v2/", 4) || !at)
    return NULL;
  *rest = at + strlen(mark);
  return apr_pstrmemdup(p, path + 4, (apr_size_t)(at - path - 4));
}

static const char *query(const char *path, const char *name, apr_pool_t *p)
{
  const char *q = strchr(path, '?'), *v, *end;
  const char *key = apr_pstrcat(p, name, "=", NULL);
  if (!q)
    return NULL;
  for (v = q + 1; v && *v; v = strchr(v, '&') ? strchr(v, '&') + 1 : NULL)
    if (!strncmp(v, key, strlen(key))) {
      v += strlen(key);
      end = strchr(v, '&');
      return end ? apr_pstrmemdup(p, v, (apr_size_t)(end - v)) : apr_pstrdup(p, v);
    }
  return NULL;
}

static const char *range_of(const dray_strbuf_t *b, apr_pool_t *p)
{
  return apr_psprintf(p, "Range: 0-%ld\r\n", (long)(b->len ? b->len - 1 : 0));
}

static dray_strbuf_t *session(fake_t *f, const char *rest, apr_pool_t *p)
{
  const char *id = apr_pstrmemdup(p, rest, strcspn(rest, "?"));
  return apr_hash_get(f->sessions, id, APR_HASH_KEY_STRING);
}

static const char *new_session(fake_t *f, const char *repo, apr_pool_t *p)
{
  dray_strbuf_t *b = apr_palloc(f->pool, sizeof(*b));
  const char *id = apr_psprintf(f->pool, "u%d", ++f->next_id);
  dray_strbuf_init(b, 0, f->pool);
  apr_hash_set(f->sessions, id, APR_HASH_KEY_STRING, b);
  return answer(p, 202, apr_psprintf(p, "Location: /v2/%s/blobs/uploads/%s?_state=x\r\n"
                                     "Range: 0-0\r\n", repo, id), NULL);
}

static const char *on_blobs(fake_t *f, const testhttpd_request_t *req, const char *repo,
                            const char *rest, apr_pool_t *p)
{
  const char *m = req->method;
  dray_strbuf_t *b;

  if (!strcmp(m, "HEAD")) {
    f->heads++;
    if (f->head_401)
      return answer(p, 401, "WWW-Authenticate: Basic realm=\"x\"\r\n"
                            "WWW-Authenticate: Bearer realm=\"http://t/token\",service=\"s\"\r\n",
                    NULL);
    return answer(p, apr_hash_get(f->blobs, apr_pstrcat(p, repo, " ", rest, NULL),
                                  APR_HASH_KEY_STRING) ? 200 : 404, NULL, NULL);
  }
  if (!strcmp(m, "POST")) {
    const char *mount = query(req->path, "mount", p), *from = query(req->path, "from", p);
    f->posts++;
    if (f->post_507)
      return answer(p, 507, NULL, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"disk full\"}]}");
    if (f->post_500)
      return answer(p, 500, NULL, NULL);
    if (mount && from) {
      dray_strbuf_t *have = apr_hash_get(f->blobs, apr_pstrcat(p, from, " ", mount, NULL),
                                         APR_HASH_KEY_STRING);
      if (have && !f->refuse_mount) {
        f->mounts++;
        apr_hash_set(f->blobs, apr_pstrcat(f->pool, repo, " ", mount, NULL), APR_HASH_KEY_STRING,
                     have);
        return answer(p, 201, apr_psprintf(p, "Location: /v2/%s/blobs/%s\r\n", repo, mount),
                      NULL);
      }
    }
    return new_session(f, repo, p);
  }
  if (strncmp(rest, "uploads/", 8))
    return answer(p, 405, NULL, NULL);
  b = session(f, rest + 8, p);
  if (!b)
    return answer(p, 404, NULL, "{\"errors\":[{\"code\":\"BLOB_UPLOAD_UNKNOWN\"}]}");
  if (!strcmp(m, "GET")) {
    f->gets++;
    return answer(p, 204, apr_pstrcat(p, range_of(b, p), "Location: ", req->path, "\r\n", NULL),
                  NULL);
  }
  if (!strcmp(m, "PATCH")) {
    const char *cr = testhttpd_header(req->head, "Content-Range", p);
    long start = cr ? (long)apr_atoi64(cr) : -1;
    int n = ++f->patches;
    if (n == f->patch_500 || (f->patch_500_every && n % f->patch_500_every == 0))
      return answer(p, 500, NULL, NULL);
    if (n == f->patch_416 || f->patch_416_all || start != (long)b->len)
      return answer(p, 416, range_of(b, p), NULL);
    if (f->stall_patch_all) {
      apr_sleep(apr_time_from_msec(f->stall_ms));
      return NULL;
    }
    if (n == f->stall_patch)
      apr_sleep(apr_time_from_msec(f->stall_ms));
    if (n == f->cut_patch || (f->cut_from > 0 && start == f->cut_from)) {
      dray_strbuf_append(b, req->body, req->body_len / 2);
      f->body_bytes += (apr_int64_t)req->body_len / 2;
      if (f->forget_on_cut)
        apr_hash_set(f->sessions, apr_pstrmemdup(p, rest + 8, strcspn(rest + 8, "?")),
                     APR_HASH_KEY_STRING, NULL);
      return NULL;
    }
    dray_strbuf_append(b, req->body, req->body_len);
    f->body_bytes += (apr_int64_t)req->body_len;
    return answer(p, 202, apr_pstrcat(p, range_of(b, p), "Location: ", req->path, "\r\n", NULL),
                  NULL);
  }
  if (!strcmp(m, "PUT")) {
    const char *digest = query(req->path, "digest", p);
    f->puts++;
    if (!digest || strcmp(digest, dray_sha256_of(b->data, b->len, p)))
      return answer(p, 400, NULL, "{\"errors\":[{\"code\":\"DIGEST_INVALID\"}]}");
    apr_hash_set(f->blobs, apr_pstrcat(f->pool, repo, " ", digest, NULL), APR_HASH_KEY_STRING, b);
    return answer(p, 201, apr_psprintf(p, "Docker-Content-Digest: %s\r\n", digest), NULL);
  }
  return answer(p, 405, NULL, NULL);
}

static const char *fake_answer(fake_t *f, const testhttpd_request_t *req, apr_size_t *len,
                               apr_pool_t *p)
{
  const char *rest, *repo = split(req->path, &rest, "/blobs/", p);
  if (repo)
    return on_blobs(f, req, repo, rest, p);
  if (!strncmp(req->path, "/version", 8))
    return answer(p, 200, NULL, "{\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\"}");
  for (int i = 0; i < 2 && f->ids[i]; i++) {
    if (!strcmp(req->path, apr_pstrcat(p, "/v1.41/images/", f->names[i], "/json", NULL)))
      return answer(p, 200, NULL, f->inspect[i]);
    if (!strcmp(req->path, apr_pstrcat(p, "/v1.41/images/get?names=", f->ids[i], NULL))) {
      const char *head = apr_psprintf(p, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                                      "Content-Length: %lu\r\n\r\n",
                                      (unsigned long)f->saves[i].len);
      char *all = apr_palloc(p, strlen(head) + f->saves[i].len);
      memcpy(all, head, strlen(head));
      memcpy(all + strlen(head), f->saves[i].data, f->saves[i].len);
      *len = strlen(head) + f->saves[i].len;
      f->image_gets++;
      return all;
    }
  }
  repo = split(req->path, &rest, "/manifests/", p);
  if (repo && !strcmp(req->method, "PUT")) {
    dray_strbuf_t *m = apr_palloc(f->pool, sizeof(*m));
    dray_strbuf_init(m, req->body_len + 1, f->pool);
    dray_strbuf_append(m, req->body, req->body_len);
    apr_hash_set(f->stored_manifests, apr_pstrcat(f->pool, repo, ":", rest, NULL), APR_HASH_KEY_STRING, m);
    f->manifests++;
    return answer(p, 201, apr_psprintf(p, "Docker-Content-Digest: %s\r\n",
                                       f->manifest_digest ? f->manifest_digest
                                                          : dray_sha256_of(req->body, req->body_len, p)),
                  NULL);
  }
  return answer(p, 404, NULL, NULL);
}

static const char *fake_handle(void *baton, const testhttpd_request_t *req, apr_size_t *len,
                               apr_pool_t *p)
{
  fake_t *f = baton;
  const char *a;
  apr_thread_mutex_lock(f->lock);
  if (f->hang_ms) {
    f->hangs++;
    apr_sleep(apr_time_from_msec(f->hang_ms));
    apr_thread_mutex_unlock(f->lock);
    return NULL;
  }
  a = fake_answer(f, req, len, p);
  apr_thread_mutex_unlock(f->lock);
  return a;
}

/* ---- the tests ------------------------------------------------------------- */

typedef struct fixture_t {
  testhttpd_t httpd;
  fake_t fake;
  dray_upload_target_t t;
  char *blob;
  apr_size_t len;
  const char *digest;
  dray_blob_source_t source;
  int opens;                  /* times the source was opened */
  apr_int64_t last_open;      /* at which offset, last */
  dray_blob_source_t memory;
} fixture_t;

static dray_error_t *counting_open(void *baton, apr_int64_t offset, apr_pool_t *p)
{
  fixture_t *fx = baton;
  fx->opens++;
  fx->last_open = offset;
  return fx->memory.open(fx->memory.baton, offset, p);
}

static dray_error_t *counting_read(void *baton, char *buf, apr_size_t len, apr_size_t *got)
{
  fixture_t *fx = baton;
  return fx->memory.read(fx->memory.baton, buf, len, got);
}

static fixture_t *start(apr_size_t len)
{
  fixture_t *fx = apr_pcalloc(pool, sizeof(*fx));
  fx->len = len;
  fx->blob = apr_palloc(pool, len);
  for (apr_size_t i = 0; i < len; i++)
    fx->blob[i] = (char)(i * 7 + i / 251);
  fx->digest = dray_sha256_of(fx->blob, len, pool);
  dray_blob_source_memory(&fx->memory, fx->blob, len, pool);
  fx->source.open = counting_open;
  fx->source.read = counting_read;
  fx->source.baton = fx;
  assert_int_equal(testhttpd_start_handler(&fx->httpd, fake_handle, &fx->fake, pool), APR_SUCCESS);
  /* The fake's state lives in the server thread's pool (no request comes
   * before the test's first upload). */
  fx->fake.pool = fx->httpd.pool;
  fx->fake.blobs = apr_hash_make(fx->fake.pool);
  fx->fake.sessions = apr_hash_make(fx->fake.pool);
  fx->fake.stored_manifests = apr_hash_make(fx->fake.pool);
  assert_int_equal(apr_thread_mutex_create(&fx->fake.lock, APR_THREAD_MUTEX_DEFAULT,
                                           fx->fake.pool), APR_SUCCESS);
  fx->t.base_url = apr_psprintf(pool, "http://%s", testhttpd_host(&fx->httpd, pool));
  fx->t.repo = "team/app";
  fx->t.chunk_size = 40000;
  fx->t.retry_base = apr_time_from_msec(1);
  fx->t.stall_timeout = 1;
  return fx;
}

static int stored(fixture_t *fx, const char *repo)
{
  dray_strbuf_t *b = apr_hash_get(fx->fake.blobs, apr_pstrcat(pool, repo, " ", fx->digest, NULL),
                                  APR_HASH_KEY_STRING);
  return b && b->len == fx->len && !memcmp(b->data, fx->blob, fx->len);
}

static dray_error_t *upload(fixture_t *fx, dray_upload_stats_t *st, const char *from)
{
  return dray_upload_blob(st, &fx->t, fx->digest, (apr_int64_t)fx->len, from, &fx->source, pool);
}

static void test_chunked_upload_then_head_skips(void **state)
{
  fixture_t *fx = start(100000);
  dray_upload_stats_t st;
  (void)state;

  dray_test_no_error(upload(fx, &st, NULL));
  assert_int_equal(st.how, DRAY_UPLOAD_SENT);
  assert_true(stored(fx, "team/app"));
  assert_int_equal(fx->fake.patches, 3); /* 40000 + 40000 + 20000 */
  assert_int_equal(fx->fake.puts, 1);
  assert_int_equal(fx->opens, 1);        /* chunks follow on from one reading */
  assert_int_equal(st.bytes_sent, 100000);
  assert_int_equal(st.resumes, 0);

  /* Again: HEAD finds it, nothing is sent. */
  dray_test_no_error(upload(fx, &st, NULL));
  assert_int_equal(st.how, DRAY_UPLOAD_EXISTED);
  assert_int_equal(st.bytes_sent, 0);
  assert_int_equal(fx->fake.patches, 3);
  testhttpd_stop(&fx->httpd);
}

static void test_mount_and_refused_mount(void **state)
{
  fixture_t *fx = start(50000);
  dray_upload_stats_t st;
  (void)state;

  fx->t.repo = "team/base";
  dray_test_no_error(upload(fx, &st, NULL));
  fx->t.repo = "team/app";
  dray_test_no_error(upload(fx, &st, "team/base"));
  assert_int_equal(st.how, DRAY_UPLOAD_MOUNTED);
  assert_int_equal(st.bytes_sent, 0);
  assert_int_equal(fx->fake.mounts, 1);
  assert_true(stored(fx, "team/app"));

  /* Refused (202): the session it opens carries the upload. */
  fx->fake.refuse_mount = 1;
  fx->t.repo = "team/other";
  fx->fake.posts = 0;
  dray_test_no_error(upload(fx, &st, "team/base"));
  assert_int_equal(st.how, DRAY_UPLOAD_SENT);
  assert_true(st.mount_refused);
  assert_int_equal(fx->fake.posts, 1);
  assert_int_equal(st.bytes_sent, 50000);
  assert_true(stored(fx, "team/other"));
  testhttpd_stop(&fx->httpd);
}

static void test_resume_after_cut(void **state)
{
  fixture_t *fx = start(100000);
  dray_upload_stats_t st;
  (void)state;

  /* The second chunk is cut after half of it reached the registry: the
   * upload goes on from 60000, not from 40000 and not from 0. */
  fx->fake.cut_patch = 2;
  dray_test_no_error(upload(fx, &st, NULL));
  assert_int_equal(st.how, DRAY_UPLOAD_SENT);
  assert_true(stored(fx, "team/app"));
  assert_int_equal(st.resumes, 1);
  assert_int_equal(st.bytes_saved, 60000);
  assert_int_equal(fx->fake.gets, 1);
  assert_int_equal(fx->opens, 2);
  assert_int_equal(fx->last_open, 60000);
  assert_int_equal(fx->fake.body_bytes, 100000); /* nothing reached it twice */
  assert_int_equal(st.bytes_sent, 120000);        /* the cut chunk left whole, then 40000 */
  testhttpd_stop(&fx->httpd);
}

static void test_416_and_500_resume(void **state)
{
  fixture_t *fx = start(100000);
  dray_upload_stats_t st;
  volatile apr_uint32_t shared = 0;
  (void)state;

  fx->fake.patch_416 = 2;
  fx->fake.patch_500 = 3;
  fx->t.retries = &shared; /* the push's count, which -p auto reads as congestion */
  dray_test_no_error(upload(fx, &st, NULL));
  assert_true(stored(fx, "team/app"));
  assert_int_equal(fx->fake.gets, 2);
  assert_int_equal(st.resumes, 2);
  assert_int_equal(st.bytes_saved, 80000);
  assert_int_equal(fx->fake.body_bytes, 100000);
  /* The 416 and the 500: each chunk not taken is a failed request, each
   * followed by progress (the next chunk taken). */
  assert_int_equal(st.retries, 2);
  assert_int_equal(shared, 2);
  testhttpd_stop(&fx->httpd);
}

static void test_forgotten_session_starts_again(void **state)
{
  fixture_t *fx = start(100000);
  dray_upload_stats_t st;
  (void)state;

  fx->fake.cut_patch = 2;
  fx->fake.forget_on_cut = 1;
  dray_test_no_error(upload(fx, &st, NULL));
  assert_true(stored(fx, "team/app"));
  assert_int_equal(st.restarts, 1);
  assert_int_equal(st.resumes, 0);
  assert_int_equal(fx->fake.posts, 2);
  assert_int_equal(fx->last_open, 0);
  testhttpd_stop(&fx->httpd);
}

static void test_stall_is_cut_and_resumed(void **state)
{
  fixture_t *fx = start(100000);
  dray_upload_stats_t st;
  apr_time_t t0 = apr_time_now();
  (void)state;

  /* The registry takes the first chunk but answers only after 1.5 s; the
   * watchdog (1 s) gives up on the request, and the status (answered once
   * the registry is back, within the stall timeout) shows the chunk
   * arrived: nothing is sent again. (A registry silent for two stall
   * timeouts in a row ends the upload: test_hung_registry_two_stalls.) */
  fx->fake.stall_patch = 1;
  fx->fake.stall_ms = 1500;
  dray_test_no_error(upload(fx, &st, NULL));
  assert_true(stored(fx, "team/app"));
  assert_int_equal(st.resumes, 1);
  assert_int_equal(st.bytes_saved, 40000);
  assert_int_equal(fx->fake.body_bytes, 100000);
  assert_true(apr_time_now() - t0 < apr_time_from_sec(10));
  testhttpd_stop(&fx->httpd);
}

static void test_507_and_401_fail_at_once(void **state)
{
  fixture_t *fx = start(1000);
  dray_upload_stats_t st;
  dray_error_t *err;
  (void)state;

  fx->fake.post_507 = 1;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  assert_int_equal(st.http_status, 507);
  assert_int_equal(fx->fake.posts, 1); /* no retry: a full disk stays full */
  assert_non_null(strstr(dray_error_format(err, pool), "insufficient storage"));
  assert_non_null(strstr(dray_error_format(err, pool), "disk full"));
  dray_error_clear(err);

  /* A 401 to a HEAD (no body to quote): an auth error, not tried again,
   * whose words say so. */
  fx->fake.post_507 = 0;
  fx->fake.head_401 = 1;
  fx->fake.heads = 0;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_AUTH);
  assert_int_equal(fx->fake.heads, 1);
  assert_non_null(strstr(dray_error_format(err, pool), "HTTP 401 (unauthorized"));
  dray_error_clear(err);
  testhttpd_stop(&fx->httpd);
}

/* An authorize callback that gets through: what REFUSED and CHALLENGE were
 * at each call. */
static int refused_seen[4];
static const char *challenge_seen[4];
static int refused_calls;

static dray_error_t *recording_authorize(void *baton, int refused, const char *challenge,
                                         const char **authorization, apr_pool_t *result_pool)
{
  (void)baton;
  *authorization = apr_pstrdup(result_pool, "Bearer t");
  if (refused_calls < 4) {
    refused_seen[refused_calls] = refused;
    challenge_seen[refused_calls] = challenge ? apr_pstrdup(pool, challenge) : NULL;
  }
  refused_calls++;
  return DRAY_NO_ERROR;
}

/* A 401 asks the authorization again once, saying it was refused (so that
 * nothing cached is given again) and with the 401's own challenges (a
 * registry may ask on a write only); a second 401 in a row ends the
 * upload. */
static void test_401_asks_authorization_anew(void **state)
{
  fixture_t *fx = start(1000);
  dray_upload_stats_t st;
  dray_error_t *err;
  (void)state;

  fx->t.authorize = recording_authorize;
  refused_calls = 0;
  dray_test_no_error(upload(fx, &st, NULL));
  assert_int_equal(refused_calls, 1);
  assert_int_equal(refused_seen[0], 0);

  fx->fake.head_401 = 1;
  fx->fake.heads = 0;
  refused_calls = 0;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_AUTH);
  assert_int_equal(fx->fake.heads, 2);
  assert_int_equal(refused_calls, 2);
  assert_int_equal(refused_seen[0], 0);
  assert_null(challenge_seen[0]);
  assert_int_equal(refused_seen[1], 1);
  assert_string_equal(challenge_seen[1], "Basic realm=\"x\"\n"
                                         "Bearer realm=\"http://t/token\",service=\"s\"");
  dray_error_clear(err);
  testhttpd_stop(&fx->httpd);
}

static void test_unreachable_gives_up(void **state)
{
  dray_upload_target_t t;
  dray_upload_stats_t st;
  dray_blob_source_t src;
  dray_error_t *err;
  testhttpd_t dead;
  (void)state;

  /* A port nobody listens on any more. */
  assert_int_equal(testhttpd_start(&dead, NULL, 0, pool), APR_SUCCESS);
  memset(&t, 0, sizeof(t));
  t.base_url = apr_psprintf(pool, "http://%s", testhttpd_host(&dead, pool));
  testhttpd_stop(&dead);
  t.repo = "a/b";
  t.retry_base = apr_time_from_msec(1);
  dray_blob_source_memory(&src, "x", 1, pool);
  err = dray_upload_blob(&st, &t, dray_sha256_of("x", 1, pool), 1, NULL, &src, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_HTTP);
  assert_int_equal(st.retries, DRAY_RETRY_STREAK - 1);
  dray_error_clear(err);
}

/* The authorize callback that never gets through: how often it was asked. */
static int auth_calls;

static dray_error_t *refused_authorize(void *baton, int refused, const char *challenge,
                                       const char **authorization, apr_pool_t *result_pool)
{
  (void)baton;
  (void)refused;
  (void)challenge;
  (void)result_pool;
  *authorization = NULL;
  auth_calls++;
  return dray_error_create(DRAY_ERR_HTTP, NULL,
                           "registry r: GET http://r/v2/: Couldn't connect to server");
}

/* DRAY_RETRY_STREAK failed requests in a row, with no progress between
 * them, end the upload at once (no backoff beyond the streak's), whatever
 * fails: a request, or the authorization (one request of the upload's: it
 * is not retried anywhere else). */
static void test_streak_without_progress_ends_upload(void **state)
{
  fixture_t *fx = start(1000);
  dray_upload_stats_t st;
  dray_error_t *err;
  apr_time_t t0 = apr_time_now();
  (void)state;

  fx->fake.post_500 = 1;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  assert_int_equal(fx->fake.heads, 1);  /* answered: progress, then the POSTs */
  assert_int_equal(fx->fake.posts, DRAY_RETRY_STREAK);
  assert_int_equal(st.retries, DRAY_RETRY_STREAK - 1);
  assert_int_equal(st.http_status, 500);
  assert_non_null(strstr(dray_error_format(err, pool), "HTTP 500"));
  dray_error_clear(err);

  /* The authorization fails (nothing listens where the token comes from):
   * asked DRAY_RETRY_STREAK times, no request of the upload made. */
  fx->fake.post_500 = 0;
  fx->fake.heads = 0;
  fx->t.authorize = refused_authorize;
  auth_calls = 0;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  assert_int_equal(auth_calls, DRAY_RETRY_STREAK);
  assert_int_equal(fx->fake.heads, 0);
  assert_non_null(strstr(dray_error_format(err, pool), "authorization"));
  assert_non_null(strstr(dray_error_format(err, pool), "Couldn't connect"));
  dray_error_clear(err);
  assert_true(apr_time_now() - t0 < apr_time_from_sec(2));
  testhttpd_stop(&fx->httpd);
}

/* Progress (a chunk taken) ends the streak: failures separated by progress
 * never end the upload, however many there are in all. */
static void test_progress_resets_streak(void **state)
{
  fixture_t *fx = start(200000);
  dray_upload_stats_t st;
  (void)state;

  fx->fake.patch_500_every = 2; /* 5 chunks: every second PATCH fails */
  dray_test_no_error(upload(fx, &st, NULL));
  assert_true(stored(fx, "team/app"));
  assert_int_equal(st.retries, 4);
  assert_true(st.retries > DRAY_RETRY_STREAK);
  assert_int_equal(fx->fake.body_bytes, 200000);
  testhttpd_stop(&fx->httpd);
}

/* Going round again is no progress: a registry that forgets the session
 * whenever the second chunk is cut takes the first chunk again each time,
 * which does not pass what the upload reached before: the streak ends it. */
static void test_going_round_is_no_progress(void **state)
{
  fixture_t *fx = start(100000);
  dray_upload_stats_t st;
  dray_error_t *err;
  (void)state;

  fx->fake.cut_from = 40000;
  fx->fake.forget_on_cut = 1;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  /* 0 ok, 40000 cut (1), session gone (2), 0 ok again, 40000 cut (3). */
  assert_int_equal(fx->fake.patches, 4);
  assert_int_equal(fx->fake.posts, 2);
  assert_int_equal(st.restarts, 1);
  dray_error_clear(err);

  /* A registry that answers 416 to every chunk, whatever offset it names. */
  fx->fake.cut_from = 0;
  fx->fake.patches = 0;
  fx->fake.patch_416_all = 1;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  assert_int_equal(fx->fake.patches, DRAY_RETRY_STREAK);
  assert_int_equal(st.http_status, 416);
  dray_error_clear(err);
  testhttpd_stop(&fx->httpd);
}

/* A registry that takes connections and never answers: each request is cut
 * by its watchdog after the stall timeout (1 s); the streak they make ends
 * once it has lasted the stall timeout: after the second, not the third. */
static void test_hung_registry_two_stalls(void **state)
{
  fixture_t *fx = start(1000);
  dray_upload_stats_t st;
  dray_error_t *err;
  apr_time_t t0 = apr_time_now();
  (void)state;

  fx->fake.hang_ms = 1500;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_STALLED);
  assert_int_equal(st.retries, 1);
  assert_true(apr_time_now() - t0 < apr_time_from_msec(3500));
  dray_error_clear(err);
  testhttpd_stop(&fx->httpd);
  assert_int_equal(fx->fake.hangs, 2);
}

/* An upload that ends on a hung PATCH names the session's URL without its
 * query: the registry's signed state is not for messages or logs. */
static void test_error_hides_session_state(void **state)
{
  fixture_t *fx = start(1000);
  dray_upload_stats_t st;
  dray_error_t *err;
  const char *msg;
  (void)state;

  fx->fake.stall_patch_all = 1;
  fx->fake.stall_ms = 1500;
  err = upload(fx, &st, NULL);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_STALLED);
  msg = dray_error_format(err, pool);
  assert_non_null(strstr(msg, "PATCH http://"));
  assert_non_null(strstr(msg, "/blobs/uploads/"));
  assert_null(strstr(msg, "_state"));
  dray_error_clear(err);
  testhttpd_stop(&fx->httpd);
}

static void test_manifest_put(void **state)
{
  fixture_t *fx = start(10);
  dray_upload_stats_t st;
  dray_error_t *err;
  const char *body = "{\"schemaVersion\":2}";
  const char *digest = dray_sha256_of(body, strlen(body), pool);
  (void)state;

  dray_test_no_error(dray_upload_manifest(&st, &fx->t, "v1", "application/x", body,
                                          strlen(body), digest, pool));
  assert_int_equal(fx->fake.manifests, 1);
  assert_string_equal(fx->httpd.last_request, "PUT /v2/team/app/manifests/v1");

  fx->fake.manifest_digest = dray_sha256_of("other", 5, pool);
  err = dray_upload_manifest(&st, &fx->t, "v1", "application/x", body, strlen(body), digest,
                             pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_PROTOCOL);
  dray_error_clear(err);
  testhttpd_stop(&fx->httpd);
}

/* ---- the run-wide blob tracker ----------------------------------------------- */

typedef struct claimer_t {
  dray_blobtrack_t *track;
  const char *digest;
  const char *holder;
  volatile apr_uint32_t done;
  apr_pool_t *pool;
} claimer_t;

static void *APR_THREAD_FUNC claim_thread(apr_thread_t *thread, void *baton)
{
  claimer_t *c = baton;
  dray_error_t *err = dray_blobtrack_claim(&c->holder, c->track, "reg", c->digest, NULL, c->pool);
  dray_error_clear(err);
  apr_atomic_set32(&c->done, 1);
  apr_thread_exit(thread, APR_SUCCESS);
  return NULL;
}

/* A second claim waits for the first to end: done, it names the holder;
 * failed, the blob is the second claimer's to upload. */
static void wait_for_first(dray_blobtrack_t *track, const char *digest, int fail_first,
                           const char *want)
{
  claimer_t c;
  apr_thread_t *thread;
  apr_status_t rv;
  apr_pool_t *tpool;
  const char *holder;

  dray_test_no_error(dray_blobtrack_claim(&holder, track, "reg", digest, NULL, pool));
  assert_null(holder); /* first: ours to upload */
  memset(&c, 0, sizeof(c));
  c.track = track;
  c.digest = digest;
  assert_int_equal(dray_pool_create_threadsafe(&tpool, pool), APR_SUCCESS);
  c.pool = tpool;
  assert_int_equal(apr_thread_create(&thread, NULL, claim_thread, &c, tpool), APR_SUCCESS);
  apr_sleep(apr_time_from_msec(300));
  assert_int_equal(apr_atomic_read32(&c.done), 0); /* still waiting */
  if (fail_first)
    dray_blobtrack_failed(track, "reg", digest);
  else
    dray_blobtrack_done(track, "reg", digest, "team/first");
  apr_thread_join(&rv, thread);
  assert_int_equal(apr_atomic_read32(&c.done), 1);
  if (want)
    assert_string_equal(c.holder, want);
  else
    assert_null(c.holder);
}

static void test_blobtrack(void **state)
{
  dray_blobtrack_t *track;
  const char *holder;
  (void)state;
  dray_test_no_error(dray_blobtrack_create(&track, pool));
  wait_for_first(track, "sha256:aa", 0, "team/first");
  wait_for_first(track, "sha256:bb", 1, NULL);
  /* Known: no wait; another registry is another blob. */
  dray_test_no_error(dray_blobtrack_claim(&holder, track, "reg", "sha256:aa", NULL, pool));
  assert_string_equal(holder, "team/first");
  dray_test_no_error(dray_blobtrack_claim(&holder, track, "other", "sha256:aa", NULL, pool));
  assert_null(holder);
}

/* ---- the whole driver -------------------------------------------------------- */

static char *bytes(apr_size_t n, unsigned seed, apr_pool_t *p)
{
  char *b = apr_palloc(p, n);
  for (apr_size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    b[i] = (char)(seed >> 16);
  }
  return b;
}

/* Image I of the fake engine: the shared BASE layer and a TOP of its own, in
 * the legacy "docker save" layout (the config as <id>.json, each layer as
 * <folder>/layer.tar, manifest.json last). */
static void fake_image(fake_t *f, int i, const char *name, const char *base, apr_size_t base_len,
                       const char *top, apr_size_t top_len)
{
  const char *config = apr_psprintf(pool, "{\"architecture\":\"amd64\",\"os\":\"linux\","
                                    "\"config\":{\"Env\":[\"N=%d\"]}}", i);
  const char *base_id = dray_sha256_of(base, base_len, pool);
  const char *top_id = dray_sha256_of(top, top_len, pool);
  f->ids[i] = dray_sha256_of(config, strlen(config), pool);
  f->config_len[i] = (apr_int64_t)strlen(config);
  f->names[i] = name;
  f->inspect[i] = apr_psprintf(pool, "{\"Id\":\"%s\",\"RootFS\":{\"Type\":\"layers\","
                               "\"Layers\":[\"%s\",\"%s\"]}}", f->ids[i], base_id, top_id);
  dray_strbuf_init(&f->saves[i], 0, pool);
  /* The folder names say nothing of the diff IDs, as in docker 20.10. */
  testtar_file(&f->saves[i], "0a1b", '5', "", 0, NULL);
  testtar_file(&f->saves[i], "0a1b/VERSION", '0', "1.0", 3, NULL);
  testtar_file(&f->saves[i], "0a1b/layer.tar", '0', top, top_len, NULL);
  testtar_file(&f->saves[i], apr_pstrcat(pool, f->ids[i] + 7, ".json", NULL), '0', config,
               strlen(config), NULL);
  testtar_file(&f->saves[i], "9f8e/layer.tar", '0', base, base_len, NULL);
  testtar_file(&f->saves[i], "manifest.json", '0', "[]", 2, NULL);
  testtar_end(&f->saves[i]);
}

static apr_int64_t manifest_bytes(fake_t *f)
{
  apr_int64_t n = 0;
  for (apr_hash_index_t *hi = apr_hash_first(pool, f->stored_manifests); hi; hi = apr_hash_next(hi))
    n += (apr_int64_t)((dray_strbuf_t *)apr_hash_this_val(hi))->len;
  return n;
}

static const char *gzip_digest(const char *data, apr_size_t len, apr_int64_t *size)
{
  dray_blob_writer_t *w;
  const char *digest;
  dray_test_no_error(dray_blob_writer_create(&w, NULL, NULL, pool));
  dray_test_no_error(dray_blob_writer_write(w, data, len));
  dray_test_no_error(dray_blob_writer_finish(w, &digest, size, pool));
  return digest;
}

/* Two images sharing a base layer, made in the fake (the engine's answers
 * there); their references in REFS. Returns the base. */
static const char *fake_two_images(fixture_t *fx, const char **refs, apr_size_t base_len,
                                   apr_size_t top_len)
{
  const char *host = testhttpd_host(&fx->httpd, pool);
  char *base = bytes(base_len, 1, pool);
  for (int i = 0; i < 2; i++) {
    char *top = bytes(top_len, 7 + (unsigned)i, pool);
    refs[i] = apr_psprintf(pool, "%s/team/app%d:v1", host, i);
    fake_image(&fx->fake, i, refs[i], base, base_len, top, top_len);
  }
  return base;
}

/* The group's run folder for spills, as dray has one per run (made in the
 * temporary folder when first used, removed with the group's pool). */
static dray_runtmp_t *group_runtmp;

static dray_runtmp_t *test_runtmp(void)
{
  if (!group_runtmp)
    dray_test_no_error(dray_runtmp_create(&group_runtmp, NULL, pool));
  return group_runtmp;
}

/* Whether PATH is a file right inside the group's run folder. */
static int in_run_folder(const char *path)
{
  const char *dir;
  apr_size_t len;
  dray_test_no_error(dray_runtmp_path(&dir, test_runtmp()));
  len = strlen(dir);
  return strncmp(path, dir, len) == 0 && path[len] == '/' && !strchr(path + len + 1, '/');
}

/* The registry driver reading the two images of fake_two_images from
 * SOURCE: each pushed, its config the image, the base uploaded once and
 * mounted once; each image read once to learn its blobs, each layer once
 * more (*IMAGE_GETS counts the reads: the engine's or the command's). */
static void check_registry_driver(fixture_t *fx, const dray_image_source_t *source,
                                  const char *const *refs, const char *base,
                                  apr_size_t base_len, apr_size_t top_len,
                                  int (*image_gets)(fixture_t *fx))
{
  dray_registry_t *registry;
  dray_push_driver_t *driver;
  apr_int64_t base_size, sent = 0;
  const char *base_digest = gzip_digest(base, base_len, &base_size);
  int gets0;

  {
    /* A layer whose digest and tar size the caller knows is only hashed,
     * not compressed again: a given (here deliberately wrong) digest
     * stays, the entry is found, the other layer is compressed into a
     * spill that holds its blob. One read of the image. */
    dray_image_blobs_t *blobs;
    dray_image_layer_t *l0, *l1;
    apr_int64_t top_size;
    const char *top_digest = gzip_digest(bytes(top_len, 7, pool), top_len, &top_size);
    const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    int gets = image_gets(fx);
    dray_test_no_error(dray_image_inspect(&blobs, source, refs[0], NULL, pool, pool));
    l0 = &APR_ARRAY_IDX(blobs->layers, 0, dray_image_layer_t);
    l1 = &APR_ARRAY_IDX(blobs->layers, 1, dray_image_layer_t);
    l0->digest = wrong;
    l0->size = 1;
    l0->raw_size = (apr_int64_t)base_len;
    dray_test_no_error(dray_image_read_blobs(blobs, source, NULL, pool, pool));
    assert_int_equal(image_gets(fx) - gets, 1);
    assert_string_equal(l0->digest, wrong);
    assert_int_equal(l0->size, 1);
    assert_non_null(l0->entry);
    assert_null(l0->spill);
    assert_string_equal(l1->digest, top_digest);
    assert_int_equal(l1->size, top_size);
    assert_int_equal(l1->raw_size, (apr_int64_t)top_len);
    assert_non_null(l1->spill);
    assert_true(in_run_folder(l1->spill));
    {
      apr_file_t *f;
      apr_finfo_t fi;
      char *data;
      apr_size_t got;
      assert_int_equal(apr_file_open(&f, l1->spill, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool),
                       APR_SUCCESS);
      assert_int_equal(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
      assert_int_equal(fi.size, top_size);
      data = apr_palloc(pool, (apr_size_t)top_size);
      got = (apr_size_t)top_size;
      assert_int_equal(apr_file_read_full(f, data, got, &got), APR_SUCCESS);
      assert_string_equal(dray_sha256_of(data, got, pool), top_digest);
      apr_file_close(f);
    }
    assert_non_null(blobs->config);

    /* A known digest without the tar's size: compressed anyway (the
     * layer's real digest); a known tar size that another layer has too
     * (the top, first in the stream, taken for the known base): that
     * entry is compressed in a second read. */
    for (int k = 0; k < 2; k++) {
      gets = image_gets(fx);
      dray_test_no_error(dray_image_inspect(&blobs, source, refs[0], NULL, pool, pool));
      l0 = &APR_ARRAY_IDX(blobs->layers, 0, dray_image_layer_t);
      l1 = &APR_ARRAY_IDX(blobs->layers, 1, dray_image_layer_t);
      l0->digest = wrong;
      l0->size = 1;
      l0->raw_size = k ? (apr_int64_t)top_len : 0;
      dray_test_no_error(dray_image_read_blobs(blobs, source, NULL, pool, pool));
      assert_int_equal(image_gets(fx) - gets, k ? 2 : 1);
      assert_string_equal(l0->digest, base_digest);
      assert_non_null(l0->spill);
      assert_string_equal(l1->digest, top_digest);
      assert_non_null(l1->spill);
    }
  }
  gets0 = image_gets(fx);

  dray_test_no_error(dray_registry_create(&registry, NULL, NULL, pool));
  dray_test_no_error(dray_push_registry_driver_create(&driver, source, registry, 2, pool));
  assert_string_equal(driver->name, "registry");

  for (int i = 0; i < 2; i++) {
    dray_push_request_t req;
    dray_push_result_t res;
    dray_strbuf_t *m;
    json_t *root, *layers;
    memset(&req, 0, sizeof(req));
    req.reference = refs[i];
    req.stall_timeout = 5;
    dray_test_no_error(driver->push(driver, &req, &res, pool, pool));
    assert_int_equal(res.outcome, DRAY_OUTCOME_OK);
    sent += res.bytes_sent;

    /* The manifest the registry got: the config is the image (same ID),
     * the layers are the deterministic blobs, base first. */
    m = apr_hash_get(fx->fake.stored_manifests, apr_psprintf(pool, "team/app%d:v1", i),
                     APR_HASH_KEY_STRING);
    assert_non_null(m);
    assert_string_equal(res.digest, dray_sha256_of(m->data, m->len, pool));
    assert_int_equal(res.size, (apr_int64_t)m->len);
    root = json_loadb(m->data, m->len, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "config"), "digest")),
                        fx->fake.ids[i]);
    layers = json_object_get(root, "layers");
    assert_int_equal(json_array_size(layers), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(layers, 0), "digest")),
                        base_digest);
    json_decref(root);
  }
  /* The base went up once: the second image mounted it from the first. */
  assert_int_equal(fx->fake.mounts, 1);
  {
    dray_strbuf_t *b = apr_hash_get(fx->fake.blobs, apr_pstrcat(pool, "team/app1 ", base_digest, NULL),
                                    APR_HASH_KEY_STRING);
    char *back = apr_palloc(pool, base_len);
    uLongf back_len = (uLongf)base_len;
    z_stream z;
    assert_non_null(b);
    assert_int_equal((apr_int64_t)b->len, base_size);
    /* and it gunzips to the layer */
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)b->data;
    z.avail_in = (uInt)b->len;
    z.next_out = (Bytef *)back;
    z.avail_out = (uInt)back_len;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, base_len);
    inflateEnd(&z);
    assert_memory_equal(back, base, base_len);
  }
  /* Each blob's bytes went up once: two configs, two tops, one base. */
  {
    apr_int64_t top0, top1;
    gzip_digest(bytes(top_len, 7, pool), top_len, &top0);
    gzip_digest(bytes(top_len, 8, pool), top_len, &top1);
    assert_int_equal(fx->fake.body_bytes, base_size + top0 + top1 + fx->fake.config_len[0]
                                              + fx->fake.config_len[1]);
    assert_int_equal(sent, fx->fake.body_bytes + manifest_bytes(&fx->fake));
  }
  /* Each image read once: the first compressing both layers, the second,
   * whose base the run knows, hashing that and compressing its own; the
   * uploads read the spills, not the engine. */
  assert_int_equal(image_gets(fx) - gets0, 2);

  /* Again (a retry, another tag): the run knows the image's blobs, the
   * registry has them all: no read of the image, no byte of a blob. */
  {
    dray_push_request_t req;
    dray_push_result_t res;
    apr_int64_t before = fx->fake.body_bytes;
    memset(&req, 0, sizeof(req));
    req.reference = refs[0];
    req.stall_timeout = 5;
    dray_test_no_error(driver->push(driver, &req, &res, pool, pool));
    assert_int_equal(image_gets(fx) - gets0, 2);
    assert_int_equal(fx->fake.body_bytes, before);
  }
}

/* The fake's images served by an engine of their own (another server: an
 * upload reads from it while the registry reads the upload). */
static const dray_image_source_t *fake_engine(testhttpd_t *engine_httpd, fake_t *f)
{
  const dray_engine_endpoint_t *ep;
  dray_engine_t *engine;
  assert_int_equal(testhttpd_start_handler(engine_httpd, fake_handle, f, pool), APR_SUCCESS);
  dray_test_no_error(dray_engine_resolve(&ep, apr_pstrcat(pool, "tcp://",
                                                          testhttpd_host(engine_httpd, pool), NULL),
                                         NULL, NULL, pool, pool));
  dray_test_no_error(dray_engine_open(&engine, ep, NULL, pool, pool));
  return dray_image_source_engine(engine, test_runtmp(), pool);
}

/* A registry driver reading the fake's images from FAKE_ENGINE. */
static dray_push_driver_t *fake_engine_driver(testhttpd_t *engine_httpd, fake_t *f)
{
  dray_registry_t *registry;
  dray_push_driver_t *driver;
  const dray_image_source_t *source = fake_engine(engine_httpd, f);
  dray_test_no_error(dray_registry_create(&registry, NULL, NULL, pool));
  dray_test_no_error(dray_push_registry_driver_create(&driver, source, registry, 2, pool));
  return driver;
}

static int engine_gets(fixture_t *fx)
{
  return fx->fake.image_gets;
}

static void test_registry_driver(void **state)
{
  fixture_t *fx = start(1);
  testhttpd_t engine_httpd;
  apr_size_t base_len = 300000, top_len = 20000;
  const char *refs[2], *base = fake_two_images(fx, refs, base_len, top_len);
  (void)state;

  check_registry_driver(fx, fake_engine(&engine_httpd, &fx->fake), refs, base, base_len,
                        top_len, engine_gets);
  testhttpd_stop(&engine_httpd);
  testhttpd_stop(&fx->httpd);
}

/* DATA gzipped as another compressor would (level 9, a name in the
 * header), in two members when TWO (as parallel compressors write). */
static const char *other_gzip(apr_size_t *out_len, const char *data, apr_size_t len, int two)
{
  apr_size_t cap = len + len / 10 + 1024, at = 0;
  char *out = apr_palloc(pool, cap);
  for (int m = 0; m < (two ? 2 : 1); m++) {
    apr_size_t from = two && m ? len / 2 : 0, to = two && !m ? len / 2 : len;
    z_stream z;
    gz_header h;
    memset(&z, 0, sizeof(z));
    memset(&h, 0, sizeof(h));
    h.name = (Bytef *)"layer.tar";
    h.os = 3;
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
    assert_int_equal(deflateSetHeader(&z, &h), Z_OK);
    z.next_in = (Bytef *)data + from;
    z.avail_in = (uInt)(to - from);
    z.next_out = (Bytef *)out + at;
    z.avail_out = (uInt)(cap - at);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    at += z.total_out;
    deflateEnd(&z);
  }
  *out_len = at;
  return out;
}

static void test_registry_driver_pushes_engine_blobs_as_they_are(void **state)
{
  /* The containerd image store (docker 25+) exports an image as an OCI
   * layout whose layers are the gzip blobs it keeps: pushed byte for
   * byte (their digests are the engine's), their diff IDs checked on
   * what they inflate to. */
  fixture_t *fx = start(1);
  testhttpd_t engine_httpd;
  apr_size_t base_len = 300000, top_len = 20000, gbase_len, gtop_len;
  char *base = bytes(base_len, 1, pool), *top = bytes(top_len, 9, pool);
  const char *gbase = other_gzip(&gbase_len, base, base_len, 0);
  const char *gtop = other_gzip(&gtop_len, top, top_len, 1); /* two members */
  const char *gbase_d = dray_sha256_of(gbase, gbase_len, pool);
  const char *gtop_d = dray_sha256_of(gtop, gtop_len, pool);
  const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
  const char *ref = apr_psprintf(pool, "%s/team/packed:v1", testhttpd_host(&fx->httpd, pool));
  dray_push_driver_t *driver;
  dray_push_request_t req;
  dray_push_result_t res;
  dray_strbuf_t *b;
  fake_t *f = &fx->fake;
  (void)state;

  f->ids[0] = dray_sha256_of(config, strlen(config), pool);
  f->names[0] = ref;
  f->inspect[0] = apr_psprintf(pool, "{\"Id\":\"%s\",\"RootFS\":{\"Type\":\"layers\","
                               "\"Layers\":[\"%s\",\"%s\"]}}", f->ids[0],
                               dray_sha256_of(base, base_len, pool),
                               dray_sha256_of(top, top_len, pool));
  dray_strbuf_init(&f->saves[0], 0, pool);
  testtar_file(&f->saves[0], "blobs/sha256/", '5', "", 0, NULL);
  testtar_file(&f->saves[0], apr_pstrcat(pool, "blobs/sha256/", gtop_d + 7, NULL), '0', gtop,
               gtop_len, NULL);
  testtar_file(&f->saves[0], apr_pstrcat(pool, "blobs/sha256/", f->ids[0] + 7, NULL), '0',
               config, strlen(config), NULL);
  testtar_file(&f->saves[0], apr_pstrcat(pool, "blobs/sha256/", gbase_d + 7, NULL), '0', gbase,
               gbase_len, NULL);
  testtar_file(&f->saves[0], "index.json", '0', "{}", 2, NULL);
  testtar_file(&f->saves[0], "oci-layout", '0', "{}", 2, NULL);
  testtar_end(&f->saves[0]);

  driver = fake_engine_driver(&engine_httpd, f);
  memset(&req, 0, sizeof(req));
  req.reference = ref;
  req.stall_timeout = 5;
  dray_test_no_error(driver->push(driver, &req, &res, pool, pool));
  assert_int_equal(res.outcome, DRAY_OUTCOME_OK);
  b = apr_hash_get(f->blobs, apr_pstrcat(pool, "team/packed ", gbase_d, NULL), APR_HASH_KEY_STRING);
  assert_non_null(b);
  assert_int_equal(b->len, gbase_len);
  assert_memory_equal(b->data, gbase, gbase_len);
  b = apr_hash_get(f->blobs, apr_pstrcat(pool, "team/packed ", gtop_d, NULL), APR_HASH_KEY_STRING);
  assert_non_null(b);
  assert_memory_equal(b->data, gtop, gtop_len);
  assert_int_equal(f->image_gets, 1);

  /* The registry loses them: the run reads them from the engine again,
   * still as they are. */
  apr_hash_clear(f->blobs);
  dray_test_no_error(driver->push(driver, &req, &res, pool, pool));
  b = apr_hash_get(f->blobs, apr_pstrcat(pool, "team/packed ", gbase_d, NULL), APR_HASH_KEY_STRING);
  assert_non_null(b);
  assert_memory_equal(b->data, gbase, gbase_len);
  assert_int_equal(f->image_gets, 3);
  testhttpd_stop(&engine_httpd);
  testhttpd_stop(&fx->httpd);
}

static void test_registry_driver_keeps_reads_until_pushed(void **state)
{
  fixture_t *fx = start(1);
  testhttpd_t engine_httpd;
  apr_size_t base_len = 300000, top_len = 20000;
  const char *refs[2];
  dray_push_driver_t *driver;
  dray_push_request_t req;
  dray_push_result_t res;
  dray_error_t *err;
  (void)state;

  fake_two_images(fx, refs, base_len, top_len);
  driver = fake_engine_driver(&engine_httpd, &fx->fake);
  memset(&req, 0, sizeof(req));
  req.reference = refs[0];
  req.stall_timeout = 5;

  /* The first attempt fails (507): its read is kept, spills and all, */
  fx->fake.post_507 = 1;
  err = driver->push(driver, &req, &res, pool, pool);
  assert_non_null(err);
  dray_error_clear(err);
  assert_int_equal(fx->fake.image_gets, 1);
  /* so that the retry only uploads. */
  fx->fake.post_507 = 0;
  dray_test_no_error(driver->push(driver, &req, &res, pool, pool));
  assert_int_equal(res.outcome, DRAY_OUTCOME_OK);
  assert_int_equal(fx->fake.image_gets, 1);
  assert_non_null(apr_hash_get(fx->fake.stored_manifests, "team/app0:v1", APR_HASH_KEY_STRING));

  /* Pushed, the spills are gone. The registry loses the blobs: the run
   * knows the image's blobs but has no spill, so each layer is read from
   * the engine again, compressed to the same blob. */
  apr_hash_clear(fx->fake.blobs);
  dray_test_no_error(driver->push(driver, &req, &res, pool, pool));
  assert_int_equal(res.outcome, DRAY_OUTCOME_OK);
  assert_int_equal(fx->fake.image_gets, 1 + 2);
  assert_int_equal(apr_hash_count(fx->fake.blobs), 3);

  /* Read ahead (the builder, right after the build): the push then reads
   * nothing more from the engine; a second read ahead does nothing. */
  assert_non_null(driver->prepare);
  driver->prepare(driver, refs[1], NULL, NULL, pool);
  assert_int_equal(fx->fake.image_gets, 4);
  driver->prepare(driver, refs[1], NULL, NULL, pool);
  assert_int_equal(fx->fake.image_gets, 4);
  req.reference = refs[1];
  dray_test_no_error(driver->push(driver, &req, &res, pool, pool));
  assert_int_equal(res.outcome, DRAY_OUTCOME_OK);
  assert_int_equal(fx->fake.image_gets, 4);
  assert_non_null(apr_hash_get(fx->fake.stored_manifests, "team/app1:v1", APR_HASH_KEY_STRING));
  testhttpd_stop(&engine_httpd);
  testhttpd_stop(&fx->httpd);
}

#ifndef _WIN32
/* ---- podman: the same images through its CLI ("podman save") -------------- */

static const char *fake_cli_dir;

static void put_bytes(const char *path, const char *data, apr_size_t len, apr_fileperms_t perms)
{
  apr_file_t *f;
  assert_int_equal(apr_file_open(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE
                                               | APR_FOPEN_BINARY, perms, pool), APR_SUCCESS);
  assert_int_equal(apr_file_write_full(f, data, len, NULL), APR_SUCCESS);
  apr_file_close(f);
}

/* "podman save" runs the fake CLI logged. */
static int command_gets(fixture_t *fx)
{
  apr_file_t *f;
  char line[4096];
  int n = 0;
  (void)fx;
  if (apr_file_open(&f, apr_pstrcat(pool, fake_cli_dir, "/calls", NULL), APR_FOPEN_READ, 0,
                    pool) != APR_SUCCESS)
    return 0; /* not called yet */
  while (apr_file_gets(line, sizeof(line), f) == APR_SUCCESS)
    n += !strncmp(line, "save --format docker-archive ", 29);
  apr_file_close(f);
  return n;
}

/* A fake podman (a shell script) answering "image inspect" as podman does
 * (an array; the ID without "sha256:") and "save" with the fake's streams,
 * saying something on stderr each time (never part of the stream). */
static const char *fake_podman(fixture_t *fx, const char *const *refs)
{
  const char *dir = fake_cli_dir = dray_test_make_root("dray-fake-podman", pool);
  const char *cases = "", *script;
  for (int i = 0; i < 2; i++) {
    const char *id = fx->fake.ids[i];
    const char *rest = fx->fake.inspect[i] + strlen("{\"Id\":\"") + strlen(id);
    const char *inspect = apr_pstrcat(pool, "[{\"Id\":\"", id + 7, rest, "]\n", NULL);
    const char *ipath = apr_psprintf(pool, "%s/inspect%d", dir, i);
    const char *spath = apr_psprintf(pool, "%s/save%d", dir, i);
    put_bytes(ipath, inspect, strlen(inspect), APR_FPROT_OS_DEFAULT);
    put_bytes(spath, fx->fake.saves[i].data, fx->fake.saves[i].len, APR_FPROT_OS_DEFAULT);
    cases = apr_psprintf(pool, "%s\"image:%s\") cat '%s' ;;\n\"save:%s\") cat '%s' ;;\n", cases,
                         refs[i], ipath, id, spath);
  }
  script = apr_psprintf(pool,
                        "#!/bin/sh\n"
                        "echo \"$*\" >> '%s/calls'\n"
                        "echo 'WARN[0000] a message on stderr' >&2\n"
                        "for a; do last=$a; done\n"
                        "case \"$1:$last\" in\n%s"
                        "*) echo \"Error: $last: image not known\" >&2; exit 125 ;;\n"
                        "esac\n",
                        dir, cases);
  put_bytes(apr_pstrcat(pool, dir, "/podman", NULL), script, strlen(script),
            APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE);
  return apr_pstrcat(pool, dir, "/podman", NULL);
}

static void test_registry_driver_from_podman(void **state)
{
  fixture_t *fx = start(1);
  apr_size_t base_len = 300000, top_len = 20000;
  const char *refs[2], *base = fake_two_images(fx, refs, base_len, top_len);
  const dray_image_source_t *source = dray_image_source_command(fake_podman(fx, refs), NULL,
                                                                      test_runtmp(), pool);
  const char *id;
  dray_image_blobs_t *blobs;
  dray_error_t *err;
  (void)state;

  check_registry_driver(fx, source, refs, base, base_len, top_len, command_gets);
  /* podman's ID as a digest; an image it does not know: not found, with
   * its own words. */
  dray_test_no_error(dray_image_source_id(&id, source, refs[1], NULL, pool, pool));
  assert_string_equal(id, fx->fake.ids[1]);
  err = dray_image_inspect(&blobs, source, "nosuch", NULL, pool, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_NOT_FOUND);
  assert_non_null(strstr(dray_error_format(err, pool), "nosuch: image not known"));
  dray_error_clear(err);
  testhttpd_stop(&fx->httpd);
  dray_test_remove_tree(fake_cli_dir, pool);
}
#endif

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chunked_upload_then_head_skips),
      cmocka_unit_test(test_mount_and_refused_mount),
      cmocka_unit_test(test_resume_after_cut),
      cmocka_unit_test(test_416_and_500_resume),
      cmocka_unit_test(test_forgotten_session_starts_again),
      cmocka_unit_test(test_stall_is_cut_and_resumed),
      cmocka_unit_test(test_507_and_401_fail_at_once),
      cmocka_unit_test(test_401_asks_authorization_anew),
    cmocka_unit_test(test_unreachable_gives_up),
      cmocka_unit_test(test_streak_without_progress_ends_upload),
      cmocka_unit_test(test_progress_resets_streak),
      cmocka_unit_test(test_going_round_is_no_progress),
      cmocka_unit_test(test_hung_registry_two_stalls),
    cmocka_unit_test(test_error_hides_session_state),
      cmocka_unit_test(test_manifest_put),
      cmocka_unit_test(test_blobtrack),
      cmocka_unit_test(test_registry_driver_keeps_reads_until_pushed),
      cmocka_unit_test(test_registry_driver_pushes_engine_blobs_as_they_are),
      cmocka_unit_test(test_registry_driver),
#ifndef _WIN32
      cmocka_unit_test(test_registry_driver_from_podman),
#endif
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
}
