/* timeline.h — a run as a picture: a self-contained SVG drawn from the JSON
 * report (report.c), so a live run (--timeline) and a saved report
 * (dray report --timeline) give the same picture.
 *
 * One lane per builder and pusher slot (attempts are placed in slots the way
 * the scheduler fills them: each in the lowest free one; a run never has
 * more at once than its limit), a bar per attempt labelled with its image
 * and colored by phase and outcome (build, push, failed, stalled,
 * cancelled), retry waits in lanes of their own, the run's critical path
 * (the chain of images built FROM each other that ended last) outlined;
 * below, the builds and pushes running over time and the aggregate push
 * throughput (each pushed image's bytes spread over its successful push).
 *
 * Each attempt's <rect> carries data-image, data-phase, data-number,
 * data-result, data-start and data-end (seconds since the epoch, as in the
 * report) and data-lane, for tests and tools.
 */
#ifndef DRAY_TIMELINE_H
#define DRAY_TIMELINE_H

#include <apr_pools.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

/* The SVG of REPORT (a JSON report object), in RESULT_POOL; a
 * DRAY_ERR_INPUT error when REPORT is not one. */
dray_error_t *dray_timeline_svg(const char **svg, const struct json_t *report,
                                apr_pool_t *result_pool);

/* The same, written to PATH (atomically: temp file + rename). */
dray_error_t *dray_timeline_write(const char *path, const struct json_t *report,
                                  apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_TIMELINE_H */
