/* blob.c — deterministic gzip and SHA-256 in one pass. */
#include "dray/blob.h"

#include <string.h>

#include <apr_random.h>
#include <apr_strings.h>
#include <zlib.h>

struct dray_sha256_t {
  apr_crypto_hash_t *hash;
};

dray_sha256_t *dray_sha256_create(apr_pool_t *result_pool)
{
  dray_sha256_t *sha = apr_palloc(result_pool, sizeof(*sha));
  sha->hash = apr_crypto_sha256_new(result_pool);
  sha->hash->init(sha->hash);
  return sha;
}

void dray_sha256_add(dray_sha256_t *sha, const void *data, apr_size_t len)
{
  if (len)
    sha->hash->add(sha->hash, data, len);
}

const char *dray_sha256_digest(dray_sha256_t *sha, apr_pool_t *result_pool)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char d[32];
  char *out = apr_palloc(result_pool, DRAY_BLOB_DIGEST_LEN + 1);
  sha->hash->finish(sha->hash, d);
  memcpy(out, "sha256:", 7);
  for (int i = 0; i < 32; i++) {
    out[7 + 2 * i] = hex[d[i] >> 4];
    out[7 + 2 * i + 1] = hex[d[i] & 15];
  }
  out[DRAY_BLOB_DIGEST_LEN] = '\0';
  return out;
}

const char *dray_sha256_of(const void *data, apr_size_t len, apr_pool_t *result_pool)
{
  dray_sha256_t *sha = dray_sha256_create(result_pool);
  dray_sha256_add(sha, data, len);
  return dray_sha256_digest(sha, result_pool);
}

#define OUT_SIZE 65536

struct dray_blob_writer_t {
  z_stream z;
  gz_header header;
  int open;                   /* deflateInit2 succeeded, deflateEnd pending */
  int finished;
  dray_sha256_t *sha;
  apr_int64_t size;           /* compressed bytes out */
  apr_int64_t bytes_in;
  dray_blob_sink_fn sink;
  void *sink_baton;
  unsigned char out[OUT_SIZE];
};

static apr_status_t end_deflate(void *baton)
{
  dray_blob_writer_t *w = baton;
  if (w->open)
    deflateEnd(&w->z);
  w->open = 0;
  return APR_SUCCESS;
}

dray_error_t *dray_blob_writer_create(dray_blob_writer_t **writer,
                                      dray_blob_sink_fn sink, void *sink_baton,
                                      apr_pool_t *pool)
{
  dray_blob_writer_t *w = apr_pcalloc(pool, sizeof(*w));
  int rc;

  w->sha = dray_sha256_create(pool);
  w->sink = sink;
  w->sink_baton = sink_baton;
  /* 15 + 16: a gzip wrapper; memLevel 8 and the default strategy are
   * zlib's defaults, fixed here so that the output does not follow them. */
  rc = deflateInit2(&w->z, DRAY_BLOB_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK)
    return dray_error_createf(APR_ENOMEM, NULL, "cannot start gzip (zlib %d)", rc);
  w->open = 1;
  apr_pool_cleanup_register(pool, w, end_deflate, apr_pool_cleanup_null);
  /* No time, no name, and "unknown" for the OS (zlib would write the one
   * it was built for): the same layer gives the same blob everywhere. */
  memset(&w->header, 0, sizeof(w->header));
  w->header.os = 255;
  rc = deflateSetHeader(&w->z, &w->header);
  if (rc != Z_OK)
    return dray_error_createf(APR_EGENERAL, NULL, "cannot set the gzip header (zlib %d)", rc);
  *writer = w;
  return DRAY_NO_ERROR;
}

/* Run deflate with FLUSH until it has taken all input (and, for Z_FINISH,
 * written the end); hash and hand on what comes out. */
static dray_error_t *pump(dray_blob_writer_t *w, int flush)
{
  for (;;) {
    int rc;
    apr_size_t have;
    w->z.next_out = w->out;
    w->z.avail_out = OUT_SIZE;
    rc = deflate(&w->z, flush);
    if (rc == Z_STREAM_ERROR)
      return dray_error_create(APR_EGENERAL, NULL, "gzip failed (zlib stream error)");
    have = OUT_SIZE - w->z.avail_out;
    if (have) {
      dray_sha256_add(w->sha, w->out, have);
      w->size += (apr_int64_t)have;
      if (w->sink)
        DRAY_ERR(w->sink(w->sink_baton, (const char *)w->out, have));
    }
    if (flush == Z_FINISH ? rc == Z_STREAM_END : (w->z.avail_in == 0 && w->z.avail_out != 0))
      return DRAY_NO_ERROR;
  }
}

dray_error_t *dray_blob_writer_write(dray_blob_writer_t *w, const void *data, apr_size_t len)
{
  const unsigned char *p = data;
  if (w->finished)
    return dray_error_create(APR_EGENERAL, NULL, "gzip: write after the end");
  w->bytes_in += (apr_int64_t)len;
  /* zlib counts in uInt: feed a huge buffer in pieces. */
  while (len) {
    uInt take = len > 0x40000000u ? 0x40000000u : (uInt)len;
    w->z.next_in = (Bytef *)p;
    w->z.avail_in = take;
    DRAY_ERR(pump(w, Z_NO_FLUSH));
    p += take;
    len -= take;
  }
  return DRAY_NO_ERROR;
}

dray_error_t *dray_blob_writer_finish(dray_blob_writer_t *w, const char **digest,
                                      apr_int64_t *size, apr_pool_t *result_pool)
{
  if (w->finished)
    return dray_error_create(APR_EGENERAL, NULL, "gzip: finished twice");
  w->z.next_in = NULL;
  w->z.avail_in = 0;
  DRAY_ERR(pump(w, Z_FINISH));
  w->finished = 1;
  end_deflate(w);
  *digest = dray_sha256_digest(w->sha, result_pool);
  *size = w->size;
  return DRAY_NO_ERROR;
}

apr_int64_t dray_blob_writer_bytes_in(const dray_blob_writer_t *w)
{
  return w->bytes_in;
}
