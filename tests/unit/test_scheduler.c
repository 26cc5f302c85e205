/* test_scheduler.c — the scheduler's rules, driven by a fake runner and a
 * virtual clock (after ninja's build_test.cc): no thread, no Docker, every
 * test runs in microseconds and on every platform. The fake records what was
 * started; the test decides when and how each attempt ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "dray/event.h"
#include "dray/run.h"
#include "dray/scheduler.h"

/* ---- fixtures: a plan, a clock, a runner, a sink ---------------------------- */

typedef struct started_t {
  int job;
  dray_phase_t phase;
  int engine;
} started_t;

#define MAX_ENGINES 4

typedef struct fake_t {
  apr_time_t now;
  apr_array_header_t *started;      /* started_t, in start order */
  int running_builds, running_pushes, peak_builds, peak_pushes;
  int drains, cancels[2];           /* cancel calls by force */
  int engine_builds[MAX_ENGINES], engine_pushes[MAX_ENGINES]; /* running on each */
  int engine_peak_builds[MAX_ENGINES], engine_peak_pushes[MAX_ENGINES];
  int stopped_engines;              /* stop_engine calls */
  apr_array_header_t *events;       /* dray_event_kind_t */
  apr_array_header_t *event_states; /* the job's state when told, or -1 */
  dray_run_t *run;
  dray_sched_t *sched;
} fake_t;

static apr_time_t fake_now(void *baton)
{
  return ((fake_t *)baton)->now;
}

static void fake_start(void *baton, dray_job_t *job, dray_phase_t phase)
{
  fake_t *f = baton;
  started_t *s = &APR_ARRAY_PUSH(f->started, started_t);
  s->job = job->image->index;
  s->phase = phase;
  s->engine = job->engine;
  assert_true(job->engine >= 0 && job->engine < MAX_ENGINES);
  if (phase == DRAY_PHASE_BUILD) {
    if (++f->engine_builds[job->engine] > f->engine_peak_builds[job->engine])
      f->engine_peak_builds[job->engine] = f->engine_builds[job->engine];
  } else if (++f->engine_pushes[job->engine] > f->engine_peak_pushes[job->engine]) {
    f->engine_peak_pushes[job->engine] = f->engine_pushes[job->engine];
  }
  if (phase == DRAY_PHASE_BUILD) {
    if (++f->running_builds > f->peak_builds)
      f->peak_builds = f->running_builds;
  } else if (++f->running_pushes > f->peak_pushes) {
    f->peak_pushes = f->running_pushes;
  }
}

static void fake_stop_engine(void *baton, int engine)
{
  (void)engine;
  ((fake_t *)baton)->stopped_engines++;
}

static void fake_drain(void *baton)
{
  ((fake_t *)baton)->drains++;
}

static void fake_cancel(void *baton, int force)
{
  ((fake_t *)baton)->cancels[force ? 1 : 0]++;
}

static void record_event(void *baton, const dray_run_t *run, const dray_event_t *ev)
{
  fake_t *f = baton;
  (void)run;
  APR_ARRAY_PUSH(f->events, int) = (int)ev->kind;
  APR_ARRAY_PUSH(f->event_states, int) = ev->job ? (int)ev->job->state : -1;
}

/* A plan of N images named i0..iN-1; DEPS[i] is the index image i is built
 * FROM, or -1. */
static dray_plan_t *make_plan(int n, const int *deps)
{
  dray_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
  int i;
  plan->images = apr_array_make(pool, n, sizeof(dray_image_t *));
  for (i = 0; i < n; i++) {
    dray_image_t *img = apr_pcalloc(pool, sizeof(*img));
    img->index = i;
    img->name = apr_psprintf(pool, "i%d", i);
    img->repository = apr_psprintf(pool, "registry.test/i%d", i);
    img->tags = dray_test_list("latest", NULL);
    img->deps = apr_array_make(pool, 1, sizeof(int));
    if (deps && deps[i] >= 0)
      APR_ARRAY_PUSH(img->deps, int) = deps[i];
    APR_ARRAY_PUSH(plan->images, dray_image_t *) = img;
  }
  return plan;
}

static dray_sched_options_t default_opts(void)
{
  dray_sched_options_t o;
  memset(&o, 0, sizeof(o));
  o.builders = 3;
  o.pushers = 2;
  o.build_retries = 0;
  o.push_retries = 2;
  o.retry_base = apr_time_from_sec(2);
  o.retry_max = apr_time_from_sec(60);
  o.kill_grace = apr_time_from_sec(2);
  o.seed = 42;
  return o;
}

static fake_t *setup(int n, const int *deps, dray_mode_t mode, const dray_sched_options_t *o)
{
  fake_t *f = apr_pcalloc(pool, sizeof(*f));
  dray_runner_t runner;
  dray_clock_t clock;
  dray_sink_t sink;

  f->now = apr_time_from_sec(1000);
  f->started = apr_array_make(pool, 8, sizeof(started_t));
  f->events = apr_array_make(pool, 8, sizeof(int));
  f->event_states = apr_array_make(pool, 8, sizeof(int));
  memset(&runner, 0, sizeof(runner));
  runner.start = fake_start;
  runner.drain = fake_drain;
  runner.cancel = fake_cancel;
  runner.stop_engine = fake_stop_engine;
  runner.baton = f;
  clock.now = fake_now;
  clock.baton = f;
  f->run = dray_run_create(make_plan(n, deps), mode, pool);
  f->sched = dray_sched_create(f->run, o, &runner, &clock, pool);
  memset(&sink, 0, sizeof(sink));
  sink.event = record_event;
  sink.baton = f;
  dray_sched_add_sink(f->sched, &sink);
  return f;
}

