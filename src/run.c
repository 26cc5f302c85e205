/* run.c — reading a run's state: counts and words. */
#include "dray/run.h"

#include <string.h>

#include <apr_strings.h>

static int *count_of(dray_run_counts_t *c, dray_job_state_t state)
{
  switch (state) {
  case DRAY_JOB_WAITING: return &c->waiting;
  case DRAY_JOB_QUEUED: return &c->queued;
  case DRAY_JOB_BUILDING: return &c->building;
  case DRAY_JOB_BUILT: return &c->built;
  case DRAY_JOB_PUSHING: return &c->pushing;
  case DRAY_JOB_BUILD_RETRY:
  case DRAY_JOB_PUSH_RETRY: return &c->retrying;
  case DRAY_JOB_DONE: return &c->done;
  case DRAY_JOB_FAILED: return &c->failed;
  case DRAY_JOB_SKIPPED: return &c->skipped;
  case DRAY_JOB_INTERRUPTED: return &c->interrupted;
  }
  return &c->waiting;
}

static int is_active(dray_job_state_t state)
{
  return state == DRAY_JOB_BUILDING || state == DRAY_JOB_PUSHING;
}

void dray_run_count(dray_run_counts_t *c, const dray_run_t *run)
{
  *c = run->counts;
}

void dray_run_set_state(dray_run_t *run, dray_job_t *job, dray_job_state_t state)
{
  if (is_active(job->state) && !is_active(state)) {
    dray_job_t **a = (dray_job_t **)run->active->elts;
    int i, n = run->active->nelts;
    for (i = 0; i < n && a[i] != job; i++) /* at most builders + pushers */
      ;
    if (i < n) {
      memmove(a + i, a + i + 1, sizeof(*a) * (apr_size_t)(n - i - 1));
      run->active->nelts--;
    }
  } else if (!is_active(job->state) && is_active(state)) {
    APR_ARRAY_PUSH(run->active, dray_job_t *) = job;
  }
  (*count_of(&run->counts, job->state))--;
  (*count_of(&run->counts, state))++;
  job->state = state;
}

const char *dray_job_state_word(const dray_run_t *run, const dray_job_t *job)
{
  switch (job->state) {
  case DRAY_JOB_WAITING: return "waiting";
  case DRAY_JOB_QUEUED: return "queued";
  case DRAY_JOB_BUILDING: return "building";
  case DRAY_JOB_BUILD_RETRY: return "build-retry";
  case DRAY_JOB_BUILT: return "built";
  case DRAY_JOB_PUSHING: return "pushing";
  case DRAY_JOB_PUSH_RETRY: return "push-retry";
  case DRAY_JOB_DONE:
    if (run->mode == DRAY_MODE_BUILD)
      return "built";
    return job->up_to_date ? "up-to-date" : "pushed";
  case DRAY_JOB_FAILED: return "failed";
  case DRAY_JOB_SKIPPED: return "skipped";
  case DRAY_JOB_INTERRUPTED: return "interrupted";
  }
  return "unknown";
}

dray_run_t *dray_run_create(const dray_plan_t *plan, dray_mode_t mode, apr_pool_t *result_pool)
{
  dray_run_t *run = apr_pcalloc(result_pool, sizeof(*run));
  int n = plan->images->nelts, i;

  run->mode = mode;
  run->plan = plan;
  run->jobs = apr_array_make(result_pool, n, sizeof(dray_job_t *));
  run->active = apr_array_make(result_pool, 16, sizeof(dray_job_t *));
  run->counts.waiting = n;
  /* One unnamed engine until the scheduler is told of others. */
  run->engines = apr_array_make(result_pool, 1, sizeof(dray_engine_state_t));
  memset(&APR_ARRAY_PUSH(run->engines, dray_engine_state_t), 0, sizeof(dray_engine_state_t));
  for (i = 0; i < n; i++) {
    dray_job_t *job = apr_pcalloc(result_pool, sizeof(*job));
    job->image = APR_ARRAY_IDX(plan->images, i, const dray_image_t *);
    job->built_on = -1;
    job->attempts = apr_array_make(result_pool, 2, sizeof(dray_attempt_t));
    job->tag_digests = apr_array_make(result_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(run->jobs, dray_job_t *) = job;
  }
  return run;
}

const char *dray_run_engine_name(const dray_run_t *run, int e)
{
  const char *name = NULL;
  if (e >= 0 && e < run->engines->nelts)
    name = APR_ARRAY_IDX(run->engines, e, dray_engine_state_t).name;
  return name ? name : "default";
}

const char *dray_job_digest(const dray_job_t *job)
{
  return job->tag_digests->nelts ? APR_ARRAY_IDX(job->tag_digests, 0, const char *) : NULL;
}

int dray_exit_code(const dray_error_t *err, const dray_run_t *run)
{
  dray_run_counts_t c;
  if (err && (dray_error_has(err, DRAY_ERR_USAGE) || dray_error_has(err, DRAY_ERR_INPUT)))
    return DRAY_EXIT_USAGE;
  if (run && run->interrupts > 0)
    return DRAY_EXIT_INTERRUPTED;
  if (err)
    return DRAY_EXIT_FAILED;
  if (!run)
    return DRAY_EXIT_OK;
  dray_run_count(&c, run);
  return (c.failed || c.skipped || c.interrupted) ? DRAY_EXIT_FAILED : DRAY_EXIT_OK;
}
