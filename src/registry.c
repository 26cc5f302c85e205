/* registry.c — manifest HEAD with anonymous, Basic and Bearer authentication. */
#include "dray/registry.h"

#include <stdlib.h>
#include <string.h>

#include <apr_cstr.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_thread_mutex.h>
#include <curl/curl.h>
#include <jansson.h>

#include "dray/backoff.h"
#include "dray/http.h"
#include "dray/ref.h"

typedef struct token_t {
  char *token;                /* malloc'd: replaced under the lock */
  apr_time_t expires;
} token_t;

struct dray_registry_t {
  dray_auth_config_t *auth;
  apr_array_header_t *insecure;
  apr_thread_mutex_t *lock;   /* guards tokens and pings */
  apr_pool_t *cache_pool;
  apr_hash_t *tokens;         /* "host scope" -> token_t */
  apr_hash_t *pings;          /* host -> ping_t */
  long low_speed_sec;         /* each request's no-progress limit */
  int attempts;               /* the streak's limit for callers without a retry
                                 policy of their own (manifest_call) */
};

/* What GET /v2/ told of a host: asked once per run, as docker's challenge
 * manager does, and again only after the registry refused what its answer
 * led to (a 401). Both challenges NULL: the host wants no authorization. */
typedef struct ping_t {
  int known;                  /* 0: ask (again) */
  char *bearer;               /* malloc'd like the tokens, or NULL */
  char *basic;
} ping_t;

static void forget_ping(ping_t *p)
{
  free(p->bearer);
  free(p->basic);
  p->bearer = p->basic = NULL;
  p->known = 0;
}

static apr_status_t free_cache(void *baton)
{
  dray_registry_t *reg = baton;
  for (apr_hash_index_t *hi = apr_hash_first(NULL, reg->tokens); hi; hi = apr_hash_next(hi)) {
    token_t *t = apr_hash_this_val(hi);
    free(t->token);
  }
  for (apr_hash_index_t *hi = apr_hash_first(NULL, reg->pings); hi; hi = apr_hash_next(hi))
    forget_ping(apr_hash_this_val(hi));
  return APR_SUCCESS;
}

dray_error_t *dray_registry_create(dray_registry_t **reg_p,
                                   dray_auth_config_t *auth,
                                   const apr_array_header_t *insecure,
                                   apr_pool_t *result_pool)
{
  dray_registry_t *reg = apr_pcalloc(result_pool, sizeof(*reg));
  reg->auth = auth;
  reg->insecure = apr_array_make(result_pool, 2, sizeof(const char *));
  for (int i = 0; insecure && i < insecure->nelts; i++)
    APR_ARRAY_PUSH(reg->insecure, const char *) =
        apr_pstrdup(result_pool, APR_ARRAY_IDX(insecure, i, const char *));
  if (apr_thread_mutex_create(&reg->lock, APR_THREAD_MUTEX_DEFAULT, result_pool)
      || apr_pool_create(&reg->cache_pool, result_pool))
    return dray_error_create(APR_ENOMEM, NULL, "cannot set up the registry client");
  reg->tokens = apr_hash_make(reg->cache_pool);
  reg->pings = apr_hash_make(reg->cache_pool);
  reg->low_speed_sec = DRAY_REGISTRY_LOW_SPEED_TIME_SEC;
  reg->attempts = 1;
  apr_pool_cleanup_register(reg->cache_pool, reg, free_cache, apr_pool_cleanup_null);
  *reg_p = reg;
  return DRAY_NO_ERROR;
}

/* Where the host name of HOST ("[::1]:5000" -> "::1") starts and its length. */
static void host_name(const char *host, const char **name, apr_size_t *len)
{
  const char *colon;
  *name = host;
  *len = strlen(host);
  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    if (end) {
      *name = host + 1;
      *len = (apr_size_t)(end - host - 1);
    }
    return;
  }
  colon = strchr(host, ':');
  if (colon && !strchr(colon + 1, ':')) /* more than one: a bare IPv6 address */
    *len = (apr_size_t)(colon - host);
}

static int name_is(const char *name, apr_size_t len, const char *s)
{
  return strlen(s) == len && memcmp(name, s, len) == 0;
}

void dray_registry_set_request_policy(dray_registry_t *reg, int stall_seconds, int attempts)
{
  reg->low_speed_sec = stall_seconds > 0 ? stall_seconds : DRAY_REGISTRY_LOW_SPEED_TIME_SEC;
  reg->attempts = attempts > 0 ? attempts : 1;
}