/* End JOB's running PHASE with OUTCOME, at the fake clock's time. */
static void finish(fake_t *f, int job, dray_phase_t phase, dray_outcome_t outcome)
{
  dray_attempt_result_t r;
  memset(&r, 0, sizeof(r));
  r.outcome = outcome;
  r.error = outcome == DRAY_OUTCOME_OK ? NULL : dray_outcome_word(outcome);
  if (phase == DRAY_PHASE_PUSH && outcome == DRAY_OUTCOME_OK) {
    apr_array_header_t *d = dray_test_list("sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL);
    r.tag_digests = d;
    r.verified = 1;
    r.bytes = 100;
  }
  if (phase == DRAY_PHASE_BUILD) {
    f->running_builds--;
    f->engine_builds[APR_ARRAY_IDX(f->run->jobs, job, dray_job_t *)->engine]--;
    if (outcome == DRAY_OUTCOME_OK)
      r.image_id = "sha256:1111";
  } else {
    f->running_pushes--;
    f->engine_pushes[APR_ARRAY_IDX(f->run->jobs, job, dray_job_t *)->engine]--;
  }
  dray_sched_finished(f->sched, job, phase, &r);
}

static dray_job_t *job(fake_t *f, int i)
{
  return APR_ARRAY_IDX(f->run->jobs, i, dray_job_t *);
}

static int started_count(fake_t *f, dray_phase_t phase)
{
  int i, n = 0;
  for (i = 0; i < f->started->nelts; i++)
    n += APR_ARRAY_IDX(f->started, i, started_t).phase == phase;
  return n;
}

static started_t started_at(fake_t *f, int k)
{
  return APR_ARRAY_IDX(f->started, k, started_t);
}

/* The K-th push started (0-based) was of image JOB. */
static int nth_push(fake_t *f, int k)
{
  int i, seen = 0;
  for (i = 0; i < f->started->nelts; i++)
    if (started_at(f, i).phase == DRAY_PHASE_PUSH && seen++ == k)
      return started_at(f, i).job;
  return -1;
}

static void tick_for(fake_t *f, apr_interval_time_t t)
{
  apr_time_t end = f->now + t;
  while (f->now < end) {
    f->now += apr_time_from_msec(100);
    dray_sched_tick(f->sched);
  }
}

/* The counts the run keeps as states change equal a walk over the jobs, and
 * its active list holds exactly the jobs building or pushing. */
static void check_counts(fake_t *f)
{
  dray_run_counts_t kept, walked;
  int i, active = 0;
  memset(&walked, 0, sizeof(walked));
  for (i = 0; i < f->run->jobs->nelts; i++) {
    switch (job(f, i)->state) {
    case DRAY_JOB_WAITING: walked.waiting++; break;
    case DRAY_JOB_QUEUED: walked.queued++; break;
    case DRAY_JOB_BUILDING: walked.building++; active++; break;
    case DRAY_JOB_BUILT: walked.built++; break;
    case DRAY_JOB_PUSHING: walked.pushing++; active++; break;
    case DRAY_JOB_BUILD_RETRY:
    case DRAY_JOB_PUSH_RETRY: walked.retrying++; break;
    case DRAY_JOB_DONE: walked.done++; break;
    case DRAY_JOB_FAILED: walked.failed++; break;
    case DRAY_JOB_SKIPPED: walked.skipped++; break;
    case DRAY_JOB_INTERRUPTED: walked.interrupted++; break;
    }
  }
  dray_run_count(&kept, f->run);
  assert_memory_equal(&kept, &walked, sizeof(kept));
  assert_int_equal(f->run->active->nelts, active);
  for (i = 0; i < f->run->active->nelts; i++) {
    dray_job_state_t st = APR_ARRAY_IDX(f->run->active, i, dray_job_t *)->state;
    assert_true(st == DRAY_JOB_BUILDING || st == DRAY_JOB_PUSHING);
  }
}

/* ---- the tests ------------------------------------------------------------ */

/* Never more than B builds and P pushes; pushes start with the first build
 * done, in the order the builds ended; everything pushed; exit 0. */
static void test_limits_order_and_overlap(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(10, NULL, DRAY_MODE_RUN, &o);
  int order[10] = {2, 0, 1, 4, 3, 5, 7, 6, 9, 8}, k, next_push = 0;
  (void)state;

  dray_sched_begin(f->sched);
  assert_int_equal(f->running_builds, 3);
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 0);
  /* Builds end in ORDER (each when it runs); pushes end one step later. */
  for (k = 0; k < 10; k++) {
    int b = order[k];
    while (job(f, b)->state != DRAY_JOB_BUILDING) {
      /* b is not running yet: end the oldest running push to make room. */
      assert_true(f->running_pushes > 0 || f->running_builds > 0);
      finish(f, nth_push(f, next_push), DRAY_PHASE_PUSH, DRAY_OUTCOME_OK);
      next_push++;
    }
    finish(f, b, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
    check_counts(f);
    if (k == 0)
      assert_int_equal(nth_push(f, 0), b); /* the first push starts at once */
    if (f->running_builds == 0 && started_count(f, DRAY_PHASE_BUILD) < 10)
      fail_msg("builds stopped although images were ready");
  }
  while (next_push < started_count(f, DRAY_PHASE_PUSH) || f->running_pushes) {
    finish(f, nth_push(f, next_push), DRAY_PHASE_PUSH, DRAY_OUTCOME_OK);
    next_push++;
  }
  assert_true(dray_sched_done(f->sched));
  assert_int_equal(f->peak_builds, 3);
  assert_int_equal(f->peak_pushes, 2);
  assert_int_equal(f->run->max_running_builds, 3);
  assert_int_equal(f->run->max_running_pushes, 2);
  /* FIFO: pushed in the order the builds ended. */
  for (k = 0; k < 10; k++)
    assert_int_equal(nth_push(f, k), order[k]);
  for (k = 0; k < 10; k++) {
    assert_int_equal(job(f, k)->state, DRAY_JOB_DONE);
    assert_int_equal(job(f, k)->outcome, DRAY_OUTCOME_OK);
    assert_non_null(dray_job_digest(job(f, k)));
  }
  assert_int_equal(f->run->bytes_pushed, 1000);
  assert_int_equal(dray_exit_code(NULL, f->run), 0);
}

/* A failed build: the images built FROM it (directly or not) are skipped
 * with no attempt; the others go on; exit 1. */
static void test_dependents_of_failed_build_skipped(void **state)
{
  int deps[4] = {-1, 0, 1, -1}; /* i0 <- i1 <- i2; i3 alone */
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(4, deps, DRAY_MODE_BUILD, &o);
  (void)state;

  dray_sched_begin(f->sched);
  assert_int_equal(f->running_builds, 2); /* i0 and i3: the others wait */
  assert_int_equal(job(f, 1)->state, DRAY_JOB_WAITING);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_EXIT);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_FAILED);
  assert_int_equal(job(f, 0)->outcome, DRAY_OUTCOME_EXIT);
  assert_int_equal(job(f, 1)->state, DRAY_JOB_SKIPPED);
  assert_int_equal(job(f, 2)->state, DRAY_JOB_SKIPPED);
  assert_int_equal(job(f, 2)->outcome, DRAY_OUTCOME_DEPENDENCY);
  assert_int_equal(job(f, 1)->build_attempts, 0);
  assert_non_null(strstr(job(f, 2)->error, "i1"));
  assert_false(dray_sched_done(f->sched));
  finish(f, 3, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_true(dray_sched_done(f->sched));
  assert_int_equal(job(f, 3)->state, DRAY_JOB_DONE);
  assert_int_equal(started_count(f, DRAY_PHASE_BUILD), 2);
  check_counts(f);
  assert_int_equal(dray_exit_code(NULL, f->run), 1);
}

