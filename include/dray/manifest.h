/* manifest.h — the image manifest dray pushes: what the engine's own push
 * would send. Docker v2 schema 2 for dockerd's images; for podman's, the
 * manifest type podman keeps for the image (OCI for what it builds, unless
 * told to build Docker images).
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

#define DRAY_MANIFEST_OCI_MEDIA_TYPE "application/vnd.oci.image.manifest.v1+json"
#define DRAY_MANIFEST_OCI_CONFIG_TYPE "application/vnd.oci.image.config.v1+json"
#define DRAY_MANIFEST_OCI_LAYER_TYPE "application/vnd.oci.image.layer.v1.tar+gzip"

typedef struct dray_manifest_t {
  const char *body;
  apr_size_t len;
  const char *digest;         /* "sha256:…" of BODY */
  const char *media_type;     /* its Content-Type */
} dray_manifest_t;

/* The manifest of BLOBS (every layer's digest and size known), of the
 * kind BLOBS->manifest_kind says. */
void dray_manifest_build(dray_manifest_t *manifest, const dray_image_blobs_t *blobs,
                         apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_MANIFEST_H */