int dray_registry_is_plain_http(const dray_registry_t *reg, const char *host)
{
  const char *name;
  apr_size_t len;
  int plain;

  host_name(host, &name, &len);
  plain = dray_http_host_is_loopback(host);
  for (int i = 0; !plain && reg && i < reg->insecure->nelts; i++) {
    const char *entry = APR_ARRAY_IDX(reg->insecure, i, const char *);
    plain = !strcmp(entry, host) || name_is(name, len, entry);
  }
  return plain;
}

int dray_registry_realm_may_get_credentials(const dray_registry_t *reg, const char *host,
                                            const char *realm, apr_pool_t *scratch_pool)
{
  apr_uri_t uri;
  const char *name, *rname;
  apr_size_t len, rlen;

  if (apr_uri_parse(scratch_pool, realm, &uri) != APR_SUCCESS || !uri.scheme || !uri.hostinfo)
    return 0;
  if (!apr_cstr_casecmp(uri.scheme, "https"))
    return 1;
  if (apr_cstr_casecmp(uri.scheme, "http"))
    return 0;
  host_name(host, &name, &len);
  host_name(uri.hostinfo, &rname, &rlen);
  if (len == rlen && !apr_cstr_casecmpn(name, rname, len))
    return 1;
  for (int i = 0; reg && i < reg->insecure->nelts; i++) {
    const char *entry = APR_ARRAY_IDX(reg->insecure, i, const char *);
    if (!strcmp(entry, uri.hostinfo) || name_is(rname, rlen, entry))
      return 1;
  }
  return 0;
}

/* ---- parsing ---------------------------------------------------------- */

int dray_registry_parse_challenge(dray_auth_challenge_t *out, const char *header,
                                  apr_pool_t *result_pool)
{
  const char *p = header;
  const char *start;

  memset(out, 0, sizeof(*out));
  if (strnlen(header, DRAY_REGISTRY_MAX_CHALLENGE + 1) > DRAY_REGISTRY_MAX_CHALLENGE)
    return 0;
  while (*p == ' ' || *p == '\t')
    p++;
  start = p;
  while (*p && *p != ' ' && *p != '\t')
    p++;
  if (p == start)
    return 0;
  out->scheme = apr_pstrmemdup(result_pool, start, (apr_size_t)(p - start));

  while (*p) {
    const char *kstart, *kend;
    char *value, *v;
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    kstart = p;
    while (*p && *p != '=' && *p != ',' && *p != ' ')
      p++;
    kend = p;
    while (*p == ' ')
      p++;
    if (*p != '=') {
      if (kend == kstart && *p)
        p++;
      continue;
    }
    p++;
    while (*p == ' ')
      p++;
    if (*p == '"') {
      /* Measure first: a buffer the size of this value, not of the rest of
       * the header (which made many parameters quadratic). */
      const char *q = ++p;
      apr_size_t n = 0;
      while (*q && *q != '"') {
        if (*q == '\\' && q[1])
          q++;
        q++;
        n++;
      }
      v = value = apr_palloc(result_pool, n + 1);
      while (*p && *p != '"') {
        if (*p == '\\' && p[1])
          p++;
        *v++ = *p++;
      }
      if (*p == '"')
        p++;
      *v = '\0';
    }
    else {
      start = p;
      while (*p && *p != ',' && *p != ' ')
        p++;
      value = apr_pstrmemdup(result_pool, start, (apr_size_t)(p - start));
    }
    {
      apr_size_t klen = (apr_size_t)(kend - kstart);
      if (klen == 5 && !apr_cstr_casecmpn(kstart, "realm", 5))
        out->realm = value;
      else if (klen == 7 && !apr_cstr_casecmpn(kstart, "service", 7))
        out->service = value;
      else if (klen == 5 && !apr_cstr_casecmpn(kstart, "scope", 5))
        out->scope = value;
    }
  }
  return 1;
}

const char *dray_registry_error_text(const char *body, apr_size_t len,
                                     apr_pool_t *result_pool)
{
  json_t *root = len ? json_loadb(body, len, 0, NULL) : NULL;
  json_t *errors = json_object_get(root, "errors"), *e;
  const char *out = NULL;
  size_t i;

  json_array_foreach(errors, i, e) {
    json_t *code = json_object_get(e, "code"), *msg = json_object_get(e, "message");
    const char *one = apr_psprintf(result_pool, "%s%s%s",
                                   json_is_string(code) ? json_string_value(code) : "ERROR",
                                   json_is_string(msg) ? ": " : "",
                                   json_is_string(msg) ? json_string_value(msg) : "");
    out = out ? apr_pstrcat(result_pool, out, "; ", one, NULL) : one;
  }
  json_decref(root);
  return out;
}

