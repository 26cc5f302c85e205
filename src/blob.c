/* blob.c — deterministic gzip and SHA-256 in one pass. */
#include "dray/blob.h"

#include <stdlib.h>
#include <string.h>

#include <apr_random.h>
#include <apr_strings.h>
#include <zlib.h>
#ifdef DRAY_HAVE_LIBCRYPTO
#include <openssl/evp.h>
#endif

/* SHA-256 from libcrypto where the build has it (several times APR's
 * portable C, with the CPU's SHA instructions: every byte of every pushed
 * layer is hashed twice), else APR's own. */
#ifdef DRAY_HAVE_LIBCRYPTO
struct dray_sha256_t {
  EVP_MD_CTX *ctx;
};

static apr_status_t sha256_free(void *baton)
{
  dray_sha256_t *sha = baton;
  EVP_MD_CTX_free(sha->ctx);
  sha->ctx = NULL;
  return APR_SUCCESS;
}

dray_sha256_t *dray_sha256_create(apr_pool_t *result_pool)
{
  dray_sha256_t *sha = apr_palloc(result_pool, sizeof(*sha));
  sha->ctx = EVP_MD_CTX_new();
  if (!sha->ctx || EVP_DigestInit_ex(sha->ctx, EVP_sha256(), NULL) != 1)
    abort(); /* out of memory: APR's allocator aborts alike */
  apr_pool_cleanup_register(result_pool, sha, sha256_free, apr_pool_cleanup_null);
  return sha;
}

void dray_sha256_add(dray_sha256_t *sha, const void *data, apr_size_t len)
{
  if (len)
    EVP_DigestUpdate(sha->ctx, data, len);
}

static void sha256_finish(dray_sha256_t *sha, unsigned char d[32])
{
  EVP_DigestFinal_ex(sha->ctx, d, NULL);
}
#else
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

static void sha256_finish(dray_sha256_t *sha, unsigned char d[32])
{
  sha->hash->finish(sha->hash, d);
}
#endif

const char *dray_sha256_digest(dray_sha256_t *sha, apr_pool_t *result_pool)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char d[32];
  char *out = apr_palloc(result_pool, DRAY_BLOB_DIGEST_LEN + 1);
  sha256_finish(sha, d);
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

/* The output buffer's size is part of the format: deflate's stored blocks
 * are cut to the room it is given, so a different size gives other bytes. */
#define OUT_SIZE 65536

/* Samples that decide a segment: SAMPLES pieces of SAMPLE bytes, spread
 * over it, compressed on their own at level 1. */
#define SAMPLE 8192
#define SAMPLES 4
/* A segment whose samples shrink by less than this (percent) is stored. */
#define STORE_BELOW_SAVING 5

struct dray_blob_writer_t {
  z_stream z;
  gz_header header;
  int open;                   /* deflateInit2 succeeded, deflateEnd pending */
  int finished;
  int level;                  /* the level deflate runs at now */
  z_stream trial;             /* the samples' deflate (raw, level 1) */
  int trial_open;
  dray_sha256_t *sha;
  apr_int64_t size;           /* compressed bytes out */
  apr_int64_t bytes_in;
  apr_int64_t stored_in;      /* input bytes of segments stored as they are */
  dray_blob_sink_fn sink;
  void *sink_baton;
  unsigned char *seg;         /* the segment being filled: DRAY_BLOB_SEGMENT */
  apr_size_t seg_len;
  unsigned char out[OUT_SIZE];
  unsigned char trial_out[SAMPLE + 1024];
};

