/* tarstream.h — reading a tar stream as it arrives, in pieces of any size.
 *
 * "docker save" (GET /images/get) is a tar of the image's layers, each
 * itself a tar file, and its config. Only the stream's entries are read
 * here, never the layers' contents: each regular file is handed on in the
 * pieces it arrives in, nothing is kept but the 512-byte header being
 * read, so an image of any size passes through in constant memory.
 * ustar, GNU long names ('L') and pax headers ('x', 'g': skipped, their
 * "path" used as the next entry's name) are understood.
 */
#ifndef DRAY_TARSTREAM_H
#define DRAY_TARSTREAM_H

#include <apr_pools.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest entry name read (longer ones are cut). */
#define DRAY_TAR_NAME_MAX 1024

typedef struct dray_tar_handler_t {
  /* A regular file NAME of SIZE bytes starts; *WANT 0 skips its data. */
  dray_error_t *(*begin)(void *baton, const char *name, apr_int64_t size, int *want);
  /* The next piece of the wanted file's data. */
  dray_error_t *(*data)(void *baton, const char *data, apr_size_t len);
  /* The wanted file's data is complete. */
  dray_error_t *(*end)(void *baton);
  void *baton;
} dray_tar_handler_t;

typedef struct dray_tarstream_t dray_tarstream_t;

dray_tarstream_t *dray_tarstream_create(const dray_tar_handler_t *handler,
                                        apr_pool_t *result_pool);

/* Feed the next LEN bytes of the stream. A malformed header is a
 * DRAY_ERR_PROTOCOL error; the handler's errors come back as they are. */
dray_error_t *dray_tarstream_feed(dray_tarstream_t *ts, const char *data, apr_size_t len);

/* Whether the stream's end (two zero blocks) has been read. */
int dray_tarstream_done(const dray_tarstream_t *ts);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_TARSTREAM_H */