/* ---- HTTP ------------------------------------------------------------- */

typedef struct response_t {
  apr_pool_t *pool;
  long status;
  const char *bearer;         /* a Bearer challenge, if any */
  const char *basic;          /* a Basic challenge, if any */
  const char *digest;
  const char *content_type;
  char *body;
  apr_size_t len;
  curl_off_t retry_after;
  curl_off_t content_length;
} response_t;

#define BODY_MAX (1024 * 1024)

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
  response_t *r = baton;
  apr_size_t n = size * nmemb;
  apr_size_t take = r->len + n > BODY_MAX ? BODY_MAX - r->len : n;
  if (!r->body)
    r->body = apr_palloc(r->pool, BODY_MAX + 1);
  memcpy(r->body + r->len, data, take);
  r->len += take;
  r->body[r->len] = '\0';
  return n;
}

/* A WWW-Authenticate value V into R, by its scheme (others are ignored). */
static void keep_challenge(response_t *r, const char *v)
{
  if (!apr_cstr_casecmpn(v, "Bearer", 6))
    r->bearer = v;
  else if (!apr_cstr_casecmpn(v, "Basic", 5))
    r->basic = v;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
  response_t *r = baton;
  apr_size_t n = size * nmemb;
  const char *v;

  if (n > 5 && !strncmp(data, "HTTP/", 5)) {
    /* A new response (after a redirect or 100): forget the last one's. */
    r->bearer = r->basic = r->digest = r->content_type = NULL;
    r->len = 0;
  }
  else if ((v = dray_http_header_value(data, n, "WWW-Authenticate", r->pool)) != NULL)
    keep_challenge(r, v);
  else if ((v = dray_http_header_value(data, n, "Docker-Content-Digest", r->pool)) != NULL)
    r->digest = v;
  else if ((v = dray_http_header_value(data, n, "Content-Type", r->pool)) != NULL)
    r->content_type = v;
  return n;
}

typedef struct call_t {
  const char *method;         /* "HEAD", "GET" or "POST" */
  const char *url;
  const char *authorization;  /* full header value, or NULL; a secret */
  const char *accept;
  const char *form;           /* POST body (form-encoded), or NULL; a secret */
  const char *what;           /* "registry H: repository R" for messages */
  dray_cancel_t *cancel;
  long low_speed_sec;         /* 0: DRAY_REGISTRY_LOW_SPEED_TIME_SEC */
  int attempts;               /* the failure streak's limit when the connection
                                 fails (backoff.h); 0 or 1: one try */
} call_t;

/* The request's own options on top of dray_http's common ones. */
static dray_error_t *set_request(dray_http_t *h, response_t *r, const call_t *call,
                                 apr_pool_t *pool)
{
  DRAY_ERR(dray_http_set_header_fn(h, on_header, r));
  DRAY_ERR(dray_http_set_write(h, on_body, r));
  if (!strcmp(call->method, "HEAD"))
    DRAY_ERR(dray_http_setopt_long(h, CURLOPT_NOBODY, 1L, "HEAD"));
  else if (!strcmp(call->method, "POST"))
    DRAY_ERR(dray_http_setopt_ptr(h, CURLOPT_POSTFIELDS, call->form ? call->form : "", "POST"));
  if (call->accept)
    DRAY_ERR(dray_http_add_header(h, apr_pstrcat(pool, "Accept: ", call->accept, NULL)));
  if (call->authorization)
    DRAY_ERR(dray_http_add_header(h, apr_pstrcat(pool, "Authorization: ", call->authorization,
                                                 NULL)));
  return DRAY_NO_ERROR;
}

/* A response with nothing in it yet, its strings to go in POOL. */
static void response_init(response_t *r, apr_pool_t *pool)
{
  memset(r, 0, sizeof(*r));
  r->pool = pool;
  r->retry_after = -1;
  r->content_length = -1;
}

