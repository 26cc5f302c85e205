/* scheduler.c — the run's state machine; see scheduler.h for its rules.
 *
 * All state lives in dray_run_t (what the view and report read) and here
 * (queues and timers); only the thread that owns the scheduler touches
 * either. Work per event is independent of the number of images: ready
 * queues are FIFOs, retries wait on a list of their own, and finished jobs
 * are counted as they finish.
 */
#include "dray/scheduler.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "dray/backoff.h"

/* Jobs ready for one phase, in the order they became ready. The scheduler
 * takes from anywhere in it (priority, families), so it is a plain list. */
typedef struct ready_t {
  apr_array_header_t *items; /* int */
} ready_t;

struct dray_sched_t {
  dray_run_t *run;
  dray_sched_options_t opts;
  dray_runner_t runner;
  dray_clock_t clock;
  apr_array_header_t *sinks;        /* dray_sink_t */
  apr_array_header_t *dependents;   /* per job: apr_array_header_t * of int */
  int *deps_pending;                /* per job: images it still waits for */
  ready_t build_ready, push_ready;
  double *priority;                 /* per job: longest remaining chain of build work */
  int *family;                      /* per job: images sharing base layers share one */
  int *family_running;              /* per family: pushes running */
  char *family_pushed;              /* per family: a push of it has finished */
  apr_array_header_t *retrying;     /* int: jobs waiting out a backoff */
  int final_jobs;                   /* jobs in a final state */
  dray_random_t rng;
  apr_time_t cancel_at;
  int forced;                       /* the cancel went to "now" */
  /* --builders/--pushers auto: the policy, and this window's measurements */
  dray_adapt_t adapt;
  apr_time_t window_start;
  apr_int64_t window_bytes;         /* MOVED_BYTES when the window began */
  apr_int64_t moved_bytes;          /* bytes every push attempt reported sent, summed */
  int window_ticks, window_push_busy, window_push_idle, window_build_busy, window_congestion;
  apr_uint64_t cpu_idle0, cpu_total0;
  int cpu_known;
  double build_seconds_sum;         /* builds that ended well in this run, summed */
  int builds_ok;
  double mean_estimate;             /* of the earlier run's estimates; 1 if none */
  double *backlog;                  /* per engine: see compute_backlogs */
  apr_pool_t *pool;
};

static apr_time_t real_now(void *baton)
{
  (void)baton;
  return apr_time_now();
}

static apr_time_t now_of(const dray_sched_t *s)
{
  return s->clock.now(s->clock.baton);
}

static dray_job_t *job_at(const dray_sched_t *s, int i)
{
  return APR_ARRAY_IDX(s->run->jobs, i, dray_job_t *);
}

static void ready_put(ready_t *r, int v)
{
  APR_ARRAY_PUSH(r->items, int) = v;
}

static int ready_empty(const ready_t *r)
{
  return r->items->nelts == 0;
}

/* Take the item at position AT, keeping the others' order. */
static int ready_take_at(ready_t *r, int at)
{
  int *items = (int *)r->items->elts, v = items[at];
  memmove(items + at, items + at + 1, sizeof(int) * (apr_size_t)(r->items->nelts - at - 1));
  r->items->nelts--;
  return v;
}

static int dependents_of(const dray_sched_t *s, int i)
{
  return APR_ARRAY_IDX(s->dependents, i, apr_array_header_t *)->nelts;
}

/* ---- engines ------------------------------------------------------------- */

static dray_engine_state_t *engine_at(const dray_sched_t *s, int e)
{
  return &APR_ARRAY_IDX(s->run->engines, e, dray_engine_state_t);
}

static int engine_count(const dray_sched_t *s)
{
  return s->run->engines->nelts;
}

static int engine_free_builds(const dray_sched_t *s, int e)
{
  const dray_engine_state_t *eng = engine_at(s, e);
  int limit = eng->builders > 0 ? eng->builders : s->run->builders;
  return eng->down ? 0 : limit - eng->running_builds;
}

static int engine_free_pushes(const dray_sched_t *s, int e)
{
  const dray_engine_state_t *eng = engine_at(s, e);
  int limit = eng->pushers > 0 ? eng->pushers : s->run->pushers;
  return eng->down ? 0 : limit - eng->running_pushes;
}

static int engines_up(const dray_sched_t *s)
{
  int e, up = 0;
  for (e = 0; e < engine_count(s); e++)
    up += !engine_at(s, e)->down;
  return up;
}

/* The registry serves JOB's image: any engine can pull it. */
static int job_pushed(const dray_sched_t *s, const dray_job_t *job)
{
  return s->run->mode == DRAY_MODE_RUN && job->state == DRAY_JOB_DONE
         && (job->verified || !s->run->verify || job->up_to_date);
}

/* JOB's image can be had on a live engine (built there, or pushed). */
static int job_available(const dray_sched_t *s, const dray_job_t *job)
{
  return job_pushed(s, job) || (job->built_on >= 0 && !engine_at(s, job->built_on)->down);
}

/* Every image job I is built FROM can be had on engine E. */
static int bases_on(const dray_sched_t *s, int i, int e)
{
  const apr_array_header_t *deps = job_at(s, i)->image->deps;
  int k;
  for (k = 0; deps && k < deps->nelts; k++) {
    const dray_job_t *d = job_at(s, APR_ARRAY_IDX(deps, k, int));
    if (d->built_on != e && !job_pushed(s, d))
      return 0;
  }
  return 1;
}

/* The live engine holding most of job I's bases, or -1. */
static int home_engine(const dray_sched_t *s, int i)
{
  const apr_array_header_t *deps = job_at(s, i)->image->deps;
  int k, e, best = -1, best_n = 0;
  if (!deps || deps->nelts == 0)
    return -1;
  for (e = 0; e < engine_count(s); e++) {
    int n = 0;
    if (engine_at(s, e)->down)
      continue;
    for (k = 0; k < deps->nelts; k++)
      n += job_at(s, APR_ARRAY_IDX(deps, k, int))->built_on == e;
    if (n > best_n) {
      best = e;
      best_n = n;
    }
  }
  return best;
}

/* Seconds job I's build is expected to take: the earlier run's figure, else
 * this run's mean, else the earlier run's mean. */
