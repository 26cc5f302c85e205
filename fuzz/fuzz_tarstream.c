/* fuzz_tarstream.c — the engine's save stream (a tar), fed in uneven pieces
 * (the first byte picks the piece size) as curl's write callback would,
 * every regular file wanted and its data hashed and compressed as the image
 * reader does. */
#include <stdlib.h>

#include "fuzz.h"

#include "dray/blob.h"
#include "dray/tarstream.h"

typedef struct entry_t {
  apr_pool_t *pool;
  dray_blob_writer_t *gz;
  apr_int64_t want, got;
} entry_t;

static dray_error_t *on_begin(void *baton, const char *name, apr_int64_t size, int *want)
{
  entry_t *e = baton;
  e->want = size;
  e->got = 0;
  *want = name[0] != 's'; /* skip some, to walk that path too */
  return *want ? dray_blob_writer_create(&e->gz, NULL, NULL, e->pool) : DRAY_NO_ERROR;
}

static dray_error_t *on_data(void *baton, const char *data, apr_size_t len)
{
  entry_t *e = baton;
  e->got += (apr_int64_t)len;
  if (e->got > e->want)
    abort(); /* more data than the header said */
  return dray_blob_writer_write(e->gz, data, len);
}

static dray_error_t *on_end(void *baton)
{
  entry_t *e = baton;
  const char *digest;
  apr_int64_t size;
  if (e->got != e->want)
    abort(); /* the entry ended early */
  return dray_blob_writer_finish(e->gz, &digest, &size, e->pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  entry_t e;
  dray_tar_handler_t h = {on_begin, on_data, on_end, &e};
  dray_tarstream_t *ts;
  size_t step = size ? (size_t)(data[0] % 613) + 1 : 1, off;

  memset(&e, 0, sizeof(e));
  e.pool = pool;
  ts = dray_tarstream_create(&h, pool);
  for (off = 0; off < size; off += step) {
    size_t n = size - off < step ? size - off : step;
    dray_error_t *err = dray_tarstream_feed(ts, (const char *)data + off, n);
    if (err) {
      dray_error_clear(err);
      break;
    }
  }
  (void)dray_tarstream_done(ts);
  apr_pool_destroy(pool);
  return 0;
}