static dray_error_t *perform_once(response_t *r, const call_t *call, apr_pool_t *pool)
{
  dray_http_options_t opts;
  dray_http_t *h;
  dray_error_t *err;

  response_init(r, pool);
  memset(&opts, 0, sizeof(opts));
  opts.url = call->url;
  opts.connect_timeout_sec = DRAY_REGISTRY_CONNECT_TIMEOUT_SEC;
  opts.low_speed_time_sec = call->low_speed_sec > 0 ? call->low_speed_sec
                                                    : DRAY_REGISTRY_LOW_SPEED_TIME_SEC;
  opts.max_redirects = 5;
  opts.cancel = call->cancel;
  DRAY_ERR(dray_http_handle_create(&h, &opts, pool));
  err = set_request(h, r, call, pool);
  if (!err)
    err = dray_http_perform(h, apr_psprintf(pool, "%s: %s %s", call->what, call->method,
                                            dray_http_url_shown(call->url, pool)));
  r->status = dray_http_status(h);
  if (curl_easy_getinfo(dray_http_curl(h), CURLINFO_RETRY_AFTER, &r->retry_after) != CURLE_OK)
    r->retry_after = -1;
  if (curl_easy_getinfo(dray_http_curl(h), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->content_length)
      != CURLE_OK)
    r->content_length = -1;
  dray_http_handle_destroy(h);
  return err;
}

/* One request; when the connection fails (a reset, a hang the watchdog
 * cut), again while the failure streak rule allows (backoff.h: up to
 * CALL->attempts tries, within the no-progress time): the requests here are
 * idempotent. An HTTP answer is no failure here. */
static dray_error_t *perform(response_t *r, const call_t *call, apr_pool_t *pool)
{
  dray_random_t rng;
  dray_streak_t streak = {0};
  long window = call->low_speed_sec > 0 ? call->low_speed_sec : DRAY_REGISTRY_LOW_SPEED_TIME_SEC;
  dray_random_seed(&rng, (apr_uint64_t)apr_time_now() ^ (apr_uint64_t)(apr_uintptr_t)r);
  for (;;) {
    apr_interval_time_t delay = 0;
    dray_error_t *err = perform_once(r, call, pool);
    if (!err || call->attempts <= 1 || dray_error_has(err, DRAY_ERR_CANCELLED)
        || !dray_streak_again(&streak, apr_time_now(), call->attempts, apr_time_from_sec(window),
                              apr_time_from_msec(250), apr_time_from_sec(5), 0,
                              dray_random_unit(&rng), &delay))
      return err;
    dray_error_clear(err);
    if (dray_cancel_sleep(call->cancel, delay))
      return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "%s: cancelled", call->what);
  }
}

/* ---- tokens ----------------------------------------------------------- */

static const char *cache_key(const char *host, const char *scope, apr_pool_t *pool)
{
  return apr_pstrcat(pool, host, " ", scope, NULL);
}

static const char *cached_token(dray_registry_t *reg, const char *key, apr_pool_t *pool)
{
  const char *out = NULL;
  token_t *t;
  apr_thread_mutex_lock(reg->lock);
  t = apr_hash_get(reg->tokens, key, APR_HASH_KEY_STRING);
  if (t && t->token && t->expires > apr_time_now())
    out = apr_pstrdup(pool, t->token);
  apr_thread_mutex_unlock(reg->lock);
  return out;
}

/* The entry of SIZE bytes under KEY in HASH (tokens or pings), made zeroed
 * in the cache's pool if there is none. Under the lock. */
static void *cache_entry(dray_registry_t *reg, apr_hash_t *hash, const char *key,
                         apr_size_t size)
{
  void *e = apr_hash_get(hash, key, APR_HASH_KEY_STRING);
  if (!e) {
    e = apr_pcalloc(reg->cache_pool, size);
    apr_hash_set(hash, apr_pstrdup(reg->cache_pool, key), APR_HASH_KEY_STRING, e);
  }
  return e;
}

/* A copy of S on the heap (the caches' strings are replaced over a run: a
 * pool would keep every one), or NULL. */
static char *heap_copy(const char *s)
{
  apr_size_t len = s ? strlen(s) + 1 : 0;
  char *copy = len ? malloc(len) : NULL; /* not strdup: MSVC deprecates it */
  if (copy)
    memcpy(copy, s, len);
  return copy;
}

static void store_token(dray_registry_t *reg, const char *key, const char *token,
                        apr_int64_t expires_in)
{
  token_t *t;
  char *copy = heap_copy(token);
  if (!copy)
    return;
  apr_thread_mutex_lock(reg->lock);
  t = cache_entry(reg, reg->tokens, key, sizeof(*t));
  free(t->token);
  t->token = copy;
  /* Renew a little early so that a token does not expire in flight. */
  t->expires = apr_time_now() + apr_time_from_sec(expires_in - expires_in / 10);
  apr_thread_mutex_unlock(reg->lock);
}

/* HOST's answer to GET /v2/ as a response (status 401 with its challenges,
 * or 200) in R, when it was asked before. */