static double build_estimate(const dray_sched_t *s, int i)
{
  if (s->opts.build_estimates && s->opts.build_estimates[i] > 0)
    return s->opts.build_estimates[i];
  return s->builds_ok ? s->build_seconds_sum / s->builds_ok : s->mean_estimate;
}

/* Seconds until engine E could start one more build: the work of the builds
 * running there (what is left of their estimates) and of the ready builds
 * that prefer it, over its build slots. */
static void compute_backlogs(dray_sched_t *s)
{
  double now = (double)now_of(s) / APR_USEC_PER_SEC;
  const int *items = (const int *)s->build_ready.items->elts;
  int k, e;
  for (e = 0; e < engine_count(s); e++)
    s->backlog[e] = 0;
  for (k = 0; k < s->run->active->nelts; k++) {
    const dray_job_t *r = APR_ARRAY_IDX(s->run->active, k, const dray_job_t *);
    double left;
    if (r->state != DRAY_JOB_BUILDING)
      continue;
    left = build_estimate(s, r->image->index) - (now - (double)r->phase_start / APR_USEC_PER_SEC);
    s->backlog[r->engine] += left > 0 ? left : 0;
  }
  for (k = 0; k < s->build_ready.items->nelts; k++) {
    int home = home_engine(s, items[k]);
    if (home >= 0)
      s->backlog[home] += build_estimate(s, items[k]);
  }
  for (e = 0; e < engine_count(s); e++) {
    const dray_engine_state_t *eng = engine_at(s, e);
    int limit = eng->builders > 0 ? eng->builders : s->run->builders;
    s->backlog[e] /= limit > 0 ? limit : 1;
  }
}

/* Whether job I, whose bases engine HOME holds but which has no free build
 * slot there, is expected to finish sooner elsewhere: pulling its bases (as
 * long as pushing them took) against HOME's backlog. */
static int sooner_elsewhere(const dray_sched_t *s, int i, int home)
{
  const apr_array_header_t *deps = job_at(s, i)->image->deps;
  double pull = 0;
  int k;
  for (k = 0; k < deps->nelts; k++) {
    const dray_job_t *d = job_at(s, APR_ARRAY_IDX(deps, k, int));
    double t = (double)d->push_time / APR_USEC_PER_SEC;
    if (d->built_on == home && t > pull)
      pull = t;
  }
  return pull < s->backlog[home];
}

/* The engine job I's build should start on now, or -1 (none may now). */
static int place_build(const dray_sched_t *s, int i)
{
  int home = home_engine(s, i), e, best = -1;
  if (home >= 0 && engine_free_builds(s, home) > 0)
    return home;
  for (e = 0; e < engine_count(s); e++)
    if (engine_free_builds(s, e) > 0 && bases_on(s, i, e)
        && (best < 0 || engine_free_builds(s, e) > engine_free_builds(s, best)))
      best = e;
  if (best >= 0 && home >= 0 && !sooner_elsewhere(s, i, home))
    return -1;
  return best;
}

static int any_build_slot(const dray_sched_t *s)
{
  int e;
  for (e = 0; e < engine_count(s); e++)
    if (engine_free_builds(s, e) > 0)
      return 1;
  return 0;
}

/* The next build: of those that may start now, the longest remaining chain
 * first (its end is what the run waits for), then the one most images wait
 * for, then plan order. -1: none may start now; else its engine in *ENGINE. */
static int take_next_build(dray_sched_t *s, int *engine)
{
  const int *items = (const int *)s->build_ready.items->elts;
  int k, best = -1, best_engine = -1;
  if (!any_build_slot(s))
    return -1;
  if (engine_count(s) > 1)
    compute_backlogs(s);
  for (k = 0; k < s->build_ready.items->nelts; k++) {
    int a = items[k], e;
    if (best >= 0) {
      int b = items[best];
      if (!(s->priority[a] > s->priority[b]
            || (s->priority[a] == s->priority[b]
                && (dependents_of(s, a) > dependents_of(s, b)
                    || (dependents_of(s, a) == dependents_of(s, b) && a < b)))))
        continue;
    }
    e = place_build(s, a);
    if (e >= 0) {
      best = k;
      best_engine = e;
    }
  }
  if (best < 0)
    return -1;
  *engine = best_engine;
  return ready_take_at(&s->build_ready, best);
}

/* The next push: the oldest built whose engine has a free push slot, except
 * that with layer-aware order an image whose family (images built on the
 * same base) has no finished push yet waits while another of its family
 * pushes: the engine uploads shared layers once per repository pushed at
 * once, and mounts them only from a finished push. -1: none may start now. */
static int take_next_push(dray_sched_t *s)
{
  const int *items = (const int *)s->push_ready.items->elts;
  int k;
  for (k = 0; k < s->push_ready.items->nelts; k++) {
    int f = s->family[items[k]];
    if (engine_free_pushes(s, job_at(s, items[k])->built_on) <= 0)
      continue;
    if (!s->opts.layer_aware_push || s->family_pushed[f] || s->family_running[f] == 0)
      return ready_take_at(&s->push_ready, k);
  }
  return -1;
}

/* ---- telling the sinks -------------------------------------------------- */

static void tell_engine(dray_sched_t *s, dray_event_kind_t kind, const dray_job_t *job,
                        int engine, dray_outcome_t outcome, const char *error,
                        apr_interval_time_t retry_in)
{
  dray_event_t ev;
  int i;
  ev.engine = engine;
  ev.kind = kind;
  ev.job = job;
  ev.time = now_of(s);
  ev.outcome = outcome;
  ev.error = error;
  ev.retry_in = retry_in;
  for (i = 0; i < s->sinks->nelts; i++) {
    const dray_sink_t *sink = &APR_ARRAY_IDX(s->sinks, i, dray_sink_t);
    if (sink->event)
      sink->event(sink->baton, s->run, &ev);
  }
}

static void tell(dray_sched_t *s, dray_event_kind_t kind, const dray_job_t *job,
                 dray_outcome_t outcome, const char *error, apr_interval_time_t retry_in)
{
  tell_engine(s, kind, job, job ? job->engine : 0, outcome, error, retry_in);
}

/* ---- job states ---------------------------------------------------------- */