/* A dependent starts only when what it is built FROM is built. */
static void test_dependent_waits_for_its_base(void **state)
{
  int deps[2] = {-1, 0};
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(2, deps, DRAY_MODE_RUN, &o);
  (void)state;

  dray_sched_begin(f->sched);
  assert_int_equal(started_count(f, DRAY_PHASE_BUILD), 1);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_int_equal(started_at(f, 1).job, 1);
  assert_int_equal(started_at(f, 1).phase, DRAY_PHASE_BUILD);
  assert_int_equal(started_at(f, 2).job, 0);
  assert_int_equal(started_at(f, 2).phase, DRAY_PHASE_PUSH);
}

/* A retryable push failure waits out its backoff ([d/2, d) for d = 2 s, then
 * 4 s), and a Retry-After floor; the budget is the push retries. */
static void test_push_retries_wait_their_backoff(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(1, NULL, DRAY_MODE_RUN, &o);
  dray_attempt_result_t r;
  apr_time_t failed_at;
  (void)state;

  dray_sched_begin(f->sched);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 1);

  failed_at = f->now;
  finish(f, 0, DRAY_PHASE_PUSH, DRAY_OUTCOME_RESET);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_PUSH_RETRY);
  check_counts(f);
  tick_for(f, apr_time_from_msec(900));
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 1); /* not before d/2 */
  tick_for(f, apr_time_from_msec(1200));
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 2); /* by d */
  assert_true(job(f, 0)->retry_at - failed_at >= apr_time_from_sec(1));
  assert_true(job(f, 0)->retry_at - failed_at < apr_time_from_sec(2));

  /* The registry asks for 10 s: more than the backoff of 4 s. */
  memset(&r, 0, sizeof(r));
  r.outcome = DRAY_OUTCOME_RATE_LIMITED;
  r.error = "429";
  r.retry_after = apr_time_from_sec(10);
  f->running_pushes--;
  dray_sched_finished(f->sched, 0, DRAY_PHASE_PUSH, &r);
  tick_for(f, apr_time_from_msec(9800));
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 2);
  tick_for(f, apr_time_from_msec(400));
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 3);

  /* The third failure is the last the budget (2 retries) allows. */
  finish(f, 0, DRAY_PHASE_PUSH, DRAY_OUTCOME_SERVER_ERROR);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_FAILED);
  assert_int_equal(job(f, 0)->outcome, DRAY_OUTCOME_SERVER_ERROR);
  assert_int_equal(job(f, 0)->push_attempts, 3);
  assert_int_equal(job(f, 0)->attempts->nelts, 4); /* 1 build + 3 pushes */
  assert_true(dray_sched_done(f->sched));
  assert_int_equal(dray_exit_code(NULL, f->run), 1);
}

/* An attempt's record runs from when its push held its machine-wide slot
 * to when its work ended (the worker's clock, before the slot is let go),
 * not to when the scheduler heard: another process may take the slot in
 * between. A retry's wait counts from when the scheduler heard. A worker's
 * time outside the attempt is not believed. */
