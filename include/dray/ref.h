/* ref.h — image references: parsing and validation.
 *
 * The grammar is that of github.com/distribution/reference (regexp.go):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path
 *   domain     := host [ ":" port ]         host: "a-b.c" components or "[ipv6]"
 *   path       := component ( "/" component )*
 *   component  := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := "sha256:" 64 lowercase hex | "sha512:" 128 lowercase hex
 *
 * The first component is taken as the domain the way docker does it: only when
 * a "/" follows it and it contains "." or ":", is "localhost", or has an
 * uppercase letter. "busybox" therefore has no domain; its familiar
 * (normalised) name is "docker.io/library/busybox".
 */
#ifndef DRAY_REF_H
#define DRAY_REF_H

#include <apr_pools.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest name (domain + "/" + path) a registry accepts. */
#define DRAY_REF_NAME_MAX 255
#define DRAY_REF_TAG_MAX  128

typedef struct dray_ref_t {
  const char *domain;   /* "localhost:5000", or NULL when the name has none */
  const char *path;     /* "ns/web" */
  const char *tag;      /* or NULL */
  const char *digest;   /* "sha256:…", or NULL */
  const char *name;     /* domain "/" path, or path: the repository as written */
} dray_ref_t;

/* Parse S into *REF (allocated in RESULT_POOL). On failure returns a
 * DRAY_ERR_INPUT error 'invalid reference "S": <reason>'. */
dray_error_t *dray_ref_parse(dray_ref_t **ref, const char *s,
                             apr_pool_t *result_pool);

/* Whether NAME is a valid repository name (optional domain + path, no tag or
 * digest). */
int dray_ref_is_valid_name(const char *name, apr_pool_t *scratch_pool);

/* Whether PATH is a valid path alone: components joined by "/", no domain
 * recognised or not. Used for names derived from folders. */
int dray_ref_is_valid_path(const char *path, apr_pool_t *scratch_pool);

/* Why PATH is not a valid path (a short reason), or NULL if it is valid. */
const char *dray_ref_path_problem(const char *path, apr_pool_t *result_pool);

int dray_ref_is_valid_tag(const char *tag);

/* TEXT made into one path component: characters outside A-Z a-z 0-9 . _ -
 * dropped, a run of separators that the grammar does not allow ("-_", "._",
 * "___") made one "-", none at either end; "" if nothing is left. Capitals
 * are kept: a name with them is still refused, by the grammar's own words.
 * For names dray makes up ("<project>-<service>"). */
const char *dray_ref_path_component(const char *text, apr_pool_t *result_pool);

/* Validate a registry prefix HOST[:PORT][/NAMESPACE] (a trailing "/" is
 * allowed and dropped). On success *NORMALIZED (may be NULL) is the prefix
 * without trailing "/", in RESULT_POOL. A first component that docker would
 * not read as a domain (no "." or ":", not "localhost") is accepted: docker
 * reads it as a Docker Hub namespace, and so will the built references. */
dray_error_t *dray_ref_check_registry(const char **normalized,
                                      const char *registry,
                                      apr_pool_t *result_pool);

/* PREFIX "/" NAME, or NAME when PREFIX is NULL or empty. */
const char *dray_ref_join(const char *prefix, const char *name,
                          apr_pool_t *result_pool);

/* The familiar, fully qualified repository of REF: domain defaults to
 * "docker.io" (every Docker Hub domain, see dray_ref_domain_is_docker_hub,
 * is the same), and a single-component path on
 * docker.io gets "library/". "busybox" -> "docker.io/library/busybox". */
const char *dray_ref_normalized_name(const dray_ref_t *ref,
                                     apr_pool_t *result_pool);

/* Whether DOMAIN (a reference's domain, or NULL) is Docker Hub: none at
 * all, "docker.io", "index.docker.io" or "registry-1.docker.io" (its API
 * host). The one place that decides it. */
int dray_ref_domain_is_docker_hub(const char *domain);

/* ---- digests -------------------------------------------------------------
 * One strict rule for every digest dray accepts (references, registry
 * headers, the engine's RepoDigests, push output): "sha256:" followed by
 * exactly 64 lowercase hex digits, or "sha512:" and 128. Nothing else: no
 * uppercase, no surrounding white space, no other algorithm. */

/* Whether S is such a digest. S may be NULL (no). */
int dray_digest_is_valid(const char *s);

/* S[0..LEN) copied into RESULT_POOL (NUL-terminated) if it is a valid
 * digest, else NULL. S need not be NUL-terminated. */
const char *dray_digest_parse(const char *s, apr_size_t len, apr_pool_t *result_pool);

/* Why S[0..LEN) is not a valid digest (a short reason for messages), or NULL
 * if it is one. */
const char *dray_digest_problem(const char *s, apr_size_t len, apr_pool_t *result_pool);

/* REF back as a string: name[:tag][@digest]. */
const char *dray_ref_string(const dray_ref_t *ref, apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_REF_H */