/* JOB ends in STATE (final) with OUTCOME. */
static void finish_job(dray_sched_t *s, dray_job_t *job, dray_job_state_t state,
                       dray_outcome_t outcome, const char *error)
{
  dray_run_set_state(s->run, job, state);
  job->outcome = outcome;
  job->error = error;
  s->final_jobs++;
}

static void interrupt_job(dray_sched_t *s, dray_job_t *job, const char *why)
{
  finish_job(s, job, DRAY_JOB_INTERRUPTED, DRAY_OUTCOME_INTERRUPTED,
             job->error ? job->error : why);
  tell(s, DRAY_EVENT_INTERRUPTED, job, DRAY_OUTCOME_INTERRUPTED, job->error, 0);
}

static const char *not_done_words(dray_phase_t phase)
{
  return phase == DRAY_PHASE_BUILD ? "not built: interrupted" : "built, not pushed: interrupted";
}

static void make_ready(dray_sched_t *s, dray_job_t *job, dray_phase_t phase)
{
  if (phase == DRAY_PHASE_BUILD) {
    dray_run_set_state(s->run, job, DRAY_JOB_QUEUED);
    ready_put(&s->build_ready, job->image->index);
  } else {
    dray_run_set_state(s->run, job, DRAY_JOB_BUILT);
    ready_put(&s->push_ready, job->image->index);
  }
}

static void start_job(dray_sched_t *s, dray_job_t *job, dray_phase_t phase, int engine)
{
  dray_run_t *run = s->run;
  apr_time_t now = now_of(s);

  job->phase_start = now;
  job->engine = engine;
  if (phase == DRAY_PHASE_BUILD)
    engine_at(s, engine)->running_builds++;
  else
    engine_at(s, engine)->running_pushes++;
  if (phase == DRAY_PHASE_BUILD) {
    dray_run_set_state(run, job, DRAY_JOB_BUILDING);
    job->build_attempts++;
    if (!job->build_start)
      job->build_start = now;
    if (++run->running_builds > run->max_running_builds)
      run->max_running_builds = run->running_builds;
    tell(s, DRAY_EVENT_BUILD_STARTED, job, DRAY_OUTCOME_OK, NULL, 0);
  } else {
    dray_run_set_state(run, job, DRAY_JOB_PUSHING);
    job->push_attempts++;
    memset(&job->progress, 0, sizeof(job->progress));
    job->progress_at = now;
    job->waiting_for_slot = s->opts.push_slots;
    job->attempt_slot_wait = 0;
    if (!job->push_start)
      job->push_start = now;
    if (!run->first_push_start)
      run->first_push_start = now;
    if (++run->running_pushes > run->max_running_pushes)
      run->max_running_pushes = run->running_pushes;
    s->family_running[s->family[job->image->index]]++;
    tell(s, DRAY_EVENT_PUSH_STARTED, job, DRAY_OUTCOME_OK, NULL, 0);
  }
  s->runner.start(s->runner.baton, job, phase);
}

/* Start what the limits allow, in priority order (builds), oldest first
 * (pushes). */
static void start_ready(dray_sched_t *s)
{
  dray_run_t *run = s->run;
  int next, engine;
  if (run->draining)
    return;
  while ((next = take_next_build(s, &engine)) >= 0)
    start_job(s, job_at(s, next), DRAY_PHASE_BUILD, engine);
  while ((next = take_next_push(s)) >= 0)
    start_job(s, job_at(s, next), DRAY_PHASE_PUSH, job_at(s, next)->built_on);
}

static void add_attempt(dray_sched_t *s, dray_job_t *job, dray_phase_t phase,
                        apr_time_t end, dray_outcome_t outcome, const char *error)
{
  dray_attempt_t *a = &APR_ARRAY_PUSH(job->attempts, dray_attempt_t);
  a->phase = phase;
  a->number = phase == DRAY_PHASE_BUILD ? job->build_attempts : job->push_attempts;
  a->start = job->phase_start;
  a->end = end;
  a->outcome = outcome;
  a->error = error ? apr_pstrdup(s->pool, error) : NULL;
  a->slot_wait = phase == DRAY_PHASE_PUSH ? job->attempt_slot_wait : 0;
  a->engine = job->engine;
}

/* JOB failed for good: everything built FROM it, directly or not, is skipped. */
static void skip_dependents(dray_sched_t *s, dray_job_t *job)
{
  apr_array_header_t *deps = APR_ARRAY_IDX(s->dependents, job->image->index, apr_array_header_t *);
  int i;
  for (i = 0; i < deps->nelts; i++) {
    dray_job_t *d = job_at(s, APR_ARRAY_IDX(deps, i, int));
    if (d->state != DRAY_JOB_WAITING)
      continue;
    finish_job(s, d, DRAY_JOB_SKIPPED, DRAY_OUTCOME_DEPENDENCY,
               apr_psprintf(s->pool, "not built: %s, which it is built FROM, failed",
                            job->image->name));
    tell(s, DRAY_EVENT_SKIPPED, d, DRAY_OUTCOME_DEPENDENCY, d->error, 0);
    skip_dependents(s, d);
  }
}

static void release_dependents(dray_sched_t *s, dray_job_t *job)
{
  apr_array_header_t *deps = APR_ARRAY_IDX(s->dependents, job->image->index, apr_array_header_t *);
  int i;
  for (i = 0; i < deps->nelts; i++) {
    int d = APR_ARRAY_IDX(deps, i, int);
    if (--s->deps_pending[d] == 0 && job_at(s, d)->state == DRAY_JOB_WAITING &&
        !s->run->draining)
      make_ready(s, job_at(s, d), DRAY_PHASE_BUILD);
  }
}

/* Whether a failed attempt of JOB in PHASE gets another, and after how long. */
static int plan_retry(dray_sched_t *s, dray_job_t *job, dray_phase_t phase,
                      const dray_attempt_result_t *r, apr_interval_time_t *delay)
{
  int attempts = phase == DRAY_PHASE_BUILD ? job->build_attempts - job->lost_builds
                                            : job->push_attempts - job->lost_pushes;
  int budget = phase == DRAY_PHASE_BUILD ? s->opts.build_retries : s->opts.push_retries;
  apr_interval_time_t d;

  if (s->run->draining || !dray_outcome_retryable(r->outcome) || attempts > budget)
    return 0;
  d = dray_backoff_delay(attempts, s->opts.retry_base, s->opts.retry_max,
                         dray_random_unit(&s->rng));
  if (r->retry_after > d)
    d = r->retry_after; /* the driver or the registry said how long to wait */
  *delay = d;
  return 1;
}