static void test_attempt_ends_when_its_work_did(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f;
  dray_attempt_result_t r;
  const dray_attempt_t *a;
  apr_time_t began, ended, heard;
  (void)state;

  o.push_slots = 1;
  f = setup(1, NULL, DRAY_MODE_RUN, &o);
  dray_sched_begin(f->sched);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 1);

  began = f->now + apr_time_from_sec(1);
  ended = began + apr_time_from_sec(2);
  heard = ended + apr_time_from_msec(500);
  f->now = began;
  dray_sched_push_began(f->sched, 0, began);
  f->now = heard;
  memset(&r, 0, sizeof(r));
  r.outcome = DRAY_OUTCOME_RESET;
  r.error = "reset";
  r.ended = ended;
  f->running_pushes--;
  dray_sched_finished(f->sched, 0, DRAY_PHASE_PUSH, &r);

  a = &APR_ARRAY_IDX(job(f, 0)->attempts, 1, dray_attempt_t);
  assert_int_equal(a->phase, DRAY_PHASE_PUSH);
  assert_true(a->start == began);
  assert_true(a->end == ended);
  assert_true(a->slot_wait == apr_time_from_sec(1));
  assert_true(job(f, 0)->push_time == apr_time_from_sec(2));
  assert_true(job(f, 0)->push_end == ended);
  /* The backoff (base 2 s, the first retry between d/2 and d) from HEARD. */
  assert_int_equal(job(f, 0)->state, DRAY_JOB_PUSH_RETRY);
  assert_true(job(f, 0)->retry_at - heard >= apr_time_from_sec(1));
  assert_true(job(f, 0)->retry_at - heard < apr_time_from_sec(2));

  /* Times outside [start, heard] fall back to when the scheduler heard. */
  tick_for(f, apr_time_from_sec(3));
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 2);
  began = f->now;
  dray_sched_push_began(f->sched, 0, began);
  f->now += apr_time_from_sec(1);
  r.ended = f->now + apr_time_from_sec(5); /* in the future */
  f->running_pushes--;
  dray_sched_finished(f->sched, 0, DRAY_PHASE_PUSH, &r);
  a = &APR_ARRAY_IDX(job(f, 0)->attempts, 2, dray_attempt_t);
  assert_true(a->end == f->now);
  tick_for(f, apr_time_from_sec(5));
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 3);
  f->now += apr_time_from_sec(1);
  r.ended = began - apr_time_from_sec(1); /* before the attempt began */
  r.outcome = DRAY_OUTCOME_OK;
  r.error = NULL;
  f->running_pushes--;
  dray_sched_finished(f->sched, 0, DRAY_PHASE_PUSH, &r);
  a = &APR_ARRAY_IDX(job(f, 0)->attempts, 3, dray_attempt_t);
  assert_true(a->end == f->now);
  assert_true(a->start < a->end);
}

/* An outcome that is not retryable ends the image at once. */
static void test_auth_failure_not_retried(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(1, NULL, DRAY_MODE_PUSH, &o);
  (void)state;

  dray_sched_begin(f->sched);
  assert_int_equal(started_count(f, DRAY_PHASE_BUILD), 0);
  finish(f, 0, DRAY_PHASE_PUSH, DRAY_OUTCOME_AUTH);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_FAILED);
  assert_int_equal(job(f, 0)->push_attempts, 1);
  tick_for(f, apr_time_from_sec(120));
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 1);
  assert_true(dray_sched_done(f->sched));
}

/* Build retries use --build-retries and the same backoff. */
static void test_build_retry_budget(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f;
  (void)state;
  o.build_retries = 1;
  f = setup(1, NULL, DRAY_MODE_BUILD, &o);
  dray_sched_begin(f->sched);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_EXIT);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_BUILD_RETRY);
  tick_for(f, apr_time_from_sec(2));
  assert_int_equal(started_count(f, DRAY_PHASE_BUILD), 2);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_EXIT);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_FAILED);
  /* A build that could not start is not tried again. */
  f = setup(1, NULL, DRAY_MODE_BUILD, &o);
  dray_sched_begin(f->sched);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_NOT_STARTED);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_FAILED);
  assert_int_equal(job(f, 0)->outcome, DRAY_OUTCOME_NOT_STARTED);
}

/* First Ctrl+C: what runs finishes, nothing new starts (not even the push of
 * an image whose build then ends), everything else is interrupted; 130. */
static void test_drain(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(6, NULL, DRAY_MODE_RUN, &o);
  int i;
  (void)state;

  dray_sched_begin(f->sched);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK); /* i0 pushing, i3 building */
  assert_int_equal(f->running_pushes, 1);
  dray_sched_interrupt(f->sched, DRAY_INTERRUPT_INT);
  assert_int_equal(f->drains, 1);
  assert_int_equal(f->cancels[0] + f->cancels[1], 0);
  for (i = 4; i < 6; i++)
    assert_int_equal(job(f, i)->state, DRAY_JOB_INTERRUPTED);
  finish(f, 1, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  finish(f, 2, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  finish(f, 3, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  finish(f, 0, DRAY_PHASE_PUSH, DRAY_OUTCOME_OK);
  tick_for(f, apr_time_from_sec(5));
  assert_int_equal(started_count(f, DRAY_PHASE_BUILD), 4);
  assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 1);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_DONE);
  assert_int_equal(job(f, 1)->state, DRAY_JOB_INTERRUPTED);
  assert_string_equal(job(f, 1)->error, "built, not pushed: interrupted");
  assert_string_equal(job(f, 5)->error, "not built: interrupted");
  assert_true(dray_sched_done(f->sched));
  check_counts(f);
  assert_int_equal(dray_exit_code(NULL, f->run), 130);
}

/* Second Ctrl+C: the runner is asked to stop politely, then by force after
 * the grace period; cancelled attempts end their images as interrupted. */
static void test_cancel_escalates(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(3, NULL, DRAY_MODE_BUILD, &o);
  (void)state;

  dray_sched_begin(f->sched);
  dray_sched_interrupt(f->sched, DRAY_INTERRUPT_INT);
  dray_sched_interrupt(f->sched, DRAY_INTERRUPT_INT);
  assert_int_equal(f->cancels[0], 1);
  assert_int_equal(f->cancels[1], 0);
  tick_for(f, apr_time_from_msec(1500));
  assert_int_equal(f->cancels[1], 0);
  tick_for(f, apr_time_from_msec(600));
  assert_int_equal(f->cancels[1], 1);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_CANCELLED);
  finish(f, 1, DRAY_PHASE_BUILD, DRAY_OUTCOME_CANCELLED);
  finish(f, 2, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_true(dray_sched_done(f->sched));
  assert_int_equal(job(f, 0)->state, DRAY_JOB_INTERRUPTED);
  assert_int_equal(job(f, 0)->outcome, DRAY_OUTCOME_INTERRUPTED);
  assert_int_equal(dray_exit_code(NULL, f->run), 130);
}

