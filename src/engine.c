/* engine.c — engine endpoint resolution, API version negotiation, JSON GETs. */
#include "dray/engine.h"

#include <stdlib.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_random.h>
#include <apr_strings.h>

#include "dray/dockercfg.h"
#include "dray/file.h"
#include "dray/http.h"
#include "dray/platform.h"
#include "dray/ref.h"
#include "dray/strbuf.h"

struct dray_engine_t {
  const dray_engine_endpoint_t *ep;
  const char *version; /* negotiated, "1.41" */
};

/* ---- endpoint --------------------------------------------------------- */

static const char *env(const char *name, apr_pool_t *pool)
{
  char *v = NULL;
  if (apr_env_get(&v, name, pool) != APR_SUCCESS || !v || !*v)
    return NULL;
  return v;
}

const char *dray_engine_sha256_hex(const void *data, apr_size_t len,
                                   apr_pool_t *result_pool)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char digest[32];
  char *out = apr_palloc(result_pool, 65);
  apr_crypto_hash_t *h = apr_crypto_sha256_new(result_pool);

  h->init(h);
  h->add(h, data, len);
  h->finish(h, digest);
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  out[64] = '\0';
  return out;
}

/* Use DIR/{ca,cert,key}.pem where present. */
static void tls_files(dray_engine_endpoint_t *ep, const char *dir, apr_pool_t *pool)
{
  const char *ca = apr_pstrcat(pool, dir, "/ca.pem", NULL);
  const char *cert = apr_pstrcat(pool, dir, "/cert.pem", NULL);
  const char *key = apr_pstrcat(pool, dir, "/key.pem", NULL);
  ep->ca_file = dray_file_is_regular(ca, pool) ? ca : NULL;
  if (dray_file_is_regular(cert, pool) && dray_file_is_regular(key, pool)) {
    ep->cert_file = cert;
    ep->key_file = key;
  }
}

/* Parse HOST; for tcp:// *HOSTPORT is the bare host[:port], which becomes a
 * URL once finish_tcp() knows about TLS. */
static dray_error_t *parse_host(dray_engine_endpoint_t **ep_p, const char **hostport_p,
                                const char *host, apr_pool_t *pool)
{
  dray_engine_endpoint_t *ep = apr_pcalloc(pool, sizeof(*ep));
  ep->host = apr_pstrdup(pool, host);

  if (!strncmp(host, "unix://", 7)) {
    ep->scheme = DRAY_ENGINE_UNIX;
    ep->socket_path = apr_pstrdup(pool, host + 7);
    if (!*ep->socket_path)
      return dray_error_createf(DRAY_ERR_INPUT, NULL,
                                "engine host \"%s\" names no socket", host);
    ep->base_url = "http://localhost";
  }
  else if (!strncmp(host, "tcp://", 6)) {
    const char *hp = host + 6;
    const char *slash = strchr(hp, '/');
    char *hostport = slash ? apr_pstrmemdup(pool, hp, (apr_size_t)(slash - hp))
                           : apr_pstrdup(pool, hp);
    if (!*hostport)
      return dray_error_createf(DRAY_ERR_INPUT, NULL,
                                "engine host \"%s\" names no host", host);
    ep->scheme = DRAY_ENGINE_TCP;
    *hostport_p = hostport;
  }
  else if (!strncmp(host, "npipe://", 8))
    ep->scheme = DRAY_ENGINE_NPIPE;
  else if (!strncmp(host, "ssh://", 6))
    ep->scheme = DRAY_ENGINE_SSH;
  else
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "engine host \"%s\": unsupported scheme "
                              "(expected unix://, tcp://, npipe:// or ssh://)", host);
  *ep_p = ep;
  return DRAY_NO_ERROR;
}

static void finish_tcp(dray_engine_endpoint_t *ep, const char *hostport, apr_pool_t *pool)
{
  const char *bracket = strrchr(hostport, ']');
  const char *colon = strrchr(hostport, ':');
  if (!colon || (bracket && colon < bracket))
    hostport = apr_pstrcat(pool, hostport, ep->tls ? ":2376" : ":2375", NULL);
  ep->base_url = apr_pstrcat(pool, ep->tls ? "https://" : "http://", hostport, NULL);
}

