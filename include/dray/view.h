/* view.h — what the user sees while a run goes on.
 *
 * On a terminal: a live block redrawn in place (after ninja's status line),
 * counts plus one line per running job. Elsewhere (CI, pipes): one
 * timestamped line per event. Called only from the scheduler thread.
 */
#ifndef DRAY_VIEW_H
#define DRAY_VIEW_H

#include <stdio.h>

#include <apr_pools.h>

#include "dray/run.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_view_mode_t {
  DRAY_VIEW_AUTO = 0,  /* live when STREAM is a terminal, else plain */
  DRAY_VIEW_LIVE,
  DRAY_VIEW_PLAIN,
  DRAY_VIEW_QUIET      /* errors only */
} dray_view_mode_t;

typedef struct dray_view_t dray_view_t;

dray_view_t *dray_view_create(FILE *stream, dray_view_mode_t mode, int verbose,
                              apr_pool_t *pool);

/* Also write every event as one JSON object per line to EVENTS (--events
 * json): started, progress (at most once a second per push), finished. */
void dray_view_set_events(dray_view_t *view, FILE *events);

/* JOB had EVENT ("build-started", "pushed", "push-failed", ...), with an
 * optional DETAIL (an error message, a digest). JOB may be NULL for
 * run-level messages ("interrupted: draining"). */
void dray_view_event(dray_view_t *view, const dray_run_t *run,
                     const dray_job_t *job, const char *event, const char *detail);

/* Redraw the live block if due (called on every scheduler tick). */
void dray_view_tick(dray_view_t *view, const dray_run_t *run);

/* Erase the live block for good before the summary prints. */
void dray_view_finish(dray_view_t *view, const dray_run_t *run);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_VIEW_H */
