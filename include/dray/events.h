/* events.h — --events json: one JSON object per line for CI systems.
 *
 * A sink of the scheduler's events (event.h): every event as
 * {"event", "kind", "image", "status", "build_attempts", "push_attempts",
 *  "reason", "digest", "detail", "time"}, and each running push's progress
 * at most once a second as {"event": "push-progress", "kind": "progress",
 * "bytes_done", "bytes_total", "layers_done", "layers_total", "waiting",
 * "seconds"}.
 */
#ifndef DRAY_EVENTS_H
#define DRAY_EVENTS_H

#include <stdio.h>

#include <apr_pools.h>

#include "dray/event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_events_t dray_events_t;

/* A writer to OUT for a run of NJOBS images, living in POOL. */
dray_events_t *dray_events_create(FILE *out, int njobs, apr_pool_t *pool);

dray_sink_t dray_events_sink(dray_events_t *events);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_EVENTS_H */