static int cached_ping(response_t *r, dray_registry_t *reg, const char *host, apr_pool_t *pool)
{
  ping_t *p;
  int known = 0;
  response_init(r, pool);
  apr_thread_mutex_lock(reg->lock);
  p = apr_hash_get(reg->pings, host, APR_HASH_KEY_STRING);
  if (p && p->known) {
    known = 1;
    r->bearer = p->bearer ? apr_pstrdup(pool, p->bearer) : NULL;
    r->basic = p->basic ? apr_pstrdup(pool, p->basic) : NULL;
    r->status = r->bearer || r->basic ? 401 : 200;
  }
  apr_thread_mutex_unlock(reg->lock);
  return known;
}

/* Keep what GET /v2/ answered in R for HOST: a challenge (401) or none
 * (2xx). Anything else says nothing of authorization: asked again. */
static void store_ping(dray_registry_t *reg, const char *host, const response_t *r)
{
  ping_t *p;
  if (r->status != 401 && (r->status < 200 || r->status > 299))
    return;
  apr_thread_mutex_lock(reg->lock);
  p = cache_entry(reg, reg->pings, host, sizeof(*p));
  forget_ping(p);
  if (r->status == 401) {
    p->bearer = heap_copy(r->bearer);
    p->basic = heap_copy(r->basic);
  }
  p->known = (r->status != 401 || p->bearer || p->basic);
  apr_thread_mutex_unlock(reg->lock);
}

/* The registry refused what HOST's ping and the token under KEY led to:
 * ask both again. */
static void forget_auth(dray_registry_t *reg, const char *host, const char *key)
{
  token_t *t;
  ping_t *p;
  apr_thread_mutex_lock(reg->lock);
  t = apr_hash_get(reg->tokens, key, APR_HASH_KEY_STRING);
  if (t)
    t->expires = 0;
  p = apr_hash_get(reg->pings, host, APR_HASH_KEY_STRING);
  if (p)
    forget_ping(p);
  apr_thread_mutex_unlock(reg->lock);
}

static char *escape(const char *s, apr_pool_t *pool)
{
  char *e = curl_easy_escape(NULL, s, 0);
  char *out = apr_pstrdup(pool, e ? e : "");
  curl_free(e);
  return out;
}

/* Ask CH's realm for a token for SCOPE. */
static dray_error_t *fetch_token(const char **token, apr_int64_t *expires_in,
                                 const dray_auth_challenge_t *ch, const char *scope,
                                 const dray_credentials_t *creds, const char *what,
                                 const dray_registry_t *reg, int attempts,
                                 dray_cancel_t *cancel, apr_pool_t *pool)
{
  call_t call = {0};
  response_t r;
  json_t *root;
  const char *tok = NULL;
  const char *query = ch->service ? apr_pstrcat(pool, "service=", escape(ch->service, pool),
                                                NULL) : "";
  char *scopes = scope ? apr_pstrdup(pool, scope) : NULL, *last, *one;

  /* Several scopes (a push that mounts from other repositories) are
   * several scope parameters. */
  for (one = scopes ? apr_strtok(scopes, " ", &last) : NULL; one;
       one = apr_strtok(NULL, " ", &last))
    query = apr_pstrcat(pool, query, *query ? "&" : "", "scope=", escape(one, pool), NULL);

  call.what = what;
  call.cancel = cancel;
  call.low_speed_sec = reg->low_speed_sec;
  call.attempts = attempts;
  if (creds && creds->identitytoken) {
    /* OAuth2 refresh-token grant, as the docker daemon does. */
    call.method = "POST";
    call.url = ch->realm;
    call.form = apr_pstrcat(pool, "grant_type=refresh_token&client_id=dray&refresh_token=",
                            escape(creds->identitytoken, pool), *query ? "&" : "", query,
                            NULL);
  }
  else {
    call.method = "GET";
    call.url = apr_pstrcat(pool, ch->realm, *query ? (strchr(ch->realm, '?') ? "&" : "?") : "",
                           query, NULL);
    call.authorization = dray_auth_basic_header(creds, pool);
  }
  DRAY_ERR(perform(&r, &call, pool));
  if (r.status != 200) {
    const char *detail = dray_registry_error_text(r.body, r.len, pool);
    return dray_error_createf(r.status == 401 || r.status == 403 ? DRAY_ERR_AUTH : DRAY_ERR_HTTP,
                              NULL, "%s: token request to %s refused (HTTP %ld)%s%s%s", what,
                              ch->realm, r.status, detail ? ": " : "", detail ? detail : "",
                              creds ? "" : " (no credentials configured)");
  }
  root = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
  if (json_is_string(json_object_get(root, "token")) && *json_string_value(json_object_get(root, "token")))
    tok = json_string_value(json_object_get(root, "token"));
  else if (json_is_string(json_object_get(root, "access_token")))
    tok = json_string_value(json_object_get(root, "access_token"));
  if (!tok) {
    json_decref(root);
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL, "%s: the token server %s sent no token",
                              what, ch->realm);
  }
  *token = apr_pstrdup(pool, tok);
  *expires_in = json_is_integer(json_object_get(root, "expires_in"))
                    ? (apr_int64_t)json_integer_value(json_object_get(root, "expires_in")) : 60;
  if (*expires_in < 60)
    *expires_in = 60; /* the spec's minimum */
  json_decref(root);
  return DRAY_NO_ERROR;
}