dray_error_t *dray_engine_parse_host(dray_engine_endpoint_t **ep_p,
                                     const char *host,
                                     const char *config_dir,
                                     apr_pool_t *result_pool)
{
  dray_engine_endpoint_t *ep;
  const char *hostport = NULL;
  DRAY_ERR(parse_host(&ep, &hostport, host, result_pool));
  if (ep->scheme == DRAY_ENGINE_TCP) {
    if (env("DOCKER_TLS_VERIFY", result_pool)) {
      const char *dir = env("DOCKER_CERT_PATH", result_pool);
      if (!dir)
        dir = config_dir ? config_dir : dray_dockercfg_dir(result_pool);
      ep->tls = 1;
      ep->tls_verify = 1;
      if (dir)
        tls_files(ep, dir, result_pool);
    }
    finish_tcp(ep, hostport, result_pool);
  }
  *ep_p = ep;
  return DRAY_NO_ERROR;
}

int dray_engine_http_capable(const dray_engine_endpoint_t *ep)
{
  return ep->scheme == DRAY_ENGINE_UNIX || ep->scheme == DRAY_ENGINE_TCP;
}

int dray_engine_is_local(const dray_engine_endpoint_t *ep)
{
  const char *hostport;
  if (ep->scheme == DRAY_ENGINE_UNIX || ep->scheme == DRAY_ENGINE_NPIPE)
    return 1;
  if (ep->scheme != DRAY_ENGINE_TCP || !ep->base_url || !strstr(ep->base_url, "://"))
    return 0;
  hostport = strstr(ep->base_url, "://") + 3; /* finish_tcp's "http(s)://host:port" */
  return dray_http_host_is_loopback(hostport);
}

/* Parse a JSON file; *JSON is NULL when the file does not exist. */
static dray_error_t *load_json_file(json_t **json, const char *path,
                                    apr_pool_t *pool)
{
  json_error_t jerr;
  char *text;
  apr_size_t len;
  int missing;

  *json = NULL;
  DRAY_ERR(dray_file_read(&text, &len, &missing, path, NULL, pool));
  if (missing)
    return DRAY_NO_ERROR;
  *json = json_loadb(text, len, 0, &jerr);
  if (!*json)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s:%d: %s", path, jerr.line,
                              jerr.text);
  return DRAY_NO_ERROR;
}

static dray_error_t *context_endpoint(dray_engine_endpoint_t **ep_p,
                                      const char *name, const char *config_dir,
                                      apr_pool_t *result_pool,
                                      apr_pool_t *scratch_pool)
{
  const char *sha = dray_engine_sha256_hex(name, strlen(name), scratch_pool);
  const char *meta_path = apr_pstrcat(scratch_pool, config_dir, "/contexts/meta/",
                                      sha, "/meta.json", NULL);
  const char *tls_dir = apr_pstrcat(result_pool, config_dir, "/contexts/tls/", sha,
                                    "/docker", NULL);
  json_t *meta, *docker, *host;
  dray_engine_endpoint_t *ep;
  const char *hostport = NULL;
  dray_error_t *err;
  int skip_verify;

  DRAY_ERR(load_json_file(&meta, meta_path, scratch_pool));
  if (!meta)
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "docker context \"%s\" not found (no %s)", name, meta_path);
  docker = json_object_get(json_object_get(meta, "Endpoints"), "docker");
  host = json_object_get(docker, "Host");
  if (!json_is_string(host)) {
    json_decref(meta);
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "docker context \"%s\" has no docker endpoint (%s)",
                              name, meta_path);
  }
  skip_verify = json_is_true(json_object_get(docker, "SkipTLSVerify"));
  err = parse_host(&ep, &hostport, json_string_value(host), result_pool);
  json_decref(meta);
  if (err)
    return dray_error_quick_wrapf(err, "docker context \"%s\"", name);
  if (ep->scheme == DRAY_ENGINE_TCP) {
    tls_files(ep, tls_dir, scratch_pool);
    if (ep->ca_file || ep->cert_file || skip_verify) {
      ep->tls = 1;
      ep->tls_verify = !skip_verify;
      ep->ca_file = ep->ca_file ? apr_pstrdup(result_pool, ep->ca_file) : NULL;
      ep->cert_file = ep->cert_file ? apr_pstrdup(result_pool, ep->cert_file) : NULL;
      ep->key_file = ep->key_file ? apr_pstrdup(result_pool, ep->key_file) : NULL;
    }
    finish_tcp(ep, hostport, result_pool);
  }
  ep->context = apr_pstrdup(result_pool, name);
  *ep_p = ep;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_engine_resolve(const dray_engine_endpoint_t **ep_p,
                                  const char *explicit_host,
                                  const char *context,
                                  const char *config_dir,
                                  apr_pool_t *result_pool,
                                  apr_pool_t *scratch_pool)
{
  dray_engine_endpoint_t *ep = NULL;
  const char *source = NULL;
  const char *host;

  if (!config_dir)
    config_dir = dray_dockercfg_dir(scratch_pool);

  if (explicit_host && *explicit_host) {
    DRAY_ERR(dray_engine_parse_host(&ep, explicit_host, config_dir, result_pool));
    source = "--engine-host";
  }
  else if (context && *context) {
    source = "--context";
  }
  else if ((host = env("DOCKER_HOST", scratch_pool)) != NULL) {
    DRAY_ERR(dray_engine_parse_host(&ep, host, config_dir, result_pool));
    source = "DOCKER_HOST";
  }
  else if ((context = env("DOCKER_CONTEXT", scratch_pool)) != NULL) {
    source = "DOCKER_CONTEXT";
  }
  else if (config_dir) {
    json_t *cfg;
    DRAY_ERR(load_json_file(&cfg, apr_pstrcat(scratch_pool, config_dir, "/config.json",
                                              NULL), scratch_pool));
    if (cfg && json_is_string(json_object_get(cfg, "currentContext"))
        && *json_string_value(json_object_get(cfg, "currentContext"))) {
      context = apr_pstrdup(scratch_pool,
                            json_string_value(json_object_get(cfg, "currentContext")));
      source = "currentContext";
    }
    json_decref(cfg);
  }

  if (!ep && context && strcmp(context, "default") != 0) {
    if (!config_dir)
      return dray_error_createf(DRAY_ERR_INPUT, NULL,
                                "docker context \"%s\": no docker config folder", context);
    DRAY_ERR(context_endpoint(&ep, context, config_dir, result_pool, scratch_pool));
  }
  if (!ep) {
    /* The "default" context is DOCKER_HOST or the default socket. */
    host = env("DOCKER_HOST", scratch_pool);
    DRAY_ERR(dray_engine_parse_host(&ep, host ? host : dray_platform_default_engine_host(),
                                    config_dir, result_pool));
    if (!source)
      source = "default";
  }
  ep->source = source;
  *ep_p = ep;
  return DRAY_NO_ERROR;
}

