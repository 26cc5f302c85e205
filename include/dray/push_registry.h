/* push_registry.h — the registry push driver: dray itself is the registry
 * client (as skopeo's docker-daemon: transport and go-containerregistry's
 * daemon + remote are).
 *
 * The image is read from the engine (imageread.h: dockerd's API, or
 * podman's "podman save"), its new layers compressed deterministically
 * into temporary files, by the builder that built it while the read-ahead
 * bound allows (prepare), else by its push; its blobs go up through upload.h (HEAD, mount, chunked
 * upload that resumes), several at once up to the driver's per-push limit,
 * each unique blob once per run (blobtrack.h: a blob another push is
 * uploading is waited for, then mounted); then the Docker v2 schema 2
 * manifest by tag (manifest.h). Nothing waits forever: every request has a
 * connect timeout and the request's stall timeout as its no-progress
 * watchdog, and is retried alone.
 */
#ifndef DRAY_PUSH_REGISTRY_H
#define DRAY_PUSH_REGISTRY_H

#include <apr_pools.h>

#include "dray/error.h"
#include "dray/imageread.h"
#include "dray/push.h"
#include "dray/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Blobs of one image uploaded at once. */
#define DRAY_PUSH_REGISTRY_BLOB_JOBS 3

/* Images are read ahead of their pushes (prepare: by the builder, right
 * after the build) while the new layers waiting in temporary files for
 * their pushes stay under this many bytes; past it, a push reads its image
 * itself. A read is kept until its image is pushed, so that a retry need
 * not read it again. */
#define DRAY_PUSH_REGISTRY_READ_AHEAD_BYTES ((apr_int64_t)2 * 1024 * 1024 * 1024)

/* A driver reading images from SOURCE and pushing with REGISTRY's auth and
 * plain-HTTP rules, BLOB_JOBS (0: the default) blobs of an image at once.
 * SOURCE and REGISTRY must outlive it; it may be used from several threads
 * at once, and tracks blobs for its whole life (one run). */
dray_error_t *dray_push_registry_driver_create(dray_push_driver_t **driver,
                                               const dray_image_source_t *source,
                                               dray_registry_t *registry,
                                               int blob_jobs,
                                               apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PUSH_REGISTRY_H */
