/* manifest.h — the image manifest dray pushes: Docker v2 schema 2, what
 * "docker push" of an image from the engine's own store sends.
 *
 * The bytes are built here, not by a JSON library's formatting, so that the
 * same blobs always give the same manifest and digest: a second push of an
 * unchanged image is a no-op for the registry, and the digest dray reports
 * is the one the registry computes.
 */
#ifndef DRAY_MANIFEST_H
#define DRAY_MANIFEST_H

#include <apr_pools.h>

#include "dray/imageread.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_MANIFEST_MEDIA_TYPE "application/vnd.docker.distribution.manifest.v2+json"
#define DRAY_MANIFEST_CONFIG_TYPE "application/vnd.docker.container.image.v1+json"
#define DRAY_MANIFEST_LAYER_TYPE "application/vnd.docker.image.rootfs.diff.tar.gzip"

typedef struct dray_manifest_t {
  const char *body;
  apr_size_t len;
  const char *digest;         /* "sha256:…" of BODY */
} dray_manifest_t;

/* The manifest of BLOBS (every layer's digest and size known). */
void dray_manifest_build(dray_manifest_t *manifest, const dray_image_blobs_t *blobs,
                         apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_MANIFEST_H */