/* ---- HEAD ------------------------------------------------------------- */

/* The Authorization header value that answers the 401 in R: a token for
 * SCOPE (or, with CHALLENGE_SCOPE, the scope the challenge names) from a
 * Bearer challenge's realm, cached under KEY; or Basic credentials. The
 * token request is tried as the caller's (ATTEMPTS). */
static dray_error_t *answer_challenge(const char **authorization, dray_registry_t *reg,
                                      const response_t *r, const char *host,
                                      const char *scope, int challenge_scope, const char *key,
                                      const dray_credentials_t *creds, const char *what,
                                      int attempts, dray_cancel_t *cancel, apr_pool_t *pool)
{
  if (r->bearer) {
    dray_auth_challenge_t ch;
    const char *token = NULL; /* fetch_token sets it; NULL keeps -O2 happy */
    apr_int64_t expires_in = 60; /* fetch_token sets it; the default keeps -O2 happy */
    if (!dray_registry_parse_challenge(&ch, r->bearer, pool))
      return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                                "%s: a WWW-Authenticate challenge of %lu bytes, over the "
                                "%d dray reads", what, (unsigned long)strlen(r->bearer),
                                DRAY_REGISTRY_MAX_CHALLENGE);
    if (!ch.realm)
      return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                                "%s: Bearer challenge without a realm", what);
    if (creds && !dray_registry_realm_may_get_credentials(reg, host, ch.realm, pool))
      return dray_error_createf(DRAY_ERR_AUTH, NULL,
                                "%s: the token server %s is plain HTTP on another host; "
                                "dray does not send credentials there (--insecure-registry "
                                "HOST allows it)", what, ch.realm);
    DRAY_ERR(fetch_token(&token, &expires_in, &ch,
                         challenge_scope && ch.scope ? ch.scope : scope, creds, what,
                         reg, attempts, cancel, pool));
    store_token(reg, key, token, expires_in);
    *authorization = apr_pstrcat(pool, "Bearer ", token, NULL);
    return DRAY_NO_ERROR;
  }
  if (r->basic) {
    *authorization = dray_auth_basic_header(creds, pool);
    if (!*authorization)
      return dray_error_createf(DRAY_ERR_AUTH, NULL,
                                "%s: the registry requires credentials (Basic) and "
                                "none are configured", what);
    return DRAY_NO_ERROR;
  }
  return dray_error_createf(DRAY_ERR_AUTH, NULL,
                            "%s: HTTP 401 without a usable WWW-Authenticate challenge", what);
}

/* The API host of DOMAIN (NULL or Docker Hub's names: Docker Hub's). */
static const char *api_host(const char *domain)
{
  return domain && !dray_ref_domain_is_docker_hub(domain) ? domain : DRAY_REGISTRY_HUB_HOST;
}

const char *dray_registry_base_url(const dray_registry_t *reg, const char *domain,
                                   apr_pool_t *result_pool)
{
  const char *host = api_host(domain);
  return apr_pstrcat(result_pool, dray_registry_is_plain_http(reg, host) ? "http://" : "https://",
                     host, NULL);
}

