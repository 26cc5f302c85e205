/* run.h — the state of one run, per image.
 *
 * Only the scheduler thread writes it (single-writer rule); the view and the
 * report read it on that same thread.
 */
#ifndef DRAY_RUN_H
#define DRAY_RUN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "dray/error.h"
#include "dray/outcome.h"
#include "dray/plan.h"
#include "dray/push.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_job_state_t {
  DRAY_JOB_WAITING = 0,   /* waits for images it is built FROM */
  DRAY_JOB_QUEUED,        /* ready, in the build queue */
  DRAY_JOB_BUILDING,
  DRAY_JOB_BUILD_RETRY,   /* failed, waits out the backoff */
  DRAY_JOB_BUILT,         /* in the push queue (or done, when only building) */
  DRAY_JOB_PUSHING,
  DRAY_JOB_PUSH_RETRY,    /* failed, waits out the backoff */
  /* terminal states */
  DRAY_JOB_DONE,          /* pushed (run, push) or built (build) */
  DRAY_JOB_FAILED,
  DRAY_JOB_SKIPPED,       /* an image it is built FROM failed */
  DRAY_JOB_INTERRUPTED    /* not started or stopped because of Ctrl+C */
} dray_job_state_t;

#define DRAY_JOB_IS_FINAL(s) ((s) >= DRAY_JOB_DONE)

typedef enum dray_phase_t { DRAY_PHASE_BUILD = 1, DRAY_PHASE_PUSH } dray_phase_t;

typedef struct dray_attempt_t {
  dray_phase_t phase;
  int number;             /* 1-based within its phase */
  apr_time_t start, end;
  dray_outcome_t outcome; /* DRAY_OUTCOME_OK, or why it failed */
  const char *error;      /* message, or NULL */
  apr_interval_time_t slot_wait; /* pushes: time spent waiting for a machine-wide
                                    slot before START (--global-slots) */
  int engine;             /* index in dray_run_t.engines it ran on */
} dray_attempt_t;

typedef struct dray_job_t {
  const dray_image_t *image;
  dray_job_state_t state;
  const char *log_path;           /* set by dray_joblog_prepare, or NULL */
  apr_time_t phase_start;         /* start of the current or last attempt */
  apr_time_t build_start, build_end, push_start, push_end; /* first start, last end */
  apr_interval_time_t build_time, push_time; /* summed over attempts */
  int build_attempts, push_attempts;
  apr_array_header_t *attempts;   /* dray_attempt_t */
  apr_time_t retry_at;
  const char *image_id;
  apr_array_header_t *tag_digests;/* const char *, one per tag, once pushed */
  const char *error;              /* final error message, or NULL */
  dray_outcome_t outcome;         /* why it ended: OK, or a failure, skip, interrupt */
  dray_push_progress_t progress;  /* last progress of the running push */
  int waiting_for_slot;           /* the push waits for a machine-wide slot */
  apr_interval_time_t attempt_slot_wait; /* the current push attempt's wait */
  apr_interval_time_t slot_wait;  /* summed over push attempts */
  apr_time_t progress_at;         /* when its byte or layer count last moved */
  apr_int64_t bytes_pushed;       /* layer bytes uploaded by the successful push */
  int up_to_date;                 /* every tag was already in the registry */
  int verified;                   /* 1: the registry serves the pushed digests */
  int engine;                     /* engine of the current or last attempt */
  int built_on;                   /* engine that holds the built image, or -1 */
  int lost;                       /* the running attempt's engine went down */
  int lost_builds, lost_pushes;   /* attempts ended by an engine going down: not
                                     counted against the retries */
  int resumed_uploads;            /* uploads resumed, over every push attempt */
  apr_int64_t bytes_saved;        /* bytes those resumes did not send again */
} dray_job_t;

/* One engine the run builds on (several: --engine-host / --context given
 * more than once); its counters are kept by the scheduler. */