/* ---- versions --------------------------------------------------------- */

int dray_engine_version_cmp(const char *a, const char *b)
{
  long amaj = strtol(a, NULL, 10), bmaj = strtol(b, NULL, 10);
  const char *ad = strchr(a, '.'), *bd = strchr(b, '.');
  long amin = ad ? strtol(ad + 1, NULL, 10) : 0, bmin = bd ? strtol(bd + 1, NULL, 10) : 0;
  if (amaj != bmaj)
    return amaj < bmaj ? -1 : 1;
  return amin < bmin ? -1 : amin > bmin ? 1 : 0;
}

const char *dray_engine_negotiate(const char *server_max, const char *server_min)
{
  const char *v = DRAY_ENGINE_API_MAX;
  if (server_max && dray_engine_version_cmp(server_max, v) < 0)
    v = server_max;
  /* Newer engines drop old versions; the push API is the same in theirs. */
  if (server_min && dray_engine_version_cmp(server_min, v) > 0)
    v = server_min;
  return v;
}

/* ---- HTTP ------------------------------------------------------------- */

typedef struct body_t {
  dray_strbuf_t buf;
  apr_size_t max;
} body_t;

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *baton)
{
  body_t *b = baton;
  apr_size_t n = size * nmemb;
  if (b->buf.len + n + 1 > b->max)
    return 0; /* too big: curl fails the transfer */
  dray_strbuf_append(&b->buf, ptr, n);
  return n;
}

const char *dray_engine_escape_name(const char *name, apr_pool_t *result_pool)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = apr_palloc(result_pool, strlen(name) * 3 + 1), *o = out;
  for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
        || strchr("-._~/:@", *c))
      *o++ = (char)*c;
    else {
      *o++ = '%';
      *o++ = hex[*c >> 4];
      *o++ = hex[*c & 15];
    }
  }
  *o = '\0';
  return out;
}

