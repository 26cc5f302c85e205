/* imageread.h — reading a built image out of the engine as registry blobs.
 *
 * (Or the same from podman's CLI: see dray_image_source_t.)
 * GET /images/{name}/json gives the image ID (the config's digest) and
 * RootFS.Layers (each layer's diff ID: the SHA-256 of its uncompressed tar).
 * GET /images/get ("docker save") streams a tar holding the config and each
 * layer's tar. The stream is read once, as it arrives, never held whole in
 * memory: each layer is compressed (blob.h) into a private temporary file
 * (its "spill") while it is hashed, which gives its blob's digest and size
 * and the bytes an upload sends, from any offset, so that an upload cut off
 * midway resumes where the registry says it stopped; the config's bytes are
 * kept. A layer the caller already knows (its digest, from another image of
 * the run that shares it) is only hashed: no second compression of a shared
 * base. Without a spill (a layer known from another image whose upload
 * failed) a layer is streamed once more (dray_layer_reader_*) and
 * compressed again to the same bytes. Entries are matched to layers by diff
 * ID, whatever their names in the stream's format. A layer the engine
 * exports compressed already (gzip: dockerd 25+ with the containerd image
 * store) is pushed as it is; its diff ID is checked on what it inflates
 * to. Spills live in the run's private temporary folder (runtmp.h: in
 * TMPDIR; TEMP on Windows), one image's new layers at a time per pusher.
 */
#ifndef DRAY_IMAGEREAD_H
#define DRAY_IMAGEREAD_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "dray/cancel.h"
#include "dray/engine.h"
#include "dray/error.h"
#include "dray/runtmp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A config larger than this is refused (real ones are a few KiB). */
#define DRAY_IMAGEREAD_CONFIG_MAX (8 * 1024 * 1024)

/* Seconds an engine command (podman save) may go without output before it
 * is taken for hung and stopped. */
#define DRAY_IMAGEREAD_COMMAND_IDLE 300

/* Where images are read from: the Engine API (dockerd), or an engine
 * command's CLI (podman: "podman image inspect", "podman save --format
 * docker-archive", its stdout read as it comes). Both give the same save
 * stream, read by the same code. */
typedef struct dray_image_source_t dray_image_source_t;

/* ENGINE's API; reads put their spills in RUNTMP's folder (both must
 * outlive the source). */
dray_image_source_t *dray_image_source_engine(const dray_engine_t *engine,
                                              dray_runtmp_t *runtmp,
                                              apr_pool_t *result_pool);

/* ENGINE_CMD (podman) with ENV ("K=V", NULL-ended, or NULL; kept, not
 * copied) added to its environment; spills as above. */
dray_image_source_t *dray_image_source_command(const char *engine_cmd, const char *const *env,
                                               dray_runtmp_t *runtmp,
                                               apr_pool_t *result_pool);

/* The local ID ("sha256:…", the config's digest) of IMAGE. */
dray_error_t *dray_image_source_id(const char **id, const dray_image_source_t *source,
                                   const char *image, dray_cancel_t *cancel,
                                   apr_pool_t *result_pool, apr_pool_t *scratch_pool);

/* Whether an image built for several platforms stays a manifest list
 * under its reference (podman's "build --manifest"), which is not read
 * here: only its CLI pushes it. (docker's engine keeps one image.) */
int dray_image_source_keeps_lists(const dray_image_source_t *source);

/* A comment line for --dry-run: how IMAGE is read and pushed. */
const char *dray_image_source_describe(const dray_image_source_t *source, const char *image,
                                       apr_pool_t *result_pool);