/* A failed attempt of JOB's PHASE: interrupted (cancelled), retried after
 * its backoff, or failed for good. Returns whether the job has ended. */
static int attempt_failed(dray_sched_t *s, dray_job_t *job, dray_phase_t phase,
                          const dray_attempt_result_t *r, apr_time_t now)
{
  int build = phase == DRAY_PHASE_BUILD;
  const char *error = r->error ? apr_pstrdup(s->pool, r->error) : NULL;
  apr_interval_time_t delay;

  if (!build && (r->outcome == DRAY_OUTCOME_STALLED || r->outcome == DRAY_OUTCOME_RATE_LIMITED
                 || r->outcome == DRAY_OUTCOME_SERVER_ERROR || r->outcome == DRAY_OUTCOME_RESET))
    s->window_congestion = 1; /* too many pushes for someone: fewer, at once */
  if (r->outcome == DRAY_OUTCOME_CANCELLED) {
    interrupt_job(s, job, error);
  } else if (plan_retry(s, job, phase, r, &delay)) {
    dray_run_set_state(s->run, job, build ? DRAY_JOB_BUILD_RETRY : DRAY_JOB_PUSH_RETRY);
    job->retry_at = now + delay;
    APR_ARRAY_PUSH(s->retrying, int) = job->image->index;
    tell(s, build ? DRAY_EVENT_BUILD_RETRY : DRAY_EVENT_PUSH_RETRY, job, r->outcome, error,
         delay);
    return 0;
  } else {
    finish_job(s, job, DRAY_JOB_FAILED, r->outcome, error);
    tell(s, build ? DRAY_EVENT_BUILD_FAILED : DRAY_EVENT_PUSH_FAILED, job, r->outcome, error, 0);
  }
  return 1;
}

static void build_finished(dray_sched_t *s, dray_job_t *job, const dray_attempt_result_t *r,
                           apr_time_t now)
{
  if (r->outcome != DRAY_OUTCOME_OK) {
    if (attempt_failed(s, job, DRAY_PHASE_BUILD, r, now))
      skip_dependents(s, job);
    return;
  }
  job->image_id = r->image_id ? apr_pstrdup(s->pool, r->image_id) : NULL;
  job->built_on = job->engine;
  s->build_seconds_sum += (double)(job->build_end - job->phase_start) / APR_USEC_PER_SEC;
  s->builds_ok++;
  if (s->run->mode == DRAY_MODE_BUILD) {
    finish_job(s, job, DRAY_JOB_DONE, DRAY_OUTCOME_OK, NULL);
    tell(s, DRAY_EVENT_BUILT, job, DRAY_OUTCOME_OK, NULL, 0);
  } else if (s->run->draining) {
    dray_run_set_state(s->run, job, DRAY_JOB_BUILT);
    tell(s, DRAY_EVENT_BUILT, job, DRAY_OUTCOME_OK, NULL, 0);
    interrupt_job(s, job, not_done_words(DRAY_PHASE_PUSH));
  } else {
    make_ready(s, job, DRAY_PHASE_PUSH);
    tell(s, DRAY_EVENT_BUILT, job, DRAY_OUTCOME_OK, NULL, 0);
  }
  release_dependents(s, job);
}

static void push_finished(dray_sched_t *s, dray_job_t *job, const dray_attempt_result_t *r,
                          apr_time_t now)
{
  int i;
  if (r->outcome != DRAY_OUTCOME_OK) {
    attempt_failed(s, job, DRAY_PHASE_PUSH, r, now);
    return;
  }
  for (i = 0; r->tag_digests && i < r->tag_digests->nelts; i++)
    APR_ARRAY_PUSH(job->tag_digests, const char *) =
        apr_pstrdup(s->pool, APR_ARRAY_IDX(r->tag_digests, i, const char *));
  job->up_to_date = r->up_to_date;
  job->verified = r->verified;
  job->bytes_pushed = r->bytes;
  s->run->bytes_pushed += r->bytes;
  finish_job(s, job, DRAY_JOB_DONE, DRAY_OUTCOME_OK, NULL);
  tell(s, job->up_to_date ? DRAY_EVENT_UP_TO_DATE : DRAY_EVENT_PUSHED, job, DRAY_OUTCOME_OK,
       NULL, 0);
}

/* ---- an engine goes down --------------------------------------------------- */

static void remove_ready(ready_t *r, int v)
{
  int k;
  for (k = 0; k < r->items->nelts; k++)
    if (APR_ARRAY_IDX(r->items, k, int) == v) {
      ready_take_at(r, k);
      return;
    }
}

static void remove_retrying(dray_sched_t *s, int v)
{
  int k, kept = 0;
  for (k = 0; k < s->retrying->nelts; k++)
    if (APR_ARRAY_IDX(s->retrying, k, int) != v)
      APR_ARRAY_IDX(s->retrying, kept++, int) = APR_ARRAY_IDX(s->retrying, k, int);
  s->retrying->nelts = kept;
}

/* JOB, not running, goes back to be built: queued if every image it is built
 * FROM can be had, else waiting for those that cannot. With no engine left
 * it fails. */
static void requeue_build(dray_sched_t *s, dray_job_t *job)
{
  const apr_array_header_t *deps = job->image->deps;
  int i = job->image->index, k, pending = 0;

  job->built_on = -1;
  job->image_id = NULL;
  if (engines_up(s) == 0) {
    finish_job(s, job, DRAY_JOB_FAILED, DRAY_OUTCOME_NETWORK,
               "not built: no engine is left (every engine is down)");
    tell(s, DRAY_EVENT_BUILD_FAILED, job, DRAY_OUTCOME_NETWORK, job->error, 0);
    return;
  }
  for (k = 0; deps && k < deps->nelts; k++)
    pending += !job_available(s, job_at(s, APR_ARRAY_IDX(deps, k, int)));
  s->deps_pending[i] = pending;
  if (s->run->draining)
    interrupt_job(s, job, not_done_words(DRAY_PHASE_BUILD));
  else if (pending == 0)
    make_ready(s, job, DRAY_PHASE_BUILD);
  else
    dray_run_set_state(s->run, job, DRAY_JOB_WAITING);
}

