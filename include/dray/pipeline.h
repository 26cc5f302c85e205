/* pipeline.h — a real run: builder threads -> scheduler -> pusher threads.
 *
 * Threads:
 *   the caller's: owns the scheduler and the run; pops the message queue
 *     and hands each message to the scheduler; nothing else touches either.
 *   B builders, P pushers (workers.h): run one build or push each, post
 *     the result as a message.
 *   ticker: posts a tick every 100 ms (retries, kill escalation, redraws).
 *   interrupt watcher (platform layer): posts Ctrl+C and signals.
 * Builds and pushes stop through one cancellation token (cancel.h).
 */
#ifndef DRAY_PIPELINE_H
#define DRAY_PIPELINE_H

#include <stdio.h>

#include <apr_pools.h>

#include "dray/build.h"
#include "dray/error.h"
#include "dray/event.h"
#include "dray/push.h"
#include "dray/run.h"
#include "dray/scheduler.h"
#include "dray/slots.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How one engine of several is reached (engines.h). */
typedef struct dray_pipeline_engine_t {
  const dray_build_options_t *build;  /* unless the run only pushes */
  const dray_pusher_t *pusher;        /* unless the run only builds */
  const struct dray_engine_target_t *target; /* probed after a failed attempt */
} dray_pipeline_engine_t;

typedef struct dray_pipeline_options_t {
  dray_sched_options_t sched;
  const dray_build_options_t *build;  /* unless the run only pushes */
  const dray_pusher_t *pusher;        /* unless the run only builds */
  int handle_interrupts;              /* take Ctrl+C while running (interrupts.h:
                                         the caller has begun handling them) */
  dray_slots_t *slots;                /* machine-wide push slots, or NULL */
  /* Several engines (sched.engines names them, in the same order): each
   * job's attempt uses its engine's build options and pusher; an engine that
   * does not answer after a failed attempt on it is told to the scheduler
   * as down. 0: BUILD and PUSHER, the one engine. */
  const dray_pipeline_engine_t *engines;
  int n_engines;
} dray_pipeline_options_t;

/* Run RUN (made by dray_run_create, logs by dray_joblog_prepare) to the end,
 * or until interrupted, telling SINKS (NSINKS of them) what happens. What
 * the run records lives in RESULT_POOL. Returns an error only when the run
 * could not be set up or carried on; how each image fared is in RUN. */
dray_error_t *dray_pipeline_run(dray_run_t *run, const dray_pipeline_options_t *opts,
                                const dray_sink_t *sinks, int nsinks,
                                apr_pool_t *result_pool, apr_pool_t *scratch_pool);

/* --dry-run: the same scheduler with a runner that prints, to OUT, what each
 * build and push would run (the build's argv, the push driver's command or
 * request), in the order a real run would start them, as if every attempt
 * succeeded. Nothing is started, written or contacted. */
dray_error_t *dray_pipeline_dry_run(dray_run_t *run, const dray_pipeline_options_t *opts,
                                    FILE *out, apr_pool_t *result_pool,
                                    apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PIPELINE_H */