/* SIGTERM cancels at once; a closed console kills at once. */
static void test_term_and_close(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(1, NULL, DRAY_MODE_BUILD, &o);
  (void)state;
  dray_sched_begin(f->sched);
  dray_sched_interrupt(f->sched, DRAY_INTERRUPT_TERM);
  assert_int_equal(f->cancels[0], 1);
  f = setup(1, NULL, DRAY_MODE_BUILD, &o);
  dray_sched_begin(f->sched);
  dray_sched_interrupt(f->sched, DRAY_INTERRUPT_CLOSE);
  assert_int_equal(f->cancels[1], 1);
}

/* A Ctrl+C before the run began: nothing starts, every image interrupted. */
static void test_interrupt_before_begin(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(3, NULL, DRAY_MODE_RUN, &o);
  int i;
  (void)state;
  dray_sched_interrupt(f->sched, DRAY_INTERRUPT_INT);
  dray_sched_begin(f->sched);
  assert_int_equal(f->started->nelts, 0);
  for (i = 0; i < 3; i++)
    assert_int_equal(job(f, i)->state, DRAY_JOB_INTERRUPTED);
  check_counts(f);
  assert_true(dray_sched_done(f->sched));
  assert_int_equal(dray_exit_code(NULL, f->run), 130);
}

/* A job a drain handed back before it began: no attempt, interrupted. */
static void test_handed_back_job(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(2, NULL, DRAY_MODE_BUILD, &o);
  (void)state;
  dray_sched_begin(f->sched);
  dray_sched_interrupt(f->sched, DRAY_INTERRUPT_INT);
  f->running_builds--;
  dray_sched_not_started(f->sched, 1, DRAY_PHASE_BUILD);
  assert_int_equal(job(f, 1)->build_attempts, 0);
  assert_int_equal(job(f, 1)->state, DRAY_JOB_INTERRUPTED);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_true(dray_sched_done(f->sched));
}

/* Sinks are told typed events, and a job's state already says what the
 * event says (a "built" image is not "building"). */
static void test_events_in_order_with_states(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(1, NULL, DRAY_MODE_RUN, &o);
  int want[] = {DRAY_EVENT_BUILD_STARTED, DRAY_EVENT_BUILT, DRAY_EVENT_PUSH_STARTED,
                DRAY_EVENT_PUSH_RETRY, DRAY_EVENT_PUSH_STARTED, DRAY_EVENT_PUSHED};
  int i;
  (void)state;

  dray_sched_begin(f->sched);
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  finish(f, 0, DRAY_PHASE_PUSH, DRAY_OUTCOME_STALLED);
  tick_for(f, apr_time_from_sec(3));
  finish(f, 0, DRAY_PHASE_PUSH, DRAY_OUTCOME_OK);
  assert_int_equal(f->events->nelts, 6);
  for (i = 0; i < 6; i++)
    assert_int_equal(APR_ARRAY_IDX(f->events, i, int), want[i]);
  /* built: queued for its push (BUILT) or already pushing; never BUILDING. */
  assert_int_not_equal(APR_ARRAY_IDX(f->event_states, 1, int), DRAY_JOB_BUILDING);
  assert_int_equal(APR_ARRAY_IDX(f->event_states, 5, int), DRAY_JOB_DONE);
  /* Each attempt recorded with its outcome and times of the fake clock. */
  {
    const dray_attempt_t *a = &APR_ARRAY_IDX(job(f, 0)->attempts, 1, dray_attempt_t);
    assert_int_equal(a->phase, DRAY_PHASE_PUSH);
    assert_int_equal(a->outcome, DRAY_OUTCOME_STALLED);
    assert_true(a->start >= apr_time_from_sec(1000) && a->end >= a->start);
  }
}

/* The order builds start in, with one builder: N images, DEPS as in
 * make_plan, ESTIMATES (or NULL); each build ends as soon as it starts. */
