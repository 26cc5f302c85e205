/* auth.h — registry credentials the way the docker CLI finds them.
 *
 * Source: $DOCKER_CONFIG/config.json (default ~/.docker/config.json):
 *   auths       { key: { auth: base64("user:pass"), username, password,
 *                        identitytoken } }
 *   credsStore  "suffix"              -> docker-credential-suffix for all
 *   credHelpers { host: "suffix" }    -> per registry, wins over credsStore
 * Keys are "https://index.docker.io/v1/" for Docker Hub and host[:port]
 * otherwise; keys with a scheme or a path are tolerated as the CLI does.
 *
 * Secrets stay in memory only: no function here puts a username, password or
 * token into an error message; errors name the registry and the helper.
 */
#ifndef DRAY_AUTH_H
#define DRAY_AUTH_H

#include <apr_pools.h>
#include <apr_time.h>

#include "dray/cancel.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The config key of Docker Hub. */
#define DRAY_AUTH_HUB_KEY "https://index.docker.io/v1/"

/* How long a credential helper may take in all, output or not: past it the
 * helper's process tree is killed and the registry's images fail with an
 * error that says so. */
#define DRAY_AUTH_HELPER_DEADLINE apr_time_from_sec(30)

/* Anonymous X-Registry-Auth: base64("{}"). */
#define DRAY_AUTH_ANONYMOUS "e30="

typedef struct dray_auth_config_t dray_auth_config_t;

typedef struct dray_credentials_t {
  const char *username;       /* NULL with an identity token */
  const char *password;
  const char *identitytoken;  /* OAuth refresh token, or NULL */
  const char *serveraddress;  /* the config key: DRAY_AUTH_HUB_KEY or host[:port] */
  const char *source;         /* for messages: "config.json" or
                                 "docker-credential-NAME" (never a secret) */
} dray_credentials_t;

/* Load CONFIG_DIR/config.json (CONFIG_DIR NULL: dray_dockercfg_dir()). A
 * missing file is an empty configuration (anonymous everywhere); a file that
 * is not valid JSON is a DRAY_ERR_INPUT error. The result is safe to share
 * between threads and lives in RESULT_POOL (which must outlive its users). */
dray_error_t *dray_auth_config_load(dray_auth_config_t **cfg,
                                    const char *config_dir,
                                    apr_pool_t *result_pool,
                                    apr_pool_t *scratch_pool);

/* The same from JSON text; ORIGIN names it in errors. */
dray_error_t *dray_auth_config_parse(dray_auth_config_t **cfg,
                                     const char *json, apr_size_t len,
                                     const char *origin,
                                     apr_pool_t *result_pool);

/* The whole-run limit of each helper (default DRAY_AUTH_HELPER_DEADLINE);
 * for tests. Call before sharing CFG between threads. */
void dray_auth_config_set_helper_deadline(dray_auth_config_t *cfg,
                                          apr_interval_time_t deadline);

/* The config key for REGISTRY: DRAY_AUTH_HUB_KEY for Docker Hub
 * (dray_ref_domain_is_docker_hub: NULL, "docker.io", "index.docker.io",
 * "registry-1.docker.io"), else REGISTRY. */
const char *dray_auth_server_key(const char *registry);

/* "host[:port]" of a config key that may carry a scheme and a path. */
const char *dray_auth_key_hostname(const char *key, apr_pool_t *result_pool);

/* The name of the credential helper suffix that serves REGISTRY, or NULL
 * when the auths section applies. */
const char *dray_auth_helper_for(const dray_auth_config_t *cfg,
                                 const char *registry);

/* Credentials for REGISTRY (a reference's domain; NULL means Docker Hub),
 * copied into RESULT_POOL. *CREDS is NULL when there are none (anonymous),
 * also when a helper says it has none. A helper runs at most once per
 * server key for the life of CFG: its answer and its failure (exit code,
 * no valid answer, the deadline) are remembered, so parallel pushes ask it
 * once and a failing helper is not run again for each image; a caller
 * asking for a key whose helper is running waits for that answer, while
 * other keys go ahead (no lock is held while a helper runs). A helper
 * cancelled through CANCEL (or NULL) is not remembered. Thread-safe. */
dray_error_t *dray_auth_get(const dray_credentials_t **creds,
                            dray_auth_config_t *cfg,
                            const char *registry,
                            dray_cancel_t *cancel,
                            apr_pool_t *result_pool,
                            apr_pool_t *scratch_pool);

/* The X-Registry-Auth header value for CREDS (NULL: DRAY_AUTH_ANONYMOUS):
 * base64url, padded, of {"username","password","serveraddress"} or
 * {"identitytoken","serveraddress"}. A secret: never log it. */
const char *dray_auth_registry_header(const dray_credentials_t *creds,
                                      apr_pool_t *result_pool);

/* "Basic base64(user:pass)" for an Authorization header, or NULL when CREDS
 * has no username and password. A secret. */
const char *dray_auth_basic_header(const dray_credentials_t *creds,
                                   apr_pool_t *result_pool);

/* Padded base64url of DATA (RFC 4648 section 5). */
const char *dray_auth_base64url(const void *data, apr_size_t len,
                                apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_AUTH_H */