/* JOB's image is gone (its engine is down, it was not pushed): the images
 * built FROM it that have not started wait for it again. */
static void withdraw_image(dray_sched_t *s, dray_job_t *job)
{
  apr_array_header_t *deps = APR_ARRAY_IDX(s->dependents, job->image->index, apr_array_header_t *);
  int k;
  for (k = 0; k < deps->nelts; k++) {
    int d = APR_ARRAY_IDX(deps, k, int);
    dray_job_t *dj = job_at(s, d);
    if (dj->state == DRAY_JOB_QUEUED)
      remove_ready(&s->build_ready, d);
    else if (dj->state == DRAY_JOB_BUILD_RETRY)
      remove_retrying(s, d);
    else if (dj->state != DRAY_JOB_WAITING)
      continue; /* built, or building on the lost engine (lost with it) */
    s->deps_pending[d]++;
    dray_run_set_state(s->run, dj, DRAY_JOB_WAITING);
  }
}

/* A running attempt of JOB ended after its engine went down: whatever it
 * says, it counts as interrupted, and the image is built again elsewhere. */
static void attempt_lost(dray_sched_t *s, dray_job_t *job, dray_phase_t phase, apr_time_t now)
{
  const char *why = apr_psprintf(s->pool, "engine %s is down",
                                 dray_run_engine_name(s->run, job->engine));
  job->lost = 0;
  add_attempt(s, job, phase, now, DRAY_OUTCOME_INTERRUPTED, why);
  if (phase == DRAY_PHASE_BUILD)
    job->lost_builds++;
  else
    job->lost_pushes++;
  tell(s, phase == DRAY_PHASE_BUILD ? DRAY_EVENT_BUILD_RETRY : DRAY_EVENT_PUSH_RETRY, job,
       DRAY_OUTCOME_INTERRUPTED, apr_pstrcat(s->pool, why, ": building it again elsewhere", NULL),
       0);
  requeue_build(s, job);
}

void dray_sched_engine_down(dray_sched_t *s, int engine, const char *why)
{
  dray_engine_state_t *eng;
  int i, n = s->run->jobs->nelts;

  if (engine < 0 || engine >= engine_count(s) || engine_at(s, engine)->down)
    return;
  eng = engine_at(s, engine);
  eng->down = 1;
  eng->down_at = now_of(s);
  tell_engine(s, DRAY_EVENT_ENGINE_DOWN, NULL, engine, DRAY_OUTCOME_NETWORK,
              apr_psprintf(s->pool, "engine %s is down%s%s: its work goes to the other "
                           "engines; it is not used again in this run",
                           dray_run_engine_name(s->run, engine), why ? ": " : "",
                           why ? why : ""),
              0);
  /* What runs there ends as lost when its result comes. */
  for (i = 0; i < s->run->active->nelts; i++) {
    dray_job_t *job = APR_ARRAY_IDX(s->run->active, i, dray_job_t *);
    if (job->engine == engine) {
      job->lost = 1;
      if (job->state == DRAY_JOB_PUSHING)
        withdraw_image(s, job);
    }
  }
  /* Images built there and not pushed are gone: built again elsewhere. */
  for (i = 0; i < n; i++) {
    dray_job_t *job = job_at(s, i);
    if (job->built_on != engine || job->state == DRAY_JOB_PUSHING || job_pushed(s, job))
      continue;
    if (job->state == DRAY_JOB_BUILT)
      remove_ready(&s->push_ready, i);
    else if (job->state == DRAY_JOB_PUSH_RETRY)
      remove_retrying(s, i);
    else if (job->state == DRAY_JOB_DONE)
      s->final_jobs--; /* built only: the image is gone with its engine */
    else
      continue;
    withdraw_image(s, job);
    requeue_build(s, job);
  }
  if (engines_up(s) == 0) {
    /* Nothing can run any more: what waits fails now. */
    for (i = 0; i < n; i++) {
      dray_job_t *job = job_at(s, i);
      if (job->state == DRAY_JOB_QUEUED)
        remove_ready(&s->build_ready, i);
      else if (job->state == DRAY_JOB_BUILD_RETRY)
        remove_retrying(s, i);
      else if (job->state != DRAY_JOB_WAITING)
        continue;
      requeue_build(s, job);
    }
  }
  if (s->runner.stop_engine)
    s->runner.stop_engine(s->runner.baton, engine);
  start_ready(s);
}

void dray_sched_finished(dray_sched_t *s, int index, dray_phase_t phase,
                         const dray_attempt_result_t *r)
{
  dray_job_t *job = job_at(s, index);
  apr_time_t now = now_of(s);
  /* The attempt's record ends when its work did; what follows from it
   * (a retry's wait, the next start) is timed from now. */
  apr_time_t end = r->ended && r->ended >= job->phase_start && r->ended <= now ? r->ended : now;
  dray_engine_state_t *eng = engine_at(s, job->engine);

  eng->busy += end - job->phase_start;
  if (phase == DRAY_PHASE_BUILD) {
    eng->running_builds--;
    eng->builds += r->outcome == DRAY_OUTCOME_OK && !job->lost;
  } else {
    eng->running_pushes--;
    eng->pushes += r->outcome == DRAY_OUTCOME_OK && !job->lost;
  }
  if (phase == DRAY_PHASE_BUILD) {
    s->run->running_builds--;
    job->build_end = end;
    job->build_time += end - job->phase_start;
  } else {
    s->run->running_pushes--;
    s->family_running[s->family[index]]--;
    if (r->outcome == DRAY_OUTCOME_OK)
      s->family_pushed[s->family[index]] = 1;
    job->push_end = end;
    job->push_time += end - job->phase_start;
    /* A resume helps whether or not the attempt ends well. */
    job->resumed_uploads += r->resumed;
    job->bytes_saved += r->bytes_saved;
    s->run->resumed_uploads += r->resumed;
    s->run->bytes_saved += r->bytes_saved;
  }
  if (job->lost) {
    attempt_lost(s, job, phase, end);
  } else {
    add_attempt(s, job, phase, end, r->outcome, r->error);
    if (phase == DRAY_PHASE_BUILD)
      build_finished(s, job, r, now);
    else
      push_finished(s, job, r, now);
  }
  start_ready(s);
}

