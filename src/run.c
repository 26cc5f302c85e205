/* run.c — reading a run's state: counts and words. */
#include "dray/run.h"

#include <string.h>

void dray_run_count(dray_run_counts_t *c, const dray_run_t *run)
{
  int i;
  memset(c, 0, sizeof(*c));
  for (i = 0; i < run->jobs->nelts; i++) {
    const dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, const dray_job_t *);
    switch (job->state) {
    case DRAY_JOB_WAITING: c->waiting++; break;
    case DRAY_JOB_QUEUED: c->queued++; break;
    case DRAY_JOB_BUILDING: c->building++; break;
    case DRAY_JOB_BUILT: c->built++; break;
    case DRAY_JOB_PUSHING: c->pushing++; break;
    case DRAY_JOB_BUILD_RETRY:
    case DRAY_JOB_PUSH_RETRY: c->retrying++; break;
    case DRAY_JOB_DONE: c->done++; break;
    case DRAY_JOB_FAILED: c->failed++; break;
    case DRAY_JOB_SKIPPED: c->skipped++; break;
    case DRAY_JOB_INTERRUPTED: c->interrupted++; break;
    }
  }
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
