/* blob.h — a layer becomes a registry blob: gzip through zlib and SHA-256,
 * in one streaming pass, deterministically.
 *
 * The same input always gives the same bytes (no time, no file name, the
 * operating system byte fixed to "unknown", fixed zlib parameters, and
 * every choice made from the input's bytes alone), so a layer pushed again,
 * or shared by several images, is the same blob with the same digest and
 * the registry keeps it once. The input is taken in segments of
 * DRAY_BLOB_SEGMENT bytes at fixed offsets; a segment whose samples deflate
 * cannot shrink (compressed files, packages, random data) is stored in
 * deflate's stored blocks instead of compressed: still gzip, about as
 * large, and some thirty times cheaper to make. The hashing state also
 * serves plain digests (a config blob, a manifest, a layer's diff ID).
 */
#ifndef DRAY_BLOB_H
#define DRAY_BLOB_H

#include <apr_pools.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* zlib's default level: what "docker push" gets close to in size. */
#define DRAY_BLOB_GZIP_LEVEL 6

/* Input bytes per compress-or-store decision. Part of the format: a
 * different size gives other blobs for the same layers. */
#define DRAY_BLOB_SEGMENT (1024 * 1024)

/* "sha256:" and 64 lowercase hex digits. */
#define DRAY_BLOB_DIGEST_LEN 71

/* A running SHA-256. */
typedef struct dray_sha256_t dray_sha256_t;

dray_sha256_t *dray_sha256_create(apr_pool_t *result_pool);
void dray_sha256_add(dray_sha256_t *sha, const void *data, apr_size_t len);
/* "sha256:<hex>" of everything added, in RESULT_POOL; ends the hash. */
const char *dray_sha256_digest(dray_sha256_t *sha, apr_pool_t *result_pool);
/* The digest of one buffer. */
const char *dray_sha256_of(const void *data, apr_size_t len, apr_pool_t *result_pool);

/* Where compressed bytes go; a non-NULL error stops the stream. */
typedef dray_error_t *(*dray_blob_sink_fn)(void *baton, const char *data, apr_size_t len);

typedef struct dray_blob_writer_t dray_blob_writer_t;

/* A writer that compresses what it is given, hashes the compressed bytes
 * and hands them to SINK (or NULL: only measure). Its zlib state is freed
 * with POOL. */
dray_error_t *dray_blob_writer_create(dray_blob_writer_t **writer,
                                      dray_blob_sink_fn sink, void *sink_baton,
                                      apr_pool_t *pool);

dray_error_t *dray_blob_writer_write(dray_blob_writer_t *writer, const void *data,
                                     apr_size_t len);

/* Flush the end of the stream; *DIGEST (in RESULT_POOL) and *SIZE are the
 * blob's. The writer cannot be written after. */
dray_error_t *dray_blob_writer_finish(dray_blob_writer_t *writer, const char **digest,
                                      apr_int64_t *size, apr_pool_t *result_pool);

/* Uncompressed bytes written so far. */
apr_int64_t dray_blob_writer_bytes_in(const dray_blob_writer_t *writer);

/* Of those, the bytes of segments stored rather than compressed. */
apr_int64_t dray_blob_writer_bytes_stored(const dray_blob_writer_t *writer);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_BLOB_H */
