/* push.h — push drivers behind one small interface.
 *
 * The CLI driver runs "docker push" (or "podman push") as a child; the Engine
 * API driver talks to the engine over libcurl. The scheduler only sees this.
 */
#ifndef DRAY_PUSH_H
#define DRAY_PUSH_H

#include <apr_file_io.h>
#include <apr_pools.h>

#include "dray/cancel.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_push_progress_t {
  apr_int64_t bytes_done;     /* bytes of layers uploaded so far */
  apr_int64_t bytes_total;    /* known total of layers being uploaded, 0 if unknown */
  int layers_done;
  int layers_total;
  int waiting;                /* every unfinished layer waits behind the engine's limit */
  const char *status;         /* a static word for the view ("pushing",
                                 "waiting", ...), or NULL */
} dray_push_progress_t;

/* Called from the pusher's thread; copy what you keep. */
typedef void (*dray_push_progress_fn)(void *baton, const dray_push_progress_t *progress);

typedef struct dray_push_request_t {
  const char *reference;      /* "repository:tag" */
  apr_file_t *log;            /* output is appended here, or NULL */
  dray_cancel_t *cancel;      /* or NULL */
  dray_push_progress_fn progress; /* or NULL */
  void *progress_baton;
  int stall_timeout;          /* seconds without progress before aborting; 0 = none */
} dray_push_request_t;

typedef struct dray_push_result_t {
  const char *digest;         /* "sha256:..." the push reported, or NULL */
  apr_int64_t size;           /* manifest size, or -1 */
  const char *reason;         /* on failure: short machine word: "exit", "stalled",
                                 "auth", "http", "network", "cancelled", "verify" */
  int retryable;              /* on failure: worth another attempt */
  apr_interval_time_t retry_after; /* on failure: wait at least this long before
                                 the next attempt (a registry's Retry-After; after a
                                 stall, the time the engine needs to drop the
                                 aborted uploads), or 0 */
} dray_push_result_t;

typedef struct dray_push_driver_t dray_push_driver_t;
struct dray_push_driver_t {
  const char *name;           /* "cli" or "engine" */
  /* Push REQ->reference. A failed push returns an error and fills
   * RESULT->reason and RESULT->retryable. */
  dray_error_t *(*push)(const dray_push_driver_t *driver,
                        const dray_push_request_t *req,
                        dray_push_result_t *result,
                        apr_pool_t *result_pool,
                        apr_pool_t *scratch_pool);
  void *baton;
};

/* The CLI driver: ENGINE_CMD push REF (podman: with --digestfile), with ENV
 * ("K=V", NULL-ended, or NULL) added to the child's environment. */
dray_error_t *dray_push_cli_driver_create(dray_push_driver_t **driver,
                                          const char *engine_cmd,
                                          const char *const *env,
                                          apr_pool_t *result_pool);

/* Find "<tag>: digest: sha256:<hex> size: N" in LINE; on success returns the
 * digest in RESULT_POOL and sets *SIZE (if SIZE not NULL). */
const char *dray_push_parse_digest_line(const char *line, apr_int64_t *size,
                                        apr_pool_t *result_pool);

/* Whether TEXT contains NEEDLE, ignoring ASCII case (engine messages:
 * "unauthorized", "denied", "does not exist locally"...). */
int dray_push_text_has(const char *text, const char *needle);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PUSH_H */
