/* scheduler.h — the builder pool, the push queue and the pusher pool.
 *
 * One thread (the caller's) owns all run state. B builder threads and P
 * pusher threads take jobs from two apr_queues and only post small event
 * records back to the scheduler's event queue; the scheduler decides what
 * starts next, retries with backoff, reacts to Ctrl+C and drives the view.
 */
#ifndef DRAY_SCHEDULER_H
#define DRAY_SCHEDULER_H

#include <apr_pools.h>
#include <apr_time.h>

#include "dray/build.h"
#include "dray/engine.h"
#include "dray/error.h"
#include "dray/plan.h"
#include "dray/push.h"
#include "dray/registry.h"
#include "dray/run.h"
#include "dray/view.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_run_options_t {
  dray_mode_t mode;
  int builders;                     /* >= 1 */
  int pushers;                      /* >= 1 */
  int build_retries;                /* attempts beyond the first */
  int push_retries;
  apr_interval_time_t retry_base;   /* first backoff delay */
  apr_interval_time_t retry_max;    /* cap */
  apr_interval_time_t kill_grace;   /* after a cancel, interrupt -> kill */
  int stall_timeout;                /* seconds, 0 = none */
  const char *log_dir;              /* created if missing */
  dray_build_options_t build;
  dray_push_driver_t *push_driver;  /* required unless mode is BUILD */
  dray_registry_t *registry;        /* for verification and --skip-existing, or NULL */
  int verify;                       /* HEAD each pushed tag; digest must match */
  int skip_existing;                /* no push for tags the registry already serves */
  const dray_engine_t *engine;      /* for RepoDigests (--skip-existing), or NULL */
  dray_view_t *view;                /* or NULL */
  int handle_interrupts;            /* install the Ctrl+C handler */
} dray_run_options_t;

/* Run PLAN to the end (or until interrupted). Returns an error only when the
 * run could not be set up; how each image fared is in *RUN. */
dray_error_t *dray_scheduler_run(dray_run_t **run,
                                 const dray_plan_t *plan,
                                 const dray_run_options_t *opts,
                                 apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool);

/* Exit code for a finished run: 0 all done, 1 any failed or skipped,
 * 130 interrupted. */
int dray_run_exit_code(const dray_run_t *run);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_SCHEDULER_H */