void dray_sched_push_began(dray_sched_t *s, int index, apr_time_t when)
{
  dray_job_t *job = job_at(s, index);
  if (job->state != DRAY_JOB_PUSHING || !job->waiting_for_slot)
    return;
  job->waiting_for_slot = 0;
  if (when > job->phase_start) {
    job->attempt_slot_wait = when - job->phase_start;
    job->slot_wait += job->attempt_slot_wait;
    if (job->push_start == job->phase_start)
      job->push_start = when;
    job->phase_start = when;
    job->progress_at = when;
  }
}

void dray_sched_not_started(dray_sched_t *s, int index, dray_phase_t phase)
{
  dray_job_t *job = job_at(s, index);
  /* Counted when handed to the runner; it never began. */
  if (phase == DRAY_PHASE_BUILD) {
    engine_at(s, job->engine)->running_builds--;
    s->run->running_builds--;
    job->build_attempts--;
  } else {
    engine_at(s, job->engine)->running_pushes--;
    s->run->running_pushes--;
    s->family_running[s->family[index]]--;
    job->push_attempts--;
  }
  interrupt_job(s, job, not_done_words(phase));
}

void dray_sched_progress(dray_sched_t *s, int index, const dray_push_progress_t *p)
{
  dray_job_t *job = job_at(s, index);
  int i;
  if (job->state != DRAY_JOB_PUSHING)
    return;
  if (p->bytes_done != job->progress.bytes_done || p->layers_done != job->progress.layers_done)
    job->progress_at = now_of(s);
  if (p->bytes_done > job->progress.bytes_done) /* each tag's push counts from 0 again */
    s->moved_bytes += p->bytes_done - job->progress.bytes_done;
  /* An upload tried again inside a push is congestion as much as a failed
   * attempt is (the engine retries a layer itself). The count grew, or a
   * new tag's push starts with one. */
  if (p->retries > 0 && p->retries != job->progress.retries)
    s->window_congestion = 1;
  job->progress = *p;
  for (i = 0; i < s->sinks->nelts; i++) {
    const dray_sink_t *sink = &APR_ARRAY_IDX(s->sinks, i, dray_sink_t);
    if (sink->progress)
      sink->progress(sink->baton, s->run, job);
  }
}

/* ---- stopping ------------------------------------------------------------ */

/* First Ctrl+C: nothing new starts; what runs finishes. */
static void start_drain(dray_sched_t *s)
{
  int i;
  if (s->run->draining)
    return;
  s->run->draining = 1;
  s->runner.drain(s->runner.baton);
  while (!ready_empty(&s->build_ready))
    interrupt_job(s, job_at(s, ready_take_at(&s->build_ready, 0)),
                  not_done_words(DRAY_PHASE_BUILD));
  while (!ready_empty(&s->push_ready))
    interrupt_job(s, job_at(s, ready_take_at(&s->push_ready, 0)),
                  not_done_words(DRAY_PHASE_PUSH));
  for (i = 0; i < s->retrying->nelts; i++) {
    dray_job_t *job = job_at(s, APR_ARRAY_IDX(s->retrying, i, int));
    interrupt_job(s, job, not_done_words(job->state == DRAY_JOB_BUILD_RETRY ? DRAY_PHASE_BUILD
                                                                           : DRAY_PHASE_PUSH));
  }
  s->retrying->nelts = 0;
  for (i = 0; i < s->run->jobs->nelts; i++)
    if (job_at(s, i)->state == DRAY_JOB_WAITING)
      interrupt_job(s, job_at(s, i), not_done_words(DRAY_PHASE_BUILD));
}

static void start_cancel(dray_sched_t *s, int force)
{
  start_drain(s);
  if (!s->run->cancelling) {
    s->run->cancelling = 1;
    s->cancel_at = now_of(s);
  }
  if (force)
    s->forced = 1;
  s->runner.cancel(s->runner.baton, force);
}

void dray_sched_interrupt(dray_sched_t *s, dray_interrupt_kind_t kind)
{
  s->run->interrupts++;
  if (kind == DRAY_INTERRUPT_CLOSE || s->run->interrupts >= 3) {
    tell(s, DRAY_EVENT_KILL, NULL, DRAY_OUTCOME_CANCELLED, NULL, 0);
    start_cancel(s, 1);
  } else if (kind == DRAY_INTERRUPT_TERM || s->run->interrupts == 2) {
    tell(s, DRAY_EVENT_CANCEL, NULL, DRAY_OUTCOME_CANCELLED, NULL, 0);
    start_cancel(s, 0);
  } else {
    tell(s, DRAY_EVENT_DRAIN, NULL, DRAY_OUTCOME_INTERRUPTED, NULL, 0);
    start_drain(s);
  }
}

/* The limits in force from now on, in the run's record. */
static void record_limits(dray_sched_t *s, apr_time_t now)
{
  dray_limits_change_t *c = &APR_ARRAY_PUSH(s->run->limits, dray_limits_change_t);
  c->time = now;
  c->builders = s->run->builders;
  c->pushers = s->run->pushers;
}

static void start_window(dray_sched_t *s, apr_time_t now)
{
  s->window_start = now;
  s->window_bytes = s->moved_bytes;
  s->window_ticks = s->window_push_busy = s->window_push_idle = s->window_build_busy = 0;
  s->window_congestion = 0;
  s->cpu_known = s->opts.cpu_times
                 && s->opts.cpu_times(&s->cpu_idle0, &s->cpu_total0) == APR_SUCCESS;
}

/* Once a window, with --builders/--pushers auto: measure, ask the policy,
 * apply its limits. */