static apr_status_t end_deflate(void *baton)
{
  dray_blob_writer_t *w = baton;
  if (w->open)
    deflateEnd(&w->z);
  if (w->trial_open)
    deflateEnd(&w->trial);
  w->open = w->trial_open = 0;
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
  w->seg = apr_palloc(pool, DRAY_BLOB_SEGMENT);
  w->level = DRAY_BLOB_GZIP_LEVEL;
  /* 15 + 16: a gzip wrapper; memLevel 8 and the default strategy are
   * zlib's defaults, fixed here so that the output does not follow them. */
  rc = deflateInit2(&w->z, w->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK)
    return dray_error_createf(APR_ENOMEM, NULL, "cannot start gzip (zlib %d)", rc);
  w->open = 1;
  apr_pool_cleanup_register(pool, w, end_deflate, apr_pool_cleanup_null);
  rc = deflateInit2(&w->trial, 1, Z_DEFLATED, -13, 8, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK)
    return dray_error_createf(APR_ENOMEM, NULL, "cannot start gzip (zlib %d)", rc);
  w->trial_open = 1;
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

/* Hash and hand on what deflate wrote into the output buffer. */
static dray_error_t *emit(dray_blob_writer_t *w)
{
  apr_size_t have = OUT_SIZE - w->z.avail_out;
  if (!have)
    return DRAY_NO_ERROR;
  dray_sha256_add(w->sha, w->out, have);
  w->size += (apr_int64_t)have;
  return w->sink ? w->sink(w->sink_baton, (const char *)w->out, have) : DRAY_NO_ERROR;
}

/* Run deflate with FLUSH until it has taken all input (and, for Z_FINISH,
 * written the end); hash and hand on what comes out. */
static dray_error_t *pump(dray_blob_writer_t *w, int flush)
{
  for (;;) {
    int rc;
    w->z.next_out = w->out;
    w->z.avail_out = OUT_SIZE;
    rc = deflate(&w->z, flush);
    if (rc == Z_STREAM_ERROR)
      return dray_error_create(APR_EGENERAL, NULL, "gzip failed (zlib stream error)");
    DRAY_ERR(emit(w));
    if (flush == Z_FINISH ? rc == Z_STREAM_END : (w->z.avail_in == 0 && w->z.avail_out != 0))
      return DRAY_NO_ERROR;
  }
}

/* Whether deflate can shrink DATA: a few samples of it, compressed alone.
 * Layers are often mostly compressed already (packages, images, archives),
 * and deflate spends as long failing on such bytes as it does succeeding
 * (~40 MB/s here, against ~1 GB/s for storing them): the samples cost a
 * thirtieth of that. The answer depends on the bytes alone. */
static int worth_compressing(dray_blob_writer_t *w, const unsigned char *data, apr_size_t len)
{
  apr_size_t in = 0, out = 0;
  int n = len >= (apr_size_t)SAMPLE * SAMPLES ? SAMPLES : 1;

  if (len < SAMPLE)
    return 1; /* small: compressing costs nothing worth saving */
  for (int i = 0; i < n; i++) {
    deflateReset(&w->trial);
    w->trial.next_in = (Bytef *)(data + (len / (apr_size_t)n) * (apr_size_t)i);
    w->trial.avail_in = SAMPLE;
    w->trial.next_out = w->trial_out;
    w->trial.avail_out = sizeof(w->trial_out);
    if (deflate(&w->trial, Z_FINISH) != Z_STREAM_END)
      return 1;
    in += SAMPLE;
    out += sizeof(w->trial_out) - w->trial.avail_out;
  }
  return out * 100 < in * (100 - STORE_BELOW_SAVING);
}

/* Deflate at LEVEL from here on. Its switch ends the current block
 * (deflate(Z_BLOCK) inside deflateParams), which may need output room
 * more than once. */
static dray_error_t *set_level(dray_blob_writer_t *w, int level)
{
  for (int tries = 0; tries < 1024; tries++) {
    int rc;
    w->z.next_out = w->out;
    w->z.avail_out = OUT_SIZE;
    rc = deflateParams(&w->z, level, Z_DEFAULT_STRATEGY);
    DRAY_ERR(emit(w));
    if (rc == Z_OK) {
      w->level = level;
      return DRAY_NO_ERROR;
    }
    if (rc != Z_BUF_ERROR)
      break;
  }
  return dray_error_create(APR_EGENERAL, NULL, "gzip failed (cannot change the level)");
}

/* One segment through deflate: compressed or stored, as its samples say. */
static dray_error_t *deflate_segment(dray_blob_writer_t *w, const unsigned char *data,
                                     apr_size_t len)
{
  int level = worth_compressing(w, data, len) ? DRAY_BLOB_GZIP_LEVEL : 0;
  if (level != w->level)
    DRAY_ERR(set_level(w, level));
  if (!level)
    w->stored_in += (apr_int64_t)len;
  w->z.next_in = (Bytef *)data;
  w->z.avail_in = (uInt)len;
  return pump(w, Z_NO_FLUSH);
}

dray_error_t *dray_blob_writer_write(dray_blob_writer_t *w, const void *data, apr_size_t len)
{
  const unsigned char *p = data;
  if (w->finished)
    return dray_error_create(APR_EGENERAL, NULL, "gzip: write after the end");
  w->bytes_in += (apr_int64_t)len;
  /* Segments are cut at fixed offsets of the input, whatever pieces it
   * comes in: the same layer is decided, and compressed, the same way. */
  while (len) {
    apr_size_t take = DRAY_BLOB_SEGMENT - w->seg_len;
    if (take > len)
      take = len;
    if (!w->seg_len && take == DRAY_BLOB_SEGMENT) {
      DRAY_ERR(deflate_segment(w, p, take)); /* a whole one: no copy */
    } else {
      memcpy(w->seg + w->seg_len, p, take);
      w->seg_len += take;
      if (w->seg_len == DRAY_BLOB_SEGMENT) {
        DRAY_ERR(deflate_segment(w, w->seg, w->seg_len));
        w->seg_len = 0;
      }
    }
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
  if (w->seg_len)
    DRAY_ERR(deflate_segment(w, w->seg, w->seg_len));
  w->seg_len = 0;
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

apr_int64_t dray_blob_writer_bytes_stored(const dray_blob_writer_t *w)
{
  return w->stored_in;
}