typedef struct dray_image_layer_t {
  const char *diff_id;        /* "sha256:…" of the uncompressed tar */
  const char *digest;         /* "sha256:…" of the gzip blob */
  apr_int64_t size;           /* the blob's size */
  const char *entry;          /* its entry in the engine's tar stream */
  apr_int64_t raw_size;       /* the size of that entry; 0: unknown */
  /* The entry is a gzip blob already (the containerd image store of
   * docker 25+ exports layers so): pushed as it is, not compressed. */
  int as_is;
  /* A private file holding the blob, made by the read that filled this in
   * and removed with that read's RESULT_POOL; NULL: none (read the layer
   * again with dray_layer_reader_open). */
  const char *spill;
} dray_image_layer_t;

/* The manifest the engine's own push would send for the image. */
typedef enum dray_image_manifest_kind_t {
  DRAY_IMAGE_MANIFEST_DOCKER = 0, /* Docker v2 schema 2 (dockerd; podman's "docker" format) */
  DRAY_IMAGE_MANIFEST_OCI         /* OCI (podman's images by default) */
} dray_image_manifest_kind_t;

typedef struct dray_image_blobs_t {
  const char *id;             /* the image ID: the config's digest */
  dray_image_manifest_kind_t manifest_kind;
  const char *config;         /* the config's bytes, as the engine keeps them */
  apr_size_t config_len;
  apr_array_header_t *layers; /* dray_image_layer_t, base first (RootFS order) */
  apr_int64_t bytes_read;     /* bytes of the engine's stream read */
} dray_image_blobs_t;

/* The ID and diff IDs of IMAGE (a name or ID), from GET /images/{name}/json:
 * *BLOBS has no config and no layer digests yet. DRAY_ERR_NOT_FOUND for no
 * such image. */
dray_error_t *dray_image_inspect(dray_image_blobs_t **blobs,
                                 const dray_image_source_t *source,
                                 const char *image,
                                 dray_cancel_t *cancel,
                                 apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool);

/* Complete BLOBS (from dray_image_inspect) from the save stream: each
 * layer's blob digest, size, entry and spill, and the config (in
 * RESULT_POOL; the spills are removed with it). A layer whose digest, size
 * and raw_size the caller filled in already (known from another image of
 * the run, by diff_id) is not compressed again, and has no spill.
 * DRAY_ERR_PROTOCOL when the stream lacks a layer or the config. */
dray_error_t *dray_image_read_blobs(dray_image_blobs_t *blobs,
                                    const dray_image_source_t *source,
                                    dray_cancel_t *cancel,
                                    apr_pool_t *result_pool,
                                    apr_pool_t *scratch_pool);

/* Both: IMAGE read whole. */
dray_error_t *dray_image_read(dray_image_blobs_t **blobs,
                              const dray_image_source_t *source,
                              const char *image,
                              dray_cancel_t *cancel,
                              apr_pool_t *result_pool,
                              apr_pool_t *scratch_pool);

/* A copy of BLOBS, all of it in RESULT_POOL. */
dray_image_blobs_t *dray_image_blobs_dup(const dray_image_blobs_t *blobs,
                                         apr_pool_t *result_pool);

typedef struct dray_layer_reader_t dray_layer_reader_t;

/* Stream LAYER of image ID (from dray_image_read) compressed, starting at
 * byte OFFSET of the blob. Everything lives in POOL. */
dray_error_t *dray_layer_reader_open(dray_layer_reader_t **reader,
                                     const dray_image_source_t *source,
                                     const char *id,
                                     const dray_image_layer_t *layer,
                                     apr_int64_t offset,
                                     dray_cancel_t *cancel,
                                     apr_pool_t *pool);

/* Up to LEN bytes of the blob into BUF; *GOT 0 at its end, where the blob's
 * digest has been checked (DRAY_ERR_PROTOCOL if the engine's layer changed). */
dray_error_t *dray_layer_reader_read(dray_layer_reader_t *reader, char *buf, apr_size_t len,
                                     apr_size_t *got);

/* Close the engine's stream now rather than with the pool. */
void dray_layer_reader_close(dray_layer_reader_t *reader);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_IMAGEREAD_H */
