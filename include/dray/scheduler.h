/* scheduler.h — the run's state machine: what starts, when, and what a
 * result or a Ctrl+C means.
 *
 * The scheduler knows jobs, limits, outcomes and a clock, nothing else: it
 * starts work through a runner (after ninja's CommandRunner) and is told
 * results by whoever owns the loop. It is not thread-safe and has no thread:
 * the pipeline (pipeline.h) feeds it from worker threads through a queue;
 * the dry run and the unit tests feed it directly, the tests with a fake
 * runner and a virtual clock.
 *
 * Rules it keeps (each in one place, here):
 *  - never more than BUILDERS builds and PUSHERS pushes running at once;
 *  - a build starts when every image it is built FROM is built; of the
 *    ready ones, the longest chain of build work still ahead first (critical
 *    path: estimates from an earlier run, else chain length), then the one
 *    most images wait for, then plan order;
 *  - a built image is pushed next, pushes in the order images were built
 *    (FIFO), the first as soon as the first build ends; with layer-aware
 *    order, an image waits while another of its family (images built on one
 *    base) pushes, until one push of the family has finished, so the rest
 *    mount the shared layers instead of uploading them again;
 *  - a failed attempt whose outcome is retryable is tried again, up to the
 *    phase's retries, after an exponential backoff with jitter, and not
 *    before the result's retry_after;
 *  - an image whose build failed for good: everything built FROM it is
 *    skipped; the other images go on;
 *  - first interrupt: drain (what runs finishes, nothing new starts); second
 *    (or SIGTERM): cancel what runs, politely; after the kill grace, or a
 *    third: by force.
 *
 * With several engines (placement, each rule here only):
 *  - BUILDERS and PUSHERS bound each engine, unless the engine has limits of
 *    its own;
 *  - a ready build goes to an engine with a free build slot on which every
 *    image it is built FROM can be had: built there, or pushed (the engine
 *    then pulls it); it prefers the engine holding its bases, and goes
 *    elsewhere while that one is busy only when pulling the bases (as long as
 *    pushing them took) is expected to cost less than waiting for a slot
 *    there (the builds running there by their estimates);
 *  - an image is pushed by the engine that built it;
 *  - an engine that goes down takes nothing with it: its running attempts
 *    count as interrupted (not against the retries) and their images are
 *    built again elsewhere, as is every image it built that was not pushed
 *    yet (images built FROM those wait for them again); it is not used again
 *    in the run. With no engine left, what has not ended fails.
 */
#ifndef DRAY_SCHEDULER_H
#define DRAY_SCHEDULER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "dray/adapt.h"
#include "dray/event.h"
#include "dray/outcome.h"
#include "dray/platform.h"
#include "dray/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An engine of the run, as the options name it. */
typedef struct dray_engine_spec_t {
  const char *name;                 /* URL or context, for views and reports */
  int builders, pushers;            /* its own limits; 0: the run's */
} dray_engine_spec_t;

typedef struct dray_sched_options_t {
  int builders;                     /* >= 1 */
  int pushers;                      /* >= 1 */
  int build_retries;                /* attempts beyond the first */
  int push_retries;
  apr_interval_time_t retry_base;   /* first backoff delay */
  apr_interval_time_t retry_max;    /* cap */
  apr_interval_time_t kill_grace;   /* after a cancel, polite -> forced */
  apr_uint64_t seed;                /* backoff jitter; 0: from the clock */
  const double *push_estimates;     /* per image: seconds its push took, or NULL */
  const double *build_estimates;    /* per image (plan order): seconds its build took
                                       before, <= 0 unknown; or NULL */
  int layer_aware_push;             /* push an image alone among its family until one
                                       push of the family has finished */
  int push_slots;                   /* pushes first wait for a machine-wide slot:
                                       each tells dray_sched_push_began */
  /* --builders auto / --pushers auto: BUILDERS and PUSHERS are where the
   * limits start, ADAPT (adapt.h) moves them once a WINDOW. */
  dray_adapt_options_t adapt;
  apr_interval_time_t adapt_window; /* 0: 2.5 s */
  /* The machine's CPU times (platform.h), for the builders; NULL: unknown. */
  apr_status_t (*cpu_times)(apr_uint64_t *idle, apr_uint64_t *total);
  /* The engines (run->engines follows them); 0: one engine, unnamed. */
  const dray_engine_spec_t *engines;
  int n_engines;
} dray_sched_options_t;