static const char *build_order_with(int n, const int *deps, const double *estimates,
                                    const double *push_estimates)
{
  dray_sched_options_t o = default_opts();
  fake_t *f;
  const char *order = "";
  int k;
  o.builders = 1;
  o.build_estimates = estimates;
  o.push_estimates = push_estimates;
  f = setup(n, deps, DRAY_MODE_BUILD, &o);
  dray_sched_begin(f->sched);
  for (k = 0; k < f->started->nelts; k++) {
    int j = started_at(f, k).job;
    order = apr_pstrcat(pool, order, k ? " " : "", job(f, j)->image->name, NULL);
    finish(f, j, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  }
  assert_true(dray_sched_done(f->sched));
  return order;
}

static const char *build_order(int n, const int *deps, const double *estimates)
{
  return build_order_with(n, deps, estimates, NULL);
}

/* Pushing the bottleneck (the earlier run's pushes outweigh its builds):
 * Johnson's order among images nothing is built FROM — short builds with big
 * pushes first, then the rest by push, longest first — after the images
 * others are built FROM. Builds the bottleneck: longest build first. */
static void test_build_order_push_bound(void **state)
{
  double build[5] = {10, 2, 8, 4, 3};
  double big_push[5] = {1, 30, 1, 20, 2};
  double small_push[5] = {1, 3, 1, 2, 0.5};
  int deps[5] = {-1, -1, -1, -1, 2};
  (void)state;
  assert_string_equal(build_order_with(4, NULL, build, big_push), "i1 i3 i0 i2");
  assert_string_equal(build_order_with(4, NULL, build, small_push), "i0 i2 i3 i1");
  /* i2 heads a chain: first, whatever its push; i4 (3 s, 2 s) goes last. */
  assert_string_equal(build_order_with(5, deps, build, big_push), "i2 i1 i3 i4 i0");
}

/* Critical path first: the chain i1 <- i2 <- i3 before the single images,
 * then by plan order among equals. */
static void test_build_order_critical_path(void **state)
{
  int chain[5] = {-1, -1, 1, 2, -1};
  (void)state;
  assert_string_equal(build_order(5, chain, NULL), "i1 i2 i0 i3 i4");
  /* No edges: plan order. */
  assert_string_equal(build_order(3, NULL, NULL), "i0 i1 i2");
}

/* Durations from an earlier run's report: the longest first. */
static void test_build_order_estimates(void **state)
{
  double est[4] = {1.0, 10.0, 0 /* unknown: the mean of the others, 5.3 */, 5.0};
  (void)state;
  assert_string_equal(build_order(4, NULL, est), "i1 i2 i3 i0");
}

/* Equal chains: the image more images wait for goes first. */
static void test_build_order_most_dependents(void **state)
{
  /* i0 <- i1; i2 <- i3, i2 <- i4: both i0 and i2 head chains of 2. */
  int deps[5] = {-1, 0, -1, 2, 2};
  (void)state;
  assert_string_equal(build_order(5, deps, NULL), "i2 i0 i1 i3 i4");
}

/* Layer-aware push order: i1..i3 are built on i0, which is built FROM
 * debian; i4 FROM alpine; i5 FROM scratch. Until one push of the debian
 * family has finished, one of that family pushes at a time. */
static void test_layer_aware_push_order(void **state)
{
  dray_sched_options_t o = default_opts();
  const char *bases[6] = {"docker.io/library/debian", "r/i0", "r/i0", "r/i0",
                          "docker.io/library/alpine", NULL};
  fake_t *f;
  int i, aware;
  (void)state;

  for (aware = 0; aware <= 1; aware++) {
    o.pushers = 3;
    o.layer_aware_push = aware;
    f = setup(6, NULL, DRAY_MODE_PUSH, &o);
    for (i = 0; i < 6; i++) {
      dray_image_t *img = (dray_image_t *)job(f, i)->image;
      img->base = bases[i];
      img->base_image = i >= 1 && i <= 3 ? job(f, 0)->image : NULL;
    }
    /* The families are read when the scheduler is made: make it again. */
    {
      dray_runner_t runner = {fake_start, fake_drain, fake_cancel, f, NULL};
      dray_clock_t clock = {fake_now, f};
      f->sched = dray_sched_create(f->run, &o, &runner, &clock, pool);
    }
    dray_sched_begin(f->sched);
    if (!aware) {
      assert_int_equal(nth_push(f, 0), 0); /* plain FIFO: i0 i1 i2 */
      assert_int_equal(nth_push(f, 1), 1);
      assert_int_equal(nth_push(f, 2), 2);
      continue;
    }
    /* i0 alone of its family; i4 and i5 share nothing with it. */
    assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 3);
    assert_int_equal(nth_push(f, 0), 0);
    assert_int_equal(nth_push(f, 1), 4);
    assert_int_equal(nth_push(f, 2), 5);
    finish(f, 4, DRAY_PHASE_PUSH, DRAY_OUTCOME_OK);
    assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 3); /* i1 still waits for i0 */
    /* A failed push uploads nothing for the others: still one at a time. */
    finish(f, 0, DRAY_PHASE_PUSH, DRAY_OUTCOME_RESET);
    assert_int_equal(nth_push(f, 3), 1);
    assert_int_equal(started_count(f, DRAY_PHASE_PUSH), 4);
    finish(f, 1, DRAY_PHASE_PUSH, DRAY_OUTCOME_OK);
    /* The family's layers are up: the rest go at once, as slots allow. */
    assert_int_equal(nth_push(f, 4), 2);
    assert_int_equal(nth_push(f, 5), 3);
  }
}

/* ---- several engines -------------------------------------------------------- */

static const dray_engine_spec_t two_engines[2] = {{"tcp://a:2376", 0, 0}, {"ssh://b", 0, 0}};

/* The run-wide limits bound each engine; an engine's own limits replace
 * them; each image is pushed where it was built. */
static void test_engines_limits_and_push_where_built(void **state)
{
  dray_sched_options_t o = default_opts();
  dray_engine_spec_t own[2] = {{"a", 1, 0}, {"b", 3, 1}};
  fake_t *f;
  int i, k;
  (void)state;

  o.builders = 2;
  o.pushers = 2;
  o.engines = two_engines;
  o.n_engines = 2;
  f = setup(12, NULL, DRAY_MODE_RUN, &o);
  dray_sched_begin(f->sched);
  assert_int_equal(f->run->engines->nelts, 2);
  assert_int_equal(f->engine_builds[0], 2);
  assert_int_equal(f->engine_builds[1], 2);
  while (!dray_sched_done(f->sched)) {
    for (k = 0; k < f->run->active->nelts; k++) {
      dray_job_t *j = APR_ARRAY_IDX(f->run->active, k, dray_job_t *);
      finish(f, j->image->index, j->state == DRAY_JOB_BUILDING ? DRAY_PHASE_BUILD : DRAY_PHASE_PUSH,
             DRAY_OUTCOME_OK);
      check_counts(f);
      break;
    }
  }
  for (i = 0; i < 2; i++) {
    assert_true(f->engine_peak_builds[i] <= 2);
    assert_true(f->engine_peak_pushes[i] <= 2);
  }
  for (k = 0; k < f->started->nelts; k++) {
    started_t st = started_at(f, k);
    if (st.phase == DRAY_PHASE_PUSH)
      assert_int_equal(st.engine, job(f, st.job)->built_on);
  }
  assert_true(APR_ARRAY_IDX(f->run->engines, 0, dray_engine_state_t).builds > 0);
  assert_true(APR_ARRAY_IDX(f->run->engines, 1, dray_engine_state_t).builds > 0);
  assert_string_equal(dray_run_engine_name(f->run, 1), "ssh://b");

  o.engines = own;
  f = setup(12, NULL, DRAY_MODE_RUN, &o);
  dray_sched_begin(f->sched);
  assert_int_equal(f->engine_builds[0], 1);
  assert_int_equal(f->engine_builds[1], 3);
  for (i = 0; i < 12 && !dray_sched_done(f->sched); i++) {
    while (f->run->active->nelts) {
      dray_job_t *j = APR_ARRAY_IDX(f->run->active, 0, dray_job_t *);
      finish(f, j->image->index, j->state == DRAY_JOB_BUILDING ? DRAY_PHASE_BUILD : DRAY_PHASE_PUSH,
             DRAY_OUTCOME_OK);
    }
  }
  assert_true(dray_sched_done(f->sched));
  assert_int_equal(f->engine_peak_builds[0], 1);
  assert_int_equal(f->engine_peak_builds[1], 3);
  assert_int_equal(f->engine_peak_pushes[0], 2); /* the run's */
  assert_int_equal(f->engine_peak_pushes[1], 1); /* its own */
}

