/* verify.c — registry HEAD checks before and after a push. */
#include "dray/verify.h"

#include <string.h>

#include <apr_strings.h>

#include "dray/ref.h"

dray_error_t *dray_verify_pushed(dray_outcome_t *outcome,
                                 dray_registry_t *registry,
                                 const char *reference,
                                 const char *digest,
                                 dray_cancel_t *cancel,
                                 apr_interval_time_t *retry_after,
                                 apr_pool_t *scratch_pool)
{
  dray_registry_manifest_t m;
  dray_error_t *err;

  *retry_after = 0;
  *outcome = DRAY_OUTCOME_VERIFY;
  memset(&m, 0, sizeof(m));
  err = dray_registry_head_manifest(&m, registry, reference, cancel, scratch_pool, scratch_pool);
  if (err) {
    /* The registry could not be asked: why decides whether to ask again. */
    *retry_after = m.retry_after;
    *outcome = dray_outcome_from_error(err, m.http_status, DRAY_OUTCOME_NETWORK, scratch_pool);
    return dray_error_quick_wrapf(err, "cannot verify %s", reference);
  }
  if (!m.found)
    return dray_error_createf(DRAY_ERR_VERIFY, NULL,
                              "verify %s: the registry does not serve this tag after the push",
                              reference);
  if (!m.digest || strcmp(m.digest, digest) != 0)
    return dray_error_createf(DRAY_ERR_VERIFY, NULL,
                              "verify %s: the registry serves %s, the push reported %s",
                              reference, m.digest ? m.digest : "no digest", digest);
  *outcome = DRAY_OUTCOME_OK;
  return DRAY_NO_ERROR;
}

/* "host/repo:tag" -> normalised repository name, or NULL. */
static const char *normalized_repo(const char *s, apr_pool_t *pool)
{
  dray_ref_t *ref;
  dray_error_t *err = dray_ref_parse(&ref, s, pool);
  if (err) {
    dray_error_clear(err);
    return NULL;
  }
  return dray_ref_normalized_name(ref, pool);
}

int dray_verify_repo_digest_matches(const char *repo_digest, const char *reference,
                                    const char *digest, apr_pool_t *scratch_pool)
{
  const char *at = strrchr(repo_digest, '@');
  const char *a, *b;
  if (!at || strcmp(at + 1, digest) != 0)
    return 0;
  a = normalized_repo(apr_pstrmemdup(scratch_pool, repo_digest, (apr_size_t)(at - repo_digest)),
                      scratch_pool);
  b = normalized_repo(reference, scratch_pool);
  return a && b && strcmp(a, b) == 0;
}

/* The local image ID of REFERENCE, or NULL if it cannot be had. */
static const char *local_image_id(const dray_image_source_t *images, const char *reference,
                                  dray_cancel_t *cancel, apr_pool_t *pool)
{
  const char *id = NULL;
  dray_error_t *err = dray_image_source_id(&id, images, reference, cancel, pool, pool);
  if (err) {
    dray_error_clear(err);
    return NULL;
  }
  return id;
}

dray_error_t *dray_verify_up_to_date(int *up_to_date,
                                     const char **digest,
                                     dray_registry_t *registry,
                                     const dray_engine_t *engine,
                                     const dray_image_source_t *images,
                                     const char *reference,
                                     dray_cancel_t *cancel,
                                     apr_pool_t *result_pool,
                                     apr_pool_t *scratch_pool)
{
  dray_registry_manifest_t m;
  apr_array_header_t *repo_digests = NULL;
  const char *config, *id;
  dray_error_t *err;
  int i;

  *up_to_date = 0;
  *digest = NULL;
  if ((!engine && !images) || !registry)
    return DRAY_NO_ERROR;
  memset(&m, 0, sizeof(m));
  err = dray_registry_head_manifest(&m, registry, reference, cancel, scratch_pool, scratch_pool);
  if (err || !m.found || !m.digest) {
    /* Not there, or cannot tell: the push will find out. */
    dray_error_clear(err);
    return DRAY_NO_ERROR;
  }
  err = engine ? dray_engine_repo_digests(&repo_digests, engine, reference, cancel, scratch_pool,
                                          scratch_pool)
               : DRAY_NO_ERROR;
  if (err) {
    dray_error_clear(err);
    return DRAY_NO_ERROR;
  }
  for (i = 0; engine && i < repo_digests->nelts; i++)
    if (dray_verify_repo_digest_matches(APR_ARRAY_IDX(repo_digests, i, const char *), reference,
                                        m.digest, scratch_pool)) {
      *up_to_date = 1;
      *digest = apr_pstrdup(result_pool, m.digest);
      return DRAY_NO_ERROR;
    }
  /* An image that dray uploaded itself (the registry driver) is not in the
   * engine's RepoDigests: the manifest's config is the image then. */
  id = images ? local_image_id(images, reference, cancel, scratch_pool) : NULL;
  err = id ? dray_registry_manifest_config(&config, &m, registry, reference, cancel,
                                           scratch_pool, scratch_pool)
           : DRAY_NO_ERROR;
  if (err || !id || !m.found || !m.digest || !config || strcmp(config, id)) {
    dray_error_clear(err);
    return DRAY_NO_ERROR;
  }
  *up_to_date = 1;
  *digest = apr_pstrdup(result_pool, m.digest);
  return DRAY_NO_ERROR;
}
