/* registry.h — a small OCI distribution client: what does a registry serve?
 *
 * HEAD /v2/<name>/manifests/<tag> with the OCI and Docker manifest and index
 * media types in Accept; the answer's Docker-Content-Digest is the digest
 * (one that fails dray_digest_is_valid() is a DRAY_ERR_PROTOCOL error).
 * Authentication: anonymous first; on 401 the WWW-Authenticate challenge
 * decides: Basic (credentials from auth.h) or Bearer (a token from the realm,
 * with Basic credentials or an identity token if there are any, cached per
 * registry and scope until it expires). TLS is verified, except that
 * localhost, 127.0.0.0/8, ::1 and the caller's insecure registries are spoken
 * to over plain HTTP, as docker does. Every request has a connect timeout and
 * a low-speed limit (http.h).
 */
#ifndef DRAY_REGISTRY_H
#define DRAY_REGISTRY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "dray/auth.h"
#include "dray/cancel.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_REGISTRY_CONNECT_TIMEOUT_SEC 15
#define DRAY_REGISTRY_LOW_SPEED_TIME_SEC 30
/* Docker Hub's API host (references say docker.io). */
#define DRAY_REGISTRY_HUB_HOST "registry-1.docker.io"

/* The Accept header of a manifest HEAD. */
#define DRAY_REGISTRY_MANIFEST_ACCEPT                          \
  "application/vnd.oci.image.index.v1+json, "                  \
  "application/vnd.oci.image.manifest.v1+json, "               \
  "application/vnd.docker.distribution.manifest.list.v2+json, " \
  "application/vnd.docker.distribution.manifest.v2+json"

typedef struct dray_registry_t dray_registry_t;

/* A client. AUTH (or NULL: anonymous only) gives credentials; INSECURE (or
 * NULL) lists "host[:port]" entries spoken to over plain HTTP. Thread-safe:
 * one client serves every pusher; the token cache is shared. */
dray_error_t *dray_registry_create(dray_registry_t **reg,
                                   dray_auth_config_t *auth,
                                   const apr_array_header_t *insecure,
                                   apr_pool_t *result_pool);

/* From now on, each request's no-progress limit is STALL_SECONDS (the run's
 * stall timeout; 0: DRAY_REGISTRY_LOW_SPEED_TIME_SEC), and a manifest
 * request (dray_registry_head_manifest, dray_registry_manifest_config: for
 * callers that have no retry policy of their own, such as verification)
 * whose connection fails is made again, with backoff, by the failure streak
 * rule of backoff.h with ATTEMPTS as its limit (default 1: one try).
 * dray_registry_push_auth always makes one try: its caller retries. Set
 * before threads share REG. */
void dray_registry_set_request_policy(dray_registry_t *reg, int stall_seconds, int attempts);

/* Whether HOST (host[:port]) is spoken to over plain HTTP. */
int dray_registry_is_plain_http(const dray_registry_t *reg, const char *host);

typedef struct dray_registry_manifest_t {
  int found;                  /* 0: the registry does not have this tag (404) */
  const char *digest;         /* Docker-Content-Digest, or NULL */
  const char *media_type;     /* Content-Type, or NULL */
  apr_int64_t size;           /* Content-Length, or -1 */
  long http_status;           /* last HTTP status, 0 if none */
  apr_interval_time_t retry_after; /* 429/503: the registry's Retry-After, else 0 */
} dray_registry_manifest_t;

/* HEAD the manifest of REFERENCE ("host/repo:tag", "repo@sha256:…"; no tag
 * means "latest"). A missing tag is not an error: OUT->found is 0. Failures
 * are errors that name registry, repository and HTTP status: DRAY_ERR_AUTH
 * when credentials are refused or missing, DRAY_ERR_HTTP otherwise (with
 * OUT->retry_after set for 429 and 503), DRAY_ERR_CANCELLED through CANCEL. */