static void adapt_limits(dray_sched_t *s, apr_time_t now)
{
  dray_run_t *run = s->run;
  apr_interval_time_t window = s->opts.adapt_window ? s->opts.adapt_window
                                                    : apr_time_from_msec(2500);
  dray_adapt_sample_t sample;
  apr_uint64_t idle, total;

  if (!s->opts.adapt.adapt_builders && !s->opts.adapt.adapt_pushers)
    return;
  /* Saturated: every slot busy and more waiting, at most ticks. */
  s->window_ticks++;
  if (run->running_pushes >= run->pushers && !ready_empty(&s->push_ready))
    s->window_push_busy++;
  else if (run->running_pushes < run->pushers && ready_empty(&s->push_ready))
    s->window_push_idle++;
  if (run->running_builds >= run->builders && !ready_empty(&s->build_ready))
    s->window_build_busy++;
  if (now - s->window_start < window || run->draining)
    return;
  memset(&sample, 0, sizeof(sample));
  sample.push_rate = (double)(s->moved_bytes - s->window_bytes) * APR_USEC_PER_SEC
                     / (double)(now - s->window_start);
  sample.pushers_saturated = s->window_push_busy * 5 >= s->window_ticks * 4;
  sample.pushers_starved = s->window_push_idle * 5 >= s->window_ticks * 4;
  sample.builders_saturated = s->window_build_busy * 5 >= s->window_ticks * 4;
  sample.congestion = s->window_congestion;
  sample.cpu_idle = -1;
  if (s->cpu_known && s->opts.cpu_times(&idle, &total) == APR_SUCCESS && total > s->cpu_total0)
    sample.cpu_idle = (double)(idle - s->cpu_idle0) / (double)(total - s->cpu_total0);
  if (dray_adapt_step(&s->adapt, &sample)) {
    run->builders = s->adapt.builders;
    run->pushers = s->adapt.pushers;
    record_limits(s, now);
  }
  start_window(s, now);
}

void dray_sched_tick(dray_sched_t *s)
{
  apr_time_t now = now_of(s);
  int i, kept = 0;

  adapt_limits(s, now);

  for (i = 0; i < s->retrying->nelts; i++) {
    int idx = APR_ARRAY_IDX(s->retrying, i, int);
    dray_job_t *job = job_at(s, idx);
    if (job->retry_at <= now)
      make_ready(s, job, job->state == DRAY_JOB_BUILD_RETRY ? DRAY_PHASE_BUILD : DRAY_PHASE_PUSH);
    else
      APR_ARRAY_IDX(s->retrying, kept++, int) = idx;
  }
  s->retrying->nelts = kept;
  start_ready(s);
  if (s->run->cancelling && !s->forced && now - s->cancel_at >= s->opts.kill_grace) {
    tell(s, DRAY_EVENT_KILL, NULL, DRAY_OUTCOME_CANCELLED, NULL, 0);
    start_cancel(s, 1);
  }
  for (i = 0; i < s->sinks->nelts; i++) {
    const dray_sink_t *sink = &APR_ARRAY_IDX(s->sinks, i, dray_sink_t);
    if (sink->tick)
      sink->tick(sink->baton, s->run, now);
  }
}

apr_time_t dray_sched_next_wakeup(const dray_sched_t *s)
{
  apr_time_t next = 0;
  int i;
  for (i = 0; i < s->retrying->nelts; i++) {
    const dray_job_t *job = job_at(s, APR_ARRAY_IDX(s->retrying, i, int));
    if (!next || job->retry_at < next)
      next = job->retry_at;
  }
  return next;
}

int dray_sched_done(const dray_sched_t *s)
{
  return s->final_jobs == s->run->jobs->nelts && !s->run->running_builds &&
         !s->run->running_pushes;
}

/* ---- set-up and end ------------------------------------------------------- */

/* When the earlier run says pushing is the bottleneck (its pushes, one at a
 * time on the link, take longer than its builds spread over every build
 * slot), images that nothing is built FROM go in Johnson's order for a
 * two-stage flow shop: first those whose push outweighs their build
 * (shortest build first: the link gets work early), then the others
 * (longest push first); images others are built FROM keep going first, by
 * their chains. Otherwise the chains alone decide (longest first keeps the
 * build slots busy to the end). Measured in bench/simulate: a push-bound
 * run of 1,000 images over 16 engines went from 1.19x its lower bound to
 * 1.04x. */
static void push_bound_order(dray_sched_t *s, double mean)
{
  int n = s->run->jobs->nelts, i, e, slots = 0;
  double top = 0, build_total = 0, push_total = 0;

  if (!s->opts.push_estimates)
    return;
  for (e = 0; e < engine_count(s); e++) {
    const dray_engine_state_t *eng = engine_at(s, e);
    slots += eng->builders > 0 ? eng->builders : s->opts.builders;
  }
  if (slots < 1)
    slots = 1;
  for (i = 0; i < n; i++) {
    double a = s->opts.build_estimates && s->opts.build_estimates[i] > 0
                   ? s->opts.build_estimates[i] : mean;
    if (s->opts.push_estimates[i] <= 0)
      return; /* not known for every image: no basis for it */
    if (s->priority[i] > top)
      top = s->priority[i];
    build_total += a / slots;
    push_total += s->opts.push_estimates[i];
  }
  if (push_total <= build_total)
    return;
  for (i = 0; i < n; i++) {
    double a, b;
    if (dependents_of(s, i)) {
      s->priority[i] += 4 * top; /* before every image nothing is built FROM */
      continue;
    }
    a = (s->opts.build_estimates && s->opts.build_estimates[i] > 0
             ? s->opts.build_estimates[i] : mean) / slots;
    b = s->opts.push_estimates[i];
    s->priority[i] = a < b ? 3 * top - a : b;
  }
}

/* Priorities and families, once, from the plan. The plan lists images
 * before those built from them, so one pass backwards sums each image's
 * longest chain of build work still ahead (its estimate from an earlier run,
 * else the mean of the known ones, else 1), and one pass forwards gives each
 * image the family of its base. */