dray_error_t *dray_registry_push_auth(const char **authorization,
                                      dray_registry_t *reg,
                                      const char *domain,
                                      const char *repo,
                                      const apr_array_header_t *mount_from,
                                      int refused,
                                      const char *challenge,
                                      dray_cancel_t *cancel,
                                      apr_pool_t *result_pool,
                                      apr_pool_t *scratch_pool)
{
  const char *host = api_host(domain);
  const char *scope = apr_pstrcat(scratch_pool, "repository:", repo, ":pull,push", NULL);
  const char *what = apr_psprintf(scratch_pool, "registry %s: repository %s",
                                  domain ? domain : "docker.io", repo);
  const char *key, *token;
  const dray_credentials_t *creds = NULL;
  call_t call = {0};
  response_t r;

  for (int i = 0; mount_from && i < mount_from->nelts; i++)
    scope = apr_pstrcat(scratch_pool, scope, " repository:",
                        APR_ARRAY_IDX(mount_from, i, const char *), ":pull", NULL);
  key = cache_key(host, scope, scratch_pool);
  *authorization = NULL;
  if (refused)
    forget_auth(reg, host, key);
  token = cached_token(reg, key, scratch_pool);
  if (token) {
    *authorization = apr_pstrcat(result_pool, "Bearer ", token, NULL);
    return DRAY_NO_ERROR;
  }
  response_init(&r, scratch_pool);
  if (refused && challenge) {
    char *values = apr_pstrdup(scratch_pool, challenge), *last, *v;
    for (v = apr_strtok(values, "\n", &last); v; v = apr_strtok(NULL, "\n", &last))
      keep_challenge(&r, v);
  }
  if (r.bearer || r.basic) {
    /* The refusal's own challenge: a registry may ask for authorization on
     * a write while its root asks for none (anonymous pull). Kept as the
     * host's, so that the next push asks for it at once. */
    r.status = 401;
    store_ping(reg, host, &r);
  }
  /* Otherwise the challenge comes from the API's root, as docker asks it:
   * once per host, not once per blob (a round trip each, on every blob's
   * way). */
  else if (!cached_ping(&r, reg, host, scratch_pool)) {
    call.method = "GET";
    call.url = apr_pstrcat(scratch_pool, dray_registry_base_url(reg, domain, scratch_pool),
                           "/v2/", NULL);
    call.what = what;
    call.cancel = cancel;
    call.low_speed_sec = reg->low_speed_sec;
    call.attempts = 1; /* the upload's request: its streak decides (upload.h) */
    DRAY_ERR(perform(&r, &call, scratch_pool));
    store_ping(reg, host, &r);
  }
  if (r.status != 401)
    return DRAY_NO_ERROR; /* anonymous, or a registry that tells on the request itself */
  if (reg->auth)
    DRAY_ERR(dray_auth_get(&creds, reg->auth, api_host(domain) == domain ? domain : NULL,
                           cancel, scratch_pool, scratch_pool));
  DRAY_ERR(answer_challenge(authorization, reg, &r, host, scope, 0, key, creds, what,
                            call.attempts, cancel, scratch_pool));
  *authorization = apr_pstrdup(result_pool, *authorization);
  return DRAY_NO_ERROR;
}

/* HEAD or GET (METHOD) the manifest of REFERENCE with ACCEPT; a GET's body
 * goes to *BODY and *LEN (in RESULT_POOL) when found. */