/* The request to EP (the version may not be known yet). */
static dray_error_t *http_options(dray_http_options_t *o, const dray_engine_endpoint_t *ep,
                                  const char *version, const char *path_query,
                                  dray_cancel_t *cancel, apr_pool_t *pool)
{
  memset(o, 0, sizeof(*o));
  if (!dray_engine_http_capable(ep))
    return dray_error_createf(DRAY_ERR_HTTP, NULL,
                              "engine %s is not reachable over HTTP here "
                              "(use the CLI push driver)", ep->host);
  o->url = apr_pstrcat(pool, ep->base_url, version ? "/v" : "", version ? version : "",
                       path_query, NULL);
  o->connect_timeout_sec = DRAY_ENGINE_CONNECT_TIMEOUT_SEC;
  o->low_speed_time_sec = DRAY_ENGINE_LOW_SPEED_TIME_SEC;
  o->cancel = cancel;
  if (ep->scheme == DRAY_ENGINE_UNIX) {
    o->unix_socket = ep->socket_path;
  } else {
    o->tcp_keepalive = 1;
    if (ep->tls) {
      o->tls_insecure = !ep->tls_verify;
      o->ca_file = ep->ca_file;
      o->cert_file = ep->cert_file;
      o->key_file = ep->cert_file ? ep->key_file : NULL;
    }
  }
  return DRAY_NO_ERROR;
}

dray_error_t *dray_engine_http_options(dray_http_options_t *opts, const dray_engine_t *engine,
                                       const char *path_query, dray_cancel_t *cancel,
                                       apr_pool_t *result_pool)
{
  return http_options(opts, engine->ep, engine->version, path_query, cancel, result_pool);
}

const char *dray_engine_error_message(const char *body, apr_size_t len, apr_pool_t *result_pool)
{
  json_t *j = len ? json_loadb(body, len, 0, NULL) : NULL;
  const char *msg = NULL;
  if (json_is_string(json_object_get(j, "message")))
    msg = apr_pstrdup(result_pool, json_string_value(json_object_get(j, "message")));
  json_decref(j);
  if (!msg && len)
    msg = apr_pstrndup(result_pool, body, len > 200 ? 200 : len);
  return msg ? msg : "no message";
}

static dray_error_t *get_json(json_t **json, long *http_status,
                              const dray_engine_endpoint_t *ep, const char *version,
                              const char *path_query, dray_cancel_t *cancel,
                              apr_pool_t *scratch_pool)
{
  body_t body;
  dray_http_options_t opts;
  dray_http_t *h;
  dray_error_t *err;
  long status;

  *json = NULL;
  dray_strbuf_init(&body.buf, 4096, scratch_pool);
  body.max = 64 * 1024 * 1024;
  if (http_status)
    *http_status = 0;
  DRAY_ERR(http_options(&opts, ep, version, path_query, cancel, scratch_pool));
  DRAY_ERR(dray_http_handle_create(&h, &opts, scratch_pool));
  err = dray_http_set_write(h, body_write, &body);
  if (!err)
    err = dray_http_perform(h, apr_psprintf(scratch_pool, "engine %s: GET %s", ep->host,
                                            path_query));
  status = dray_http_status(h);
  dray_http_handle_destroy(h);
  if (http_status)
    *http_status = status;
  if (err)
    return err;
  if (status < 200 || status > 299)
    return dray_error_createf(status == 404 ? DRAY_ERR_NOT_FOUND : DRAY_ERR_HTTP, NULL,
                              "engine %s: GET %s: HTTP %ld: %s", ep->host, path_query,
                              status, dray_engine_error_message(body.buf.data, body.buf.len, scratch_pool));
  *json = body.buf.len ? json_loadb(body.buf.data, body.buf.len, 0, NULL) : NULL;
  if (!*json)
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                              "engine %s: GET %s: the answer is not JSON", ep->host,
                              path_query);
  return DRAY_NO_ERROR;
}

static size_t discard_write(char *ptr, size_t size, size_t nmemb, void *baton)
{
  (void)ptr;
  (void)baton;
  return size * nmemb;
}

dray_error_t *dray_engine_ping(const dray_engine_endpoint_t *ep, long seconds,
                               dray_cancel_t *cancel, apr_pool_t *scratch_pool)
{
  dray_http_options_t opts;
  dray_http_t *h;
  dray_error_t *err;
  long status;

  DRAY_ERR(http_options(&opts, ep, NULL, "/_ping", cancel, scratch_pool));
  /* A hung engine (it accepts, then says nothing) counts as down too. */
  opts.connect_timeout_sec = seconds;
  opts.low_speed_time_sec = seconds;
  DRAY_ERR(dray_http_handle_create(&h, &opts, scratch_pool));
  err = dray_http_set_write(h, discard_write, NULL);
  if (!err)
    err = dray_http_perform(h, apr_psprintf(scratch_pool, "engine %s: GET /_ping", ep->host));
  status = dray_http_status(h);
  dray_http_handle_destroy(h);
  if (!err && (status < 200 || status > 299))
    err = dray_error_createf(DRAY_ERR_HTTP, NULL, "engine %s: GET /_ping: HTTP %ld", ep->host,
                             status);
  return err;
}

