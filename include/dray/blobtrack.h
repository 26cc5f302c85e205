/* blobtrack.h — which blobs this run has put in which registry, so that
 * each unique blob is uploaded once per run.
 *
 * A pusher about to upload a blob claims it. The first claim of a blob is
 * the caller's to upload (then it says done or failed); a claim of a blob
 * another pusher is uploading waits for that upload to end, then names the
 * repository that holds it (to mount from there); a failed upload passes
 * the blob to the next claimer. Shared by every pusher thread: one mutex,
 * one condition; the waiting checks the cancel token twice a second.
 */
#ifndef DRAY_BLOBTRACK_H
#define DRAY_BLOBTRACK_H

#include <apr_pools.h>

#include "dray/cancel.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_blobtrack_t dray_blobtrack_t;

/* A tracker in RESULT_POOL (which it uses only under its lock). */
dray_error_t *dray_blobtrack_create(dray_blobtrack_t **track, apr_pool_t *result_pool);

/* Claim blob DIGEST of registry REGISTRY ("host[:port]"). *HOLDER is NULL
 * when the caller is to upload it (and must then call done or failed), else
 * the repository that holds it (in RESULT_POOL). DRAY_ERR_CANCELLED when
 * CANCEL (or NULL) ends the wait. */
dray_error_t *dray_blobtrack_claim(const char **holder, dray_blobtrack_t *track,
                                   const char *registry, const char *digest,
                                   dray_cancel_t *cancel, apr_pool_t *result_pool);

/* The claimed blob is now in REPO. Waiters wake. */
void dray_blobtrack_done(dray_blobtrack_t *track, const char *registry, const char *digest,
                         const char *repo);

/* The claimed blob's upload failed: the next claimer uploads it. */
void dray_blobtrack_failed(dray_blobtrack_t *track, const char *registry, const char *digest);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_BLOBTRACK_H */