static dray_error_t *manifest_call(dray_registry_manifest_t *out, const char **body,
                                   apr_size_t *len, dray_registry_t *reg, const char *reference,
                                   const char *method, const char *accept,
                                   dray_cancel_t *cancel, apr_pool_t *result_pool,
                                   apr_pool_t *scratch_pool)
{
  dray_ref_t *ref;
  const char *domain, *host, *repo, *what, *scope, *key, *token;
  const dray_credentials_t *creds = NULL;
  int creds_loaded = 0, authed = 0;
  call_t call = {0};
  response_t r;

  memset(out, 0, sizeof(*out));
  out->size = -1;
  DRAY_ERR(dray_ref_parse(&ref, reference, scratch_pool));
  domain = dray_ref_domain_is_docker_hub(ref->domain) ? NULL : ref->domain;
  host = domain ? domain : DRAY_REGISTRY_HUB_HOST;
  repo = dray_ref_normalized_name(ref, scratch_pool);
  repo = strchr(repo, '/') + 1; /* drop the domain */
  what = apr_psprintf(scratch_pool, "registry %s: repository %s", domain ? domain : "docker.io",
                      repo);
  scope = apr_pstrcat(scratch_pool, "repository:", repo, ":pull", NULL);
  key = cache_key(host, scope, scratch_pool);

  call.method = method;
  call.url = apr_pstrcat(scratch_pool, dray_registry_is_plain_http(reg, host) ? "http://" : "https://",
                         host, "/v2/", repo, "/manifests/",
                         ref->tag ? ref->tag : ref->digest ? ref->digest : "latest",
                         NULL);
  call.accept = accept;
  call.what = what;
  call.cancel = cancel;
  call.low_speed_sec = reg->low_speed_sec;
  call.attempts = reg->attempts;
  token = cached_token(reg, key, scratch_pool);
  if (token)
    call.authorization = apr_pstrcat(scratch_pool, "Bearer ", token, NULL);

  for (;;) {
    DRAY_ERR(perform(&r, &call, scratch_pool));
    out->http_status = r.status;
    if (r.status != 401)
      break;
    if (authed)
      return dray_error_createf(DRAY_ERR_AUTH, NULL,
                                "%s: credentials refused (HTTP 401%s%s)", what,
                                creds ? ", from " : ", none configured",
                                creds ? creds->source : "");
    authed = 1;
    if (!creds_loaded && reg->auth) {
      DRAY_ERR(dray_auth_get(&creds, reg->auth, domain, cancel, scratch_pool, scratch_pool));
      creds_loaded = 1;
    }
    DRAY_ERR(answer_challenge(&call.authorization, reg, &r, host, scope, 1, key, creds, what,
                              call.attempts, cancel, scratch_pool));
  }

  if (r.status == 200) {
    if (r.digest && !dray_digest_is_valid(r.digest))
      return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                                "%s: the registry sent an invalid Docker-Content-Digest "
                                "(want sha256: and 64 lowercase hex digits)", what);
    out->found = 1;
    out->digest = r.digest ? apr_pstrdup(result_pool, r.digest) : NULL;
    out->media_type = r.content_type ? apr_pstrdup(result_pool, r.content_type) : NULL;
    out->size = r.content_length >= 0 ? (apr_int64_t)r.content_length : -1;
    if (body) {
      *body = r.body ? apr_pmemdup(result_pool, r.body, r.len + 1) : "";
      *len = r.len;
    }
    return DRAY_NO_ERROR;
  }
  if (r.status == 404)
    return DRAY_NO_ERROR; /* MANIFEST_UNKNOWN / NAME_UNKNOWN: not there */
  if (r.status == 429 || r.status == 503) {
    out->retry_after = r.retry_after > 0 ? apr_time_from_sec(r.retry_after) : 0;
    return dray_error_createf(DRAY_ERR_HTTP, NULL, "%s: HTTP %ld%s", what, r.status,
                              r.retry_after > 0
                                  ? apr_psprintf(scratch_pool, " (retry after %" CURL_FORMAT_CURL_OFF_T " s)",
                                                 r.retry_after)
                                  : "");
  }
  return dray_error_createf(r.status == 403 ? DRAY_ERR_AUTH : DRAY_ERR_HTTP, NULL,
                            "%s: %s manifest: HTTP %ld", what, method, r.status);
}

dray_error_t *dray_registry_head_manifest(dray_registry_manifest_t *out,
                                          dray_registry_t *reg,
                                          const char *reference,
                                          dray_cancel_t *cancel,
                                          apr_pool_t *result_pool,
                                          apr_pool_t *scratch_pool)
{
  return manifest_call(out, NULL, NULL, reg, reference, "HEAD", DRAY_REGISTRY_MANIFEST_ACCEPT,
                       cancel, result_pool, scratch_pool);
}

dray_error_t *dray_registry_manifest_config(const char **config_digest,
                                            dray_registry_manifest_t *out,
                                            dray_registry_t *reg,
                                            const char *reference,
                                            dray_cancel_t *cancel,
                                            apr_pool_t *result_pool,
                                            apr_pool_t *scratch_pool)
{
  const char *body = NULL;
  apr_size_t len = 0;
  json_t *root, *digest;

  *config_digest = NULL;
  DRAY_ERR(manifest_call(out, &body, &len, reg, reference, "GET",
                         "application/vnd.oci.image.manifest.v1+json, "
                         "application/vnd.docker.distribution.manifest.v2+json",
                         cancel, scratch_pool, scratch_pool));
  if (!out->found)
    return DRAY_NO_ERROR;
  root = len ? json_loadb(body, len, 0, NULL) : NULL;
  digest = json_object_get(json_object_get(root, "config"), "digest");
  if (json_is_string(digest) && dray_digest_is_valid(json_string_value(digest)))
    *config_digest = apr_pstrdup(result_pool, json_string_value(digest));
  json_decref(root);
  out->digest = out->digest ? apr_pstrdup(result_pool, out->digest) : NULL;
  out->media_type = out->media_type ? apr_pstrdup(result_pool, out->media_type) : NULL;
  return DRAY_NO_ERROR;
}