dray_error_t *dray_engine_open(dray_engine_t **engine_p,
                               const dray_engine_endpoint_t *ep,
                               dray_cancel_t *cancel,
                               apr_pool_t *result_pool,
                               apr_pool_t *scratch_pool)
{
  dray_engine_t *engine;
  json_t *version;
  const char *max = NULL, *min = NULL;
  dray_error_t *err;

  err = get_json(&version, NULL, ep, NULL, "/version", cancel, scratch_pool);
  if (err)
    return dray_error_quick_wrapf(err, "cannot reach the engine at %s (from %s)",
                                  ep->host, ep->source ? ep->source : "default");
  if (json_is_string(json_object_get(version, "ApiVersion")))
    max = apr_pstrdup(scratch_pool, json_string_value(json_object_get(version, "ApiVersion")));
  if (json_is_string(json_object_get(version, "MinAPIVersion")))
    min = apr_pstrdup(scratch_pool,
                      json_string_value(json_object_get(version, "MinAPIVersion")));
  json_decref(version);

  engine = apr_pcalloc(result_pool, sizeof(*engine));
  engine->ep = ep;
  engine->version = apr_pstrdup(result_pool, dray_engine_negotiate(max, min));
  *engine_p = engine;
  return DRAY_NO_ERROR;
}

const char *dray_engine_api_version(const dray_engine_t *engine)
{
  return engine->version;
}

const dray_engine_endpoint_t *dray_engine_endpoint(const dray_engine_t *engine)
{
  return engine->ep;
}

dray_error_t *dray_engine_get_json(json_t **json, long *http_status,
                                   const dray_engine_t *engine,
                                   const char *path_query,
                                   dray_cancel_t *cancel,
                                   apr_pool_t *scratch_pool)
{
  return get_json(json, http_status, engine->ep, engine->version, path_query, cancel,
                  scratch_pool);
}

dray_error_t *dray_engine_image_store(dray_engine_image_store_t *store,
                                      const dray_engine_t *engine, dray_cancel_t *cancel,
                                      apr_pool_t *scratch_pool)
{
  json_t *info, *pair;
  size_t i;
  *store = DRAY_ENGINE_STORE_UNKNOWN;
  DRAY_ERR(dray_engine_get_json(&info, NULL, engine, "/info", cancel, scratch_pool));
  if (json_is_object(info))
    *store = DRAY_ENGINE_STORE_GRAPH;
  /* [["driver-type", "io.containerd.snapshotter.v1"], ...] */
  json_array_foreach(json_object_get(info, "DriverStatus"), i, pair) {
    const char *k = json_string_value(json_array_get(pair, 0));
    const char *v = json_string_value(json_array_get(pair, 1));
    if (k && v && !strcmp(k, "driver-type") && strstr(v, "containerd.snapshotter"))
      *store = DRAY_ENGINE_STORE_CONTAINERD;
  }
  json_decref(info);
  return DRAY_NO_ERROR;
}

dray_error_t *dray_engine_inspect_image(json_t **info, const dray_engine_t *engine,
                                        const char *image, dray_cancel_t *cancel,
                                        apr_pool_t *scratch_pool)
{
  return dray_engine_get_json(info, NULL, engine,
                              apr_pstrcat(scratch_pool, "/images/",
                                          dray_engine_escape_name(image, scratch_pool), "/json",
                                          NULL),
                              cancel, scratch_pool);
}

dray_error_t *dray_engine_repo_digests(apr_array_header_t **digests,
                                       const dray_engine_t *engine,
                                       const char *image,
                                       dray_cancel_t *cancel,
                                       apr_pool_t *result_pool,
                                       apr_pool_t *scratch_pool)
{
  json_t *info, *list;
  size_t i;
  json_t *v;

  DRAY_ERR(dray_engine_inspect_image(&info, engine, image, cancel, scratch_pool));
  *digests = apr_array_make(result_pool, 2, sizeof(const char *));
  list = json_object_get(info, "RepoDigests");
  json_array_foreach(list, i, v) {
    /* "repo@digest": only a digest that passes the one strict rule counts. */
    const char *rd = json_is_string(v) ? json_string_value(v) : NULL;
    const char *at = rd ? strrchr(rd, '@') : NULL;
    if (at && at > rd && dray_digest_is_valid(at + 1))
      APR_ARRAY_PUSH(*digests, const char *) = apr_pstrdup(result_pool, rd);
  }
  json_decref(info);
  return DRAY_NO_ERROR;
}
