/* engine.h — reaching the container engine's HTTP API over libcurl.
 *
 * The endpoint is found as the docker CLI finds it:
 *   explicit host (--engine-host) > --context NAME > DOCKER_HOST >
 *   DOCKER_CONTEXT > currentContext in $DOCKER_CONFIG/config.json >
 *   the platform default (dray_platform_default_engine_host(): the unix
 *   socket; on Windows npipe:////./pipe/docker_engine)
 * A context's endpoint is in $DOCKER_CONFIG/contexts/meta/<sha256(name)>/meta.json
 * (Endpoints.docker.Host, SkipTLSVerify) and its TLS material in
 * contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem.
 *
 * unix:// and tcp:// are spoken here; npipe:// and ssh:// are recognised but
 * not reachable over HTTP from here: the caller uses the CLI driver for them.
 * Every request has a connect timeout and (except the push stream, which has
 * its own watchdog) a low-speed limit, so none can hang.
 */
#ifndef DRAY_ENGINE_H
#define DRAY_ENGINE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <curl/curl.h>
#include <jansson.h>

#include "dray/cancel.h"
#include "dray/error.h"
#include "dray/http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Highest API version dray asks for; the push API has not changed since. */
#define DRAY_ENGINE_API_MAX "1.47"
#define DRAY_ENGINE_CONNECT_TIMEOUT_SEC 15
/* A plain request that moves under 1 byte/s for this long is abandoned. */
#define DRAY_ENGINE_LOW_SPEED_TIME_SEC 60

typedef enum dray_engine_scheme_t {
  DRAY_ENGINE_UNIX = 1,
  DRAY_ENGINE_TCP,
  DRAY_ENGINE_NPIPE,
  DRAY_ENGINE_SSH
} dray_engine_scheme_t;

typedef struct dray_engine_endpoint_t {
  const char *host;          /* as configured: "unix:///var/run/docker.sock" */
  dray_engine_scheme_t scheme;
  const char *socket_path;   /* unix: the socket file, else NULL */
  const char *base_url;      /* "http://localhost", "http://h:2375", "https://h:2376";
                                NULL for npipe and ssh */
  int tls;                   /* https */
  int tls_verify;            /* verify the engine's certificate */
  const char *ca_file;       /* PEM files, or NULL */
  const char *cert_file;
  const char *key_file;
  const char *context;       /* the docker context it came from, or NULL */
  const char *source;        /* where it came from, for messages: "--engine-host",
                                "--context", "DOCKER_HOST", "DOCKER_CONTEXT",
                                "currentContext", "default" */
} dray_engine_endpoint_t;

/* Parse HOST ("unix://PATH", "tcp://H[:P]", "npipe://…", "ssh://…"). TLS for
 * tcp comes from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH (default CONFIG_DIR,
 * NULL: dray_dockercfg_dir()). DRAY_ERR_INPUT for anything else. */
dray_error_t *dray_engine_parse_host(dray_engine_endpoint_t **ep,
                                     const char *host,
                                     const char *config_dir,
                                     apr_pool_t *result_pool);

/* Find the endpoint. EXPLICIT_HOST and CONTEXT may be NULL; CONFIG_DIR NULL
 * means $DOCKER_CONFIG or ~/.docker. An unknown context is DRAY_ERR_INPUT. */
dray_error_t *dray_engine_resolve(const dray_engine_endpoint_t **ep,
                                  const char *explicit_host,
                                  const char *context,
                                  const char *config_dir,
                                  apr_pool_t *result_pool,
                                  apr_pool_t *scratch_pool);

/* Whether EP can be spoken to over HTTP here (unix and tcp). */
int dray_engine_http_capable(const dray_engine_endpoint_t *ep);

/* Whether EP is an engine on this machine: a unix socket, a named pipe, or
 * tcp to a loopback address (dray_http_host_is_loopback). */
int dray_engine_is_local(const dray_engine_endpoint_t *ep);

/* Lowercase hex SHA-256 of DATA (a context's folder name). */
const char *dray_engine_sha256_hex(const void *data, apr_size_t len,
                                   apr_pool_t *result_pool);

/* Compare "1.41"-style versions: <0, 0, >0. */
int dray_engine_version_cmp(const char *a, const char *b);

/* The version to use given what the server says (either may be NULL):
 * min(SERVER_MAX, DRAY_ENGINE_API_MAX), raised to SERVER_MIN if that is higher. */