static void plan_order(dray_sched_t *s, apr_pool_t *pool)
{
  int n = s->run->jobs->nelts, i, k, known = 0, families = 0;
  double sum = 0, mean;
  apr_hash_t *by_base = apr_hash_make(pool);

  s->priority = apr_pcalloc(pool, sizeof(double) * (apr_size_t)(n + 1));
  s->family = apr_pcalloc(pool, sizeof(int) * (apr_size_t)(n + 1));
  s->family_running = apr_pcalloc(pool, sizeof(int) * (apr_size_t)(n + 1));
  s->family_pushed = apr_pcalloc(pool, (apr_size_t)(n + 1));
  for (i = 0; s->opts.build_estimates && i < n; i++)
    if (s->opts.build_estimates[i] > 0) {
      sum += s->opts.build_estimates[i];
      known++;
    }
  mean = known ? sum / known : 1.0;
  s->mean_estimate = mean;
  for (i = n - 1; i >= 0; i--) {
    const apr_array_header_t *deps = APR_ARRAY_IDX(s->dependents, i, apr_array_header_t *);
    double own = s->opts.build_estimates && s->opts.build_estimates[i] > 0
                     ? s->opts.build_estimates[i] : mean;
    /* Its own push follows its build, as its dependents' builds do. */
    double after = s->opts.push_estimates && s->opts.push_estimates[i] > 0
                       ? s->opts.push_estimates[i] : 0;
    for (k = 0; k < deps->nelts; k++) {
      double p = s->priority[APR_ARRAY_IDX(deps, k, int)];
      if (p > after)
        after = p;
    }
    s->priority[i] = own + after;
  }
  push_bound_order(s, mean);
  for (i = 0; i < n; i++) {
    const dray_image_t *img = job_at(s, i)->image;
    if (img->base_image && img->base_image->index < i) {
      s->family[i] = s->family[img->base_image->index];
    } else if (img->base) {
      int *f = apr_hash_get(by_base, img->base, APR_HASH_KEY_STRING);
      if (!f) {
        f = apr_palloc(pool, sizeof(*f));
        *f = families++;
        apr_hash_set(by_base, img->base, APR_HASH_KEY_STRING, f);
      }
      s->family[i] = *f;
    } else {
      s->family[i] = families++; /* FROM scratch: shares nothing */
    }
  }
}

dray_sched_t *dray_sched_create(dray_run_t *run, const dray_sched_options_t *opts,
                                const dray_runner_t *runner, const dray_clock_t *clock,
                                apr_pool_t *result_pool)
{
  dray_sched_t *s = apr_pcalloc(result_pool, sizeof(*s));
  int n = run->jobs->nelts, i, j;

  s->run = run;
  s->opts = *opts;
  s->runner = *runner;
  s->clock.now = clock ? clock->now : real_now;
  s->clock.baton = clock ? clock->baton : NULL;
  s->pool = result_pool;
  s->sinks = apr_array_make(result_pool, 2, sizeof(dray_sink_t));
  s->retrying = apr_array_make(result_pool, 4, sizeof(int));
  s->build_ready.items = apr_array_make(result_pool, n + 1, sizeof(int));
  s->push_ready.items = apr_array_make(result_pool, n + 1, sizeof(int));
  s->deps_pending = apr_pcalloc(result_pool, sizeof(int) * (apr_size_t)(n + 1));
  s->dependents = apr_array_make(result_pool, n, sizeof(apr_array_header_t *));
  for (i = 0; i < n; i++)
    APR_ARRAY_PUSH(s->dependents, apr_array_header_t *) =
        apr_array_make(result_pool, 0, sizeof(int));
  run->builders = run->mode == DRAY_MODE_PUSH ? 0 : opts->builders;
  run->pushers = run->mode == DRAY_MODE_BUILD ? 0 : opts->pushers;
  run->limits = apr_array_make(result_pool, 4, sizeof(dray_limits_change_t));
  if (opts->n_engines > 0) {
    run->engines = apr_array_make(result_pool, opts->n_engines, sizeof(dray_engine_state_t));
    for (i = 0; i < opts->n_engines; i++) {
      dray_engine_state_t *eng = &APR_ARRAY_PUSH(run->engines, dray_engine_state_t);
      memset(eng, 0, sizeof(*eng));
      eng->name = opts->engines[i].name ? apr_pstrdup(result_pool, opts->engines[i].name) : NULL;
      eng->builders = opts->engines[i].builders;
      eng->pushers = opts->engines[i].pushers;
    }
  }
  s->backlog = apr_pcalloc(result_pool, sizeof(double) * (apr_size_t)run->engines->nelts);
  s->opts.adapt.adapt_builders &= run->mode != DRAY_MODE_PUSH;
  s->opts.adapt.adapt_pushers &= run->mode != DRAY_MODE_BUILD;
  dray_adapt_init(&s->adapt, &s->opts.adapt, run->builders, run->pushers);
  /* Pushing images built before: the order of building does not matter. */
  if (run->mode != DRAY_MODE_PUSH) {
    for (i = 0; i < n; i++) {
      const dray_image_t *image = job_at(s, i)->image;
      for (j = 0; image->deps && j < image->deps->nelts; j++) {
        int d = APR_ARRAY_IDX(image->deps, j, int);
        APR_ARRAY_PUSH(APR_ARRAY_IDX(s->dependents, d, apr_array_header_t *), int) = i;
        s->deps_pending[i]++;
      }
    }
  }
  plan_order(s, result_pool);
  dray_random_seed(&s->rng, opts->seed ? opts->seed
                                       : (apr_uint64_t)now_of(s) ^ ((apr_uint64_t)(apr_uintptr_t)s << 16));
  return s;
}

void dray_sched_add_sink(dray_sched_t *s, const dray_sink_t *sink)
{
  APR_ARRAY_PUSH(s->sinks, dray_sink_t) = *sink;
}

void dray_sched_begin(dray_sched_t *s)
{
  int i;
  s->run->start = now_of(s);
  record_limits(s, s->run->start);
  start_window(s, s->run->start);
  for (i = 0; i < s->run->jobs->nelts; i++) {
    dray_job_t *job = job_at(s, i);
    if (job->state != DRAY_JOB_WAITING) /* an interrupt came first */
      continue;
    if (s->run->mode == DRAY_MODE_PUSH) {
      job->built_on = 0; /* images built before: on the first engine */
      make_ready(s, job, DRAY_PHASE_PUSH);
    }
    else if (s->deps_pending[i] == 0)
      make_ready(s, job, DRAY_PHASE_BUILD);
  }
  start_ready(s);
}

void dray_sched_end(dray_sched_t *s)
{
  int i;
  s->run->end = now_of(s);
  for (i = 0; i < s->sinks->nelts; i++) {
    const dray_sink_t *sink = &APR_ARRAY_IDX(s->sinks, i, dray_sink_t);
    if (sink->finish)
      sink->finish(sink->baton, s->run);
  }
}