typedef struct dray_engine_state_t {
  const char *name;               /* as the user named it; NULL: the one default engine */
  int builders, pushers;          /* its own limits; 0: the run's */
  int running_builds, running_pushes;
  int down;                       /* stopped answering: nothing more goes there */
  apr_time_t down_at;
  int builds, pushes;             /* attempts that ended well on it */
  apr_interval_time_t busy;       /* summed time of every attempt on it */
} dray_engine_state_t;

typedef enum dray_mode_t {
  DRAY_MODE_RUN = 1,   /* build then push */
  DRAY_MODE_BUILD,     /* build only */
  DRAY_MODE_PUSH       /* push images built before */
} dray_mode_t;

/* Counts of jobs in each state, for the view and the summary. */
typedef struct dray_run_counts_t {
  int waiting, queued, building, built, pushing, retrying, done, failed, skipped, interrupted;
} dray_run_counts_t;

typedef struct dray_run_t {
  dray_mode_t mode;
  const dray_plan_t *plan;
  apr_array_header_t *jobs;       /* dray_job_t *, same order as plan->images */
  dray_run_counts_t counts;       /* kept by dray_run_set_state */
  apr_array_header_t *active;     /* dray_job_t *: building or pushing, oldest first */
  int builders, pushers;          /* the limits (now: auto moves them) */
  apr_array_header_t *limits;     /* dray_limits_change_t: every change, from the start */
  apr_time_t start, end;
  int interrupts;                 /* how many Ctrl+C / signals were seen */
  int draining;                   /* no new build or push starts */
  int cancelling;                 /* running children are being stopped */
  int running_builds, running_pushes;
  int max_running_builds, max_running_pushes; /* observed peaks */
  int verify;                     /* pushes are verified against the registry */
  const char *global_slots;       /* "NAME:N" with --global-slots, or NULL */
  apr_int64_t bytes_pushed;       /* all finished pushes together */
  int resumed_uploads;            /* every push attempt's resumed uploads */
  apr_int64_t bytes_saved;        /* and the bytes they did not send again */
  apr_time_t first_push_start;
  apr_array_header_t *engines;    /* dray_engine_state_t, at least one */
} dray_run_t;

/* The name of RUN's engine E for views and reports: "default" for the one
 * unnamed engine. */
const char *dray_run_engine_name(const dray_run_t *run, int e);

/* A run of PLAN in MODE: one waiting job per image, in plan order. */
dray_run_t *dray_run_create(const dray_plan_t *plan, dray_mode_t mode, apr_pool_t *result_pool);

/* The digest of JOB's first tag as pushed, or NULL. */
const char *dray_job_digest(const dray_job_t *job);

/* The limits in force from TIME on. */
typedef struct dray_limits_change_t {
  apr_time_t time;
  int builders, pushers;
} dray_limits_change_t;

/* The counts of RUN's jobs in each state (kept as states change: no walk). */
void dray_run_count(dray_run_counts_t *counts, const dray_run_t *run);

/* Put JOB in STATE, keeping RUN's counts and list of active jobs: every
 * state change goes through here, so that what the view reads many times a
 * second costs nothing per image. */
void dray_run_set_state(dray_run_t *run, dray_job_t *job, dray_job_state_t state);

/* The word for a job's state in views and reports: "pushed", "built",
 * "failed", "skipped", "interrupted", "building", ... */
const char *dray_job_state_word(const dray_run_t *run, const dray_job_t *job);

/* dray's exit code, decided here only: 2 for a usage or input error (nothing
 * started), 130 when interrupted, 1 for any other error (a set-up failure is
 * never 0) or any image that failed, was skipped or interrupted, else 0.
 * RUN may be NULL (nothing ran); ERR may be NULL. */
#define DRAY_EXIT_OK 0
#define DRAY_EXIT_FAILED 1
#define DRAY_EXIT_USAGE 2
#define DRAY_EXIT_INTERRUPTED 130
int dray_exit_code(const dray_error_t *err, const dray_run_t *run);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_RUN_H */