const char *dray_engine_negotiate(const char *server_max, const char *server_min);

typedef struct dray_engine_t dray_engine_t;

/* Connect to EP and negotiate the API version with GET /version. A
 * connection failure is a DRAY_ERR_HTTP error naming the endpoint. EP must
 * outlive the engine. The result is read-only and safe to share between
 * threads. */
dray_error_t *dray_engine_open(dray_engine_t **engine,
                               const dray_engine_endpoint_t *ep,
                               dray_cancel_t *cancel,
                               apr_pool_t *result_pool,
                               apr_pool_t *scratch_pool);

/* Whether the engine at EP answers GET /_ping within about SECONDS (to
 * connect, and then between bytes): DRAY_NO_ERROR, or DRAY_ERR_HTTP saying
 * how it did not. CANCEL (or NULL) ends it early. */
dray_error_t *dray_engine_ping(const dray_engine_endpoint_t *ep, long seconds,
                               dray_cancel_t *cancel, apr_pool_t *scratch_pool);

/* Where the engine keeps its images: its own layer store (the "graph
 * driver": overlay2 and the like) or containerd's (the default of docker
 * 29 and an option since 24), whose saved images hold compressed layers. */
typedef enum dray_engine_image_store_t {
  DRAY_ENGINE_STORE_UNKNOWN = 0,
  DRAY_ENGINE_STORE_GRAPH,
  DRAY_ENGINE_STORE_CONTAINERD
} dray_engine_image_store_t;

/* ENGINE's image store, from GET /info (DriverStatus "driver-type"). */
dray_error_t *dray_engine_image_store(dray_engine_image_store_t *store,
                                      const dray_engine_t *engine, dray_cancel_t *cancel,
                                      apr_pool_t *scratch_pool);

const char *dray_engine_api_version(const dray_engine_t *engine);
const dray_engine_endpoint_t *dray_engine_endpoint(const dray_engine_t *engine);

/* The options of a request to PATH_QUERY ("/images/x/json", without the
 * version, which is prepended): URL, socket or TCP keepalive, TLS files and
 * verification, connect timeout, low-speed limit, CANCEL (or NULL). Strings
 * in RESULT_POOL. The caller may change them (the push stream sets
 * low_speed_time_sec to 0 and its own xferinfo) before
 * dray_http_handle_create(). */
dray_error_t *dray_engine_http_options(dray_http_options_t *opts,
                                       const dray_engine_t *engine,
                                       const char *path_query,
                                       dray_cancel_t *cancel,
                                       apr_pool_t *result_pool);

/* Percent-encode an image name or reference for a path ('/', ':', '@' kept). */
const char *dray_engine_escape_name(const char *name, apr_pool_t *result_pool);

/* GET PATH_QUERY; *JSON (caller decrefs) is the parsed body of a 2xx answer.
 * Any other status is an error carrying the engine's "message" (404:
 * DRAY_ERR_NOT_FOUND, else DRAY_ERR_HTTP); *HTTP_STATUS (if not NULL) gets
 * the status either way. */
dray_error_t *dray_engine_get_json(json_t **json, long *http_status,
                                   const dray_engine_t *engine,
                                   const char *path_query,
                                   dray_cancel_t *cancel,
                                   apr_pool_t *scratch_pool);

/* The "message" of an engine's JSON error answer BODY, or its first 200
 * bytes, or "no message". */
const char *dray_engine_error_message(const char *body, apr_size_t len,
                                      apr_pool_t *result_pool);

/* GET /images/{IMAGE}/json: *INFO (caller decrefs); DRAY_ERR_NOT_FOUND if
 * there is no such image. */
dray_error_t *dray_engine_inspect_image(json_t **info, const dray_engine_t *engine,
                                        const char *image, dray_cancel_t *cancel,
                                        apr_pool_t *scratch_pool);

/* The RepoDigests of local image IMAGE ("repo@sha256:…" strings) from
 * GET /images/{IMAGE}/json; entries whose digest is not valid
 * (dray_digest_is_valid) are left out. DRAY_ERR_NOT_FOUND if there is no such image. */
dray_error_t *dray_engine_repo_digests(apr_array_header_t **digests,
                                       const dray_engine_t *engine,
                                       const char *image,
                                       dray_cancel_t *cancel,
                                       apr_pool_t *result_pool,
                                       apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_ENGINE_H */