/* Images FROM an in-run base go to the engine that built it; another engine
 * takes one only once the base is pushed, and only when pulling it (as long
 * as its push took) is expected to beat waiting for the base's engine. */
static void test_engines_base_placement(void **state)
{
  dray_sched_options_t o = default_opts();
  int deps[4] = {-1, 0, 0, 0};
  double est[4] = {5, 10, 10, 10};
  fake_t *f;
  int home, slow;
  (void)state;

  for (slow = 0; slow <= 1; slow++) {
    o.builders = 1;
    o.pushers = 1;
    o.engines = two_engines;
    o.n_engines = 2;
    o.build_estimates = est;
    f = setup(4, deps, DRAY_MODE_RUN, &o);
    dray_sched_begin(f->sched);
    assert_int_equal(started_count(f, DRAY_PHASE_BUILD), 1);
    home = job(f, 0)->engine;
    f->now += apr_time_from_sec(5);
    finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
    /* One dependent on the base's engine; the other engine has a free slot
     * but the base is not in the registry yet. */
    assert_int_equal(started_count(f, DRAY_PHASE_BUILD), 2);
    assert_int_equal(started_at(f, 2).engine, home);
    assert_int_equal(f->engine_builds[1 - home], 0);
    /* The base's push: quick (pulling it beats 10 s of waiting) or slow. */
    f->now += apr_time_from_sec(slow ? 30 : 1);
    finish(f, 0, DRAY_PHASE_PUSH, DRAY_OUTCOME_OK);
    if (!slow) {
      assert_int_equal(f->engine_builds[1 - home], 1);
    } else {
      assert_int_equal(f->engine_builds[1 - home], 0);
      /* Waiting there is now cheaper: the running build is past its estimate. */
      finish(f, APR_ARRAY_IDX(f->run->active, 0, dray_job_t *)->image->index, DRAY_PHASE_BUILD,
             DRAY_OUTCOME_OK);
      assert_int_equal(f->engine_builds[home], 1);
    }
    check_counts(f);
  }
}

static void finish_all(fake_t *f)
{
  int guard = 0;
  while (!dray_sched_done(f->sched) && guard++ < 1000) {
    if (f->run->active->nelts) {
      dray_job_t *j = APR_ARRAY_IDX(f->run->active, 0, dray_job_t *);
      finish(f, j->image->index, j->state == DRAY_JOB_BUILDING ? DRAY_PHASE_BUILD : DRAY_PHASE_PUSH,
             DRAY_OUTCOME_OK);
    } else {
      tick_for(f, apr_time_from_sec(1));
    }
    check_counts(f);
  }
  assert_true(dray_sched_done(f->sched));
}

/* An engine that goes down loses nothing: what ran there is interrupted (not
 * a failure, not a retry spent) and built again on the other engine, as is
 * what it built and had not pushed; images built FROM those wait for them
 * again; it is told once and never used again. */
static void test_engine_down_loses_nothing(void **state)
{
  dray_sched_options_t o = default_opts();
  int deps[6] = {-1, 0, -1, -1, -1, -1};
  fake_t *f;
  int i, k, x, lost = -1, e1_starts_after = 0;
  (void)state;

  o.builders = 2;
  o.pushers = 1;
  o.build_retries = 0; /* a lost attempt must not need a retry */
  o.engines = two_engines;
  o.n_engines = 2;
  f = setup(6, deps, DRAY_MODE_RUN, &o);
  dray_sched_begin(f->sched);
  /* i0 (the longest chain) and one more build on E, two on the other. */
  lost = job(f, 0)->engine;
  for (i = 2, x = -1; i < 6; i++)
    if (job(f, i)->state == DRAY_JOB_BUILDING && job(f, i)->engine == lost)
      x = i;
  assert_true(x > 0);
  /* i0 built: its push runs on E and i1 (FROM it) builds there; X built
   * too waits for E's one push slot: an image only E holds. */
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_PUSHING);
  assert_int_equal(job(f, 1)->state, DRAY_JOB_BUILDING);
  assert_int_equal(job(f, 1)->engine, lost);
  finish(f, x, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_int_equal(job(f, x)->state, DRAY_JOB_BUILT);
  dray_sched_engine_down(f->sched, lost, "GET /_ping: connection refused");
  dray_sched_engine_down(f->sched, lost, "again");
  assert_int_equal(f->stopped_engines, 1);
  assert_true(APR_ARRAY_IDX(f->run->engines, lost, dray_engine_state_t).down);
  /* X is to be built again, elsewhere. */
  assert_true(job(f, x)->state == DRAY_JOB_QUEUED || job(f, x)->state == DRAY_JOB_BUILDING);
  assert_true(job(f, x)->built_on == -1);
  assert_true(job(f, 0)->lost && job(f, 1)->lost);
  /* The attempts running on E report whatever they report: lost. */
  for (k = f->run->active->nelts - 1; k >= 0; k--) {
    dray_job_t *j = APR_ARRAY_IDX(f->run->active, k, dray_job_t *);
    if (j->engine == lost)
      finish(f, j->image->index, j->state == DRAY_JOB_BUILDING ? DRAY_PHASE_BUILD : DRAY_PHASE_PUSH,
             DRAY_OUTCOME_NETWORK);
  }
  check_counts(f);
  /* i1 waits for i0, which is built again first. */
  assert_int_equal(job(f, 1)->state, DRAY_JOB_WAITING);
  e1_starts_after = f->started->nelts;
  finish_all(f);
  for (i = 0; i < 6; i++) {
    assert_int_equal(job(f, i)->state, DRAY_JOB_DONE);
    assert_int_not_equal(job(f, i)->built_on, lost);
  }
  for (k = e1_starts_after; k < f->started->nelts; k++)
    assert_int_not_equal(started_at(f, k).engine, lost);
  /* i0 was built twice; its first push and build stand as interrupted. */
  assert_int_equal(job(f, 0)->build_attempts, 2);
  assert_int_equal(APR_ARRAY_IDX(job(f, 0)->attempts, 1, dray_attempt_t).outcome,
                   DRAY_OUTCOME_INTERRUPTED);
  for (k = 0; k < f->events->nelts; k++)
    if (APR_ARRAY_IDX(f->events, k, int) == DRAY_EVENT_ENGINE_DOWN)
      break;
  assert_true(k < f->events->nelts);
  assert_int_equal(dray_exit_code(NULL, f->run), 0);
}

