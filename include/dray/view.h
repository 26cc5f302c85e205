/* view.h — what the user sees while a run goes on.
 *
 * On a terminal: a live block redrawn in place (after ninja's status line),
 * counts plus one line per running job. Elsewhere (CI, pipes): one
 * timestamped line per event. Called only from the scheduler thread.
 * Words come from the event and outcome tables, never from parsing.
 */
#ifndef DRAY_VIEW_H
#define DRAY_VIEW_H

#include <stdio.h>

#include <apr_pools.h>

#include "dray/event.h"
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

/* The mode a --progress word names ("auto", "live", "plain", "quiet";
 * settings.c checked it); AUTO for anything else. */
dray_view_mode_t dray_view_mode_from_word(const char *word);

typedef struct dray_view_t dray_view_t;

dray_view_t *dray_view_create(FILE *stream, dray_view_mode_t mode, int verbose,
                              apr_pool_t *pool);

/* The view as a sink of the scheduler's events (event.h): lasting lines for
 * what finished or failed, the live block redrawn on ticks, erased for good
 * when the run finishes (before the summary prints). */
dray_sink_t dray_view_sink(dray_view_t *view);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_VIEW_H */