dray_error_t *dray_registry_head_manifest(dray_registry_manifest_t *out,
                                          dray_registry_t *reg,
                                          const char *reference,
                                          dray_cancel_t *cancel,
                                          apr_pool_t *result_pool,
                                          apr_pool_t *scratch_pool);

/* "http://HOST" or "https://HOST" for registry DOMAIN (as in a reference;
 * NULL or docker.io: Docker Hub's API host), by the plain-HTTP rule above. */
const char *dray_registry_base_url(const dray_registry_t *reg, const char *domain,
                                   apr_pool_t *result_pool);

/* The Authorization header value for pushing to REPO ("library/x") of
 * registry DOMAIN, good for pull and push there and for pull from each of
 * MOUNT_FROM (repository names of the same registry, or NULL): *AUTHORIZATION
 * is NULL when the registry asks for none. The challenge comes from GET /v2/,
 * asked once per host and kept (an anonymous registry costs no request
 * after the first); tokens are cached per registry and scopes like the
 * HEAD's. REFUSED: the registry answered 401 to what this gave before, so
 * this token is asked again, and the host's challenge too: CHALLENGE (that
 * 401's WWW-Authenticate values, one a line, or NULL) if it holds Bearer or
 * Basic, which is then kept as the host's, else GET /v2/ again. The value
 * is a secret: it goes to curl and nowhere else. Each request is tried once,
 * whatever the request policy: the caller is the upload state machine
 * (upload.h), whose failure streak decides whether to ask again. */
dray_error_t *dray_registry_push_auth(const char **authorization,
                                      dray_registry_t *reg,
                                      const char *domain,
                                      const char *repo,
                                      const apr_array_header_t *mount_from,
                                      int refused,
                                      const char *challenge,
                                      dray_cancel_t *cancel,
                                      apr_pool_t *result_pool,
                                      apr_pool_t *scratch_pool);

/* GET the single-image manifest of REFERENCE (Docker v2 schema 2 or OCI) and
 * read its config's digest into *CONFIG_DIGEST (NULL when the manifest has
 * none: an index, say); OUT as for dray_registry_head_manifest. */
dray_error_t *dray_registry_manifest_config(const char **config_digest,
                                            dray_registry_manifest_t *out,
                                            dray_registry_t *reg,
                                            const char *reference,
                                            dray_cancel_t *cancel,
                                            apr_pool_t *result_pool,
                                            apr_pool_t *scratch_pool);

typedef struct dray_auth_challenge_t {
  const char *scheme;         /* "Basic" or "Bearer" (as sent), NULL if none */
  const char *realm;
  const char *service;
  const char *scope;
} dray_auth_challenge_t;

/* The longest WWW-Authenticate value parsed: real ones are a few hundred
 * bytes (realm, service, scope). */
#define DRAY_REGISTRY_MAX_CHALLENGE 8192

/* Parse one WWW-Authenticate value (quoted strings with \-escapes, commas,
 * spaces), in time and memory linear in its length. Returns 0 if it has no
 * scheme or is longer than DRAY_REGISTRY_MAX_CHALLENGE bytes. */
int dray_registry_parse_challenge(dray_auth_challenge_t *out, const char *header,
                                  apr_pool_t *result_pool);

/* Whether credentials may go to the token REALM (a URL from a Bearer
 * challenge) of the registry at HOST ("host[:port]"): over HTTPS, or to HOST
 * itself, or to a host --insecure-registry names (in REG; may be NULL).
 * Otherwise a registry's challenge could send them anywhere in clear text. */
int dray_registry_realm_may_get_credentials(const dray_registry_t *reg, const char *host,
                                            const char *realm, apr_pool_t *scratch_pool);

/* "CODE: message; CODE: message" from a distribution error body
 * {"errors":[{"code","message","detail"}]}, or NULL if BODY is not one. */
const char *dray_registry_error_text(const char *body, apr_size_t len,
                                     apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_REGISTRY_H */