/* Building only: an image an engine built is gone with it, so it is built
 * again elsewhere, and what waits for it waits again. */
static void test_engine_down_build_only(void **state)
{
  dray_sched_options_t o = default_opts();
  int deps[3] = {-1, 0, -1};
  fake_t *f;
  int lost;
  (void)state;

  o.builders = 1;
  o.engines = two_engines;
  o.n_engines = 2;
  f = setup(3, deps, DRAY_MODE_BUILD, &o);
  dray_sched_begin(f->sched);
  lost = job(f, 0)->engine;
  finish(f, 0, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_DONE);
  assert_int_equal(job(f, 1)->state, DRAY_JOB_BUILDING); /* FROM i0, on i0's engine */
  dray_sched_engine_down(f->sched, lost, NULL);
  assert_int_not_equal(job(f, 0)->state, DRAY_JOB_DONE);
  finish(f, 1, DRAY_PHASE_BUILD, DRAY_OUTCOME_OK); /* whatever it says: lost */
  assert_int_equal(job(f, 1)->state, DRAY_JOB_WAITING);
  check_counts(f);
  finish_all(f);
  assert_int_equal(job(f, 0)->state, DRAY_JOB_DONE);
  assert_int_equal(job(f, 1)->state, DRAY_JOB_DONE);
  assert_int_not_equal(job(f, 0)->built_on, lost);
  assert_int_equal(job(f, 1)->built_on, job(f, 0)->built_on);
  assert_int_equal(dray_exit_code(NULL, f->run), 0);
}

/* With every engine down, what has not ended fails, and the run ends. */
static void test_all_engines_down(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f;
  int i;
  (void)state;

  o.builders = 1;
  o.engines = two_engines;
  o.n_engines = 2;
  f = setup(5, NULL, DRAY_MODE_RUN, &o);
  dray_sched_begin(f->sched);
  dray_sched_engine_down(f->sched, 0, NULL);
  dray_sched_engine_down(f->sched, 1, NULL);
  while (f->run->active->nelts) {
    dray_job_t *j = APR_ARRAY_IDX(f->run->active, 0, dray_job_t *);
    finish(f, j->image->index, DRAY_PHASE_BUILD, DRAY_OUTCOME_NETWORK);
  }
  check_counts(f);
  assert_true(dray_sched_done(f->sched));
  for (i = 0; i < 5; i++)
    assert_int_equal(job(f, i)->state, DRAY_JOB_FAILED);
  assert_int_equal(dray_exit_code(NULL, f->run), 1);
}

/* A set-up error is never exit 0, whatever the run's state. */
static void test_exit_codes(void **state)
{
  dray_sched_options_t o = default_opts();
  fake_t *f = setup(1, NULL, DRAY_MODE_BUILD, &o);
  dray_error_t *err = dray_error_create(APR_EGENERAL, NULL, "cannot install the Ctrl+C handler");
  dray_error_t *usage = dray_error_create(DRAY_ERR_USAGE, NULL, "bad option");
  (void)state;
  assert_int_equal(dray_exit_code(err, f->run), 1);
  assert_int_equal(dray_exit_code(err, NULL), 1);
  assert_int_equal(dray_exit_code(usage, NULL), 2);
  assert_int_equal(dray_exit_code(NULL, NULL), 0);
  dray_error_clear(err);
  dray_error_clear(usage);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_limits_order_and_overlap),
    cmocka_unit_test(test_dependents_of_failed_build_skipped),
    cmocka_unit_test(test_dependent_waits_for_its_base),
    cmocka_unit_test(test_push_retries_wait_their_backoff),
      cmocka_unit_test(test_attempt_ends_when_its_work_did),
    cmocka_unit_test(test_auth_failure_not_retried),
    cmocka_unit_test(test_build_retry_budget),
    cmocka_unit_test(test_drain),
    cmocka_unit_test(test_cancel_escalates),
    cmocka_unit_test(test_term_and_close),
    cmocka_unit_test(test_handed_back_job),
    cmocka_unit_test(test_interrupt_before_begin),
    cmocka_unit_test(test_events_in_order_with_states),
    cmocka_unit_test(test_exit_codes),
    cmocka_unit_test(test_build_order_critical_path),
    cmocka_unit_test(test_build_order_estimates),
    cmocka_unit_test(test_build_order_most_dependents),
    cmocka_unit_test(test_build_order_push_bound),
    cmocka_unit_test(test_layer_aware_push_order),
    cmocka_unit_test(test_engines_limits_and_push_where_built),
    cmocka_unit_test(test_engines_base_placement),
    cmocka_unit_test(test_engine_down_loses_nothing),
    cmocka_unit_test(test_engine_down_build_only),
    cmocka_unit_test(test_all_engines_down),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