/* Where "now" comes from: the real clock, or a test's. */
typedef struct dray_clock_t {
  apr_time_t (*now)(void *baton);
  void *baton;
} dray_clock_t;

/* Runs builds and pushes for the scheduler. START must not call back into
 * the scheduler: the result is reported later through dray_sched_finished
 * (or dray_sched_not_started if a drain kept the job from beginning). */
typedef struct dray_runner_t {
  void (*start)(void *baton, dray_job_t *job, dray_phase_t phase);
  /* Nothing more will be started: hand back what has not begun. */
  void (*drain)(void *baton);
  /* Stop what runs: FORCE 0 asks politely, 1 ends it now. */
  void (*cancel)(void *baton, int force);
  void *baton;
  /* Optional: ENGINE is down; stop what still runs there (each attempt is
   * then reported as usual; the scheduler knows it was lost). */
  void (*stop_engine)(void *baton, int engine);
} dray_runner_t;

/* How one attempt ended. Strings are copied. */
typedef struct dray_attempt_result_t {
  dray_outcome_t outcome;
  const char *error;                /* message, or NULL */
  apr_interval_time_t retry_after;  /* wait at least this long before retrying, or 0 */
  const char *image_id;             /* builds: the image id, or NULL */
  const apr_array_header_t *tag_digests; /* pushes: const char *, one per tag */
  int up_to_date;                   /* pushes: the registry had every tag */
  int verified;                     /* pushes: the registry serves every pushed digest */
  apr_int64_t bytes;                /* pushes: layer bytes uploaded */
  int resumed;                      /* pushes: uploads resumed (registry driver) */
  apr_int64_t bytes_saved;          /* pushes: bytes those resumes did not send again */
  apr_time_t ended;                 /* when the work ended, by the worker's clock; 0: when
                                       the scheduler hears of it. A push holding a
                                       machine-wide slot ends as it lets the slot go, or
                                       another process's attempt would seem to overlap it */
} dray_attempt_result_t;

typedef struct dray_sched_t dray_sched_t;

/* A scheduler for RUN (made by dray_run_create) that starts work through
 * RUNNER. CLOCK may be NULL (the real clock). Lives in RESULT_POOL, as does
 * everything it records in RUN. */
dray_sched_t *dray_sched_create(dray_run_t *run, const dray_sched_options_t *opts,
                                const dray_runner_t *runner, const dray_clock_t *clock,
                                apr_pool_t *result_pool);

/* Tell SINK of every event from now on. */
void dray_sched_add_sink(dray_sched_t *sched, const dray_sink_t *sink);

/* Start what can start (in push mode, every image is ready to push). */
void dray_sched_begin(dray_sched_t *sched);

/* An attempt of JOB (its index) in PHASE ended. */
void dray_sched_finished(dray_sched_t *sched, int job, dray_phase_t phase,
                         const dray_attempt_result_t *result);

/* JOB's push (started with push_slots) holds its machine-wide slot at WHEN:
 * the attempt begins there, and the wait is recorded apart. */
void dray_sched_push_began(dray_sched_t *sched, int job, apr_time_t when);

/* JOB's PHASE was handed back by a drain before it began. */
void dray_sched_not_started(dray_sched_t *sched, int job, dray_phase_t phase);

/* A running push of JOB made progress. */
void dray_sched_progress(dray_sched_t *sched, int job, const dray_push_progress_t *progress);

/* ENGINE stopped answering (WHY says how it was seen): see the rules above.
 * Telling it twice changes nothing. */
void dray_sched_engine_down(dray_sched_t *sched, int engine, const char *why);

/* Ctrl+C, SIGTERM, a closed console. */
void dray_sched_interrupt(dray_sched_t *sched, dray_interrupt_kind_t kind);

/* Time passed: start retries that are due, escalate a cancel, tell sinks. */
void dray_sched_tick(dray_sched_t *sched);

/* Whether every job has ended and nothing runs. */
int dray_sched_done(const dray_sched_t *sched);

/* When the next retry is due, or 0 if none waits (for a loop that sleeps). */
apr_time_t dray_sched_next_wakeup(const dray_sched_t *sched);

/* Record the end of the run and tell the sinks. */
void dray_sched_end(dray_sched_t *sched);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_SCHEDULER_H */
