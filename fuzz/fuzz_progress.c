/* fuzz_progress.c — the Engine API push stream, fed in uneven pieces (the
 * first byte picks the piece size) as curl's write callback would. */
#include "fuzz.h"

#include "dray/progress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  dray_progress_t *p = dray_progress_create(0, pool);
  dray_push_progress_t snap;
  apr_int64_t msize;
  size_t step = size ? (size_t)(data[0] % 97) + 1 : 1, off;
  apr_time_t now = 1;

  for (off = 0; off < size; off += step, now += 1000) {
    size_t n = size - off < step ? size - off : step;
    dray_error_t *err = dray_progress_feed(p, (const char *)data + off, n, now);
    dray_error_clear(err);
    dray_progress_snapshot(p, &snap);
  }
  dray_error_clear(dray_progress_finish(p, now));
  dray_progress_snapshot(p, &snap);
  (void)dray_progress_error(p);
  (void)dray_progress_digest(p, &msize);
  (void)dray_progress_idle(p, now + 1000000);
  apr_pool_destroy(pool);
  return 0;
}
