/* progress.h — incremental parser and aggregator for the Engine API push stream.
 *
 * The body of POST /images/{name}/push is a sequence of JSON objects separated
 * by "\r\n" (or "\n"); reads do not align with objects. Feed whatever bytes
 * arrive; the parser splits lines, parses each with jansson and keeps one
 * state per layer, the aggregate numbers for the view, the pushed digest, an
 * in-stream error (which arrives inside an HTTP 200 response), and the time of
 * the last real progress for a stall watchdog.
 *
 * Not thread-safe: one parser per push, used by the thread that runs it.
 */
#ifndef DRAY_PROGRESS_H
#define DRAY_PROGRESS_H

#include <apr_pools.h>
#include <apr_time.h>

#include "dray/error.h"
#include "dray/push.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_progress_t dray_progress_t;

/* Called with each complete line (no line terminator) before it is parsed,
 * e.g. to append it to a log. The stream holds no credentials. */
typedef void (*dray_progress_line_fn)(void *baton, const char *line, apr_size_t len);

/* Lines longer than this are a protocol error (protects memory). */
#define DRAY_PROGRESS_MAX_LINE (1024 * 1024)

/* A layer's byte counts are clamped to [0, this] (1 PiB; the engine's are
 * estimates anyway) and layers summed saturating: no overflow from a
 * hostile engine. */
#define DRAY_PROGRESS_MAX_BYTES ((apr_int64_t)1 << 50)

/* A new parser living in POOL; NOW is the start time of the push. */
dray_progress_t *dray_progress_create(apr_time_t now, apr_pool_t *pool);

void dray_progress_set_line_fn(dray_progress_t *p, dray_progress_line_fn fn,
                               void *baton);

/* Feed LEN bytes received at time NOW. Returns DRAY_ERR_PROTOCOL for a line
 * that is not JSON or too long; an error message inside the stream is not an
 * error here (see dray_progress_error). */
dray_error_t *dray_progress_feed(dray_progress_t *p, const char *data,
                                 apr_size_t len, apr_time_t now);

/* The stream ended: parse a last line that had no terminator. */
dray_error_t *dray_progress_finish(dray_progress_t *p, apr_time_t now);

/* Aggregate state. OUT->status points into P and stays valid until the next
 * feed. */
void dray_progress_snapshot(const dray_progress_t *p, dray_push_progress_t *out);

/* The engine's error message (errorDetail.message, else error), or NULL. */
const char *dray_progress_error(const dray_progress_t *p);

/* The pushed digest ("sha256:..."), from the "<tag>: digest: ... size: N"
 * status line, else from aux.Digest; NULL if none seen. *SIZE (if not NULL)
 * gets the manifest size or -1. */
const char *dray_progress_digest(const dray_progress_t *p, apr_int64_t *size);

/* How long the push has made no progress as of NOW. Progress is: pushed
 * bytes advancing on a layer that is Pushing, or any other new message. While
 * every unfinished layer is Waiting behind the engine's upload limit the clock
 * does not run; it starts again from the message that ends the wait. Asks
 * only: the clock moves with what is fed. */
apr_interval_time_t dray_progress_idle(const dray_progress_t *p, apr_time_t now);

/* Number of complete lines parsed (for tests and logs). */
int dray_progress_lines(const dray_progress_t *p);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PROGRESS_H */
