/* verify.h — asking the registry what it really serves.
 *
 * After a push, an image counts as pushed only when the registry's
 * Docker-Content-Digest for the tag equals the digest the push reported.
 * Before a push (--skip-existing), a tag the registry already serves with a
 * digest the local image lists in its RepoDigests needs no push.
 */
#ifndef DRAY_VERIFY_H
#define DRAY_VERIFY_H

#include <apr_pools.h>
#include <apr_time.h>

#include "dray/cancel.h"
#include "dray/engine.h"
#include "dray/error.h"
#include "dray/imageread.h"
#include "dray/outcome.h"
#include "dray/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether the registry serves REFERENCE with DIGEST. A mismatch or a missing
 * tag is a DRAY_ERR_VERIFY error naming both digests (*OUTCOME verify); a
 * registry that cannot be asked is its own error, and *OUTCOME says why
 * (rate-limited, network, auth, ...). *RETRY_AFTER gets the registry's
 * Retry-After (429/503), or 0. */
dray_error_t *dray_verify_pushed(dray_outcome_t *outcome,
                                 dray_registry_t *registry,
                                 const char *reference,
                                 const char *digest,
                                 dray_cancel_t *cancel,
                                 apr_interval_time_t *retry_after,
                                 apr_pool_t *scratch_pool);

/* Whether a RepoDigests entry ("repo@sha256:…") names REFERENCE's repository
 * with DIGEST, comparing normalised repository names. */
int dray_verify_repo_digest_matches(const char *repo_digest, const char *reference,
                                    const char *digest, apr_pool_t *scratch_pool);

/* *UP_TO_DATE is set when the registry serves REFERENCE with a digest that the
 * local image REFERENCE lists in its RepoDigests (asked through ENGINE, when
 * not NULL), or with a manifest whose config is the local image (its ID
 * asked through IMAGES, when not NULL: what the registry driver pushed, or
 * podman); then *DIGEST is that digest. Anything that cannot be asked means
 * "push". */
dray_error_t *dray_verify_up_to_date(int *up_to_date,
                                     const char **digest,
                                     dray_registry_t *registry,
                                     const dray_engine_t *engine,
                                     const dray_image_source_t *images,
                                     const char *reference,
                                     dray_cancel_t *cancel,
                                     apr_pool_t *result_pool,
                                     apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_VERIFY_H */
