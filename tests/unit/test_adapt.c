/* test_adapt.c — the concurrency policy of --builders/--pushers auto, walked
 * through histories: a link that a third push fills, one that overloads past
 * three, congestion, CPU idle and saturation. Then the scheduler applying it
 * with a fake runner and a virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "dray/adapt.h"
#include "dray/scheduler.h"

static dray_adapt_options_t pusher_opts(void)
{
  dray_adapt_options_t o;
  memset(&o, 0, sizeof(o));
  o.adapt_pushers = 1;
  o.pushers_min = 1;
  o.pushers_max = 8;
  o.builders_min = 1;
  o.builders_max = 8;
  o.gain = 0.10;
  return o;
}

/* A link of RATE bytes/s that one push fills a third of. */
static double link_rate(int pushers, double rate, int overload_at)
{
  double per = rate / 3;
  if (overload_at && pushers > overload_at)
    return 0; /* uploads beyond K get nothing: they stall */
  return pushers < 3 ? pushers * per : rate;
}

/* Run the policy over WINDOWS windows of a link; the pushers it ends on,
 * and the most it ever tried. */
static int settle(int overload_at, int windows, int *most)
{
  dray_adapt_options_t o = pusher_opts();
  dray_adapt_t a;
  int w;
  dray_adapt_init(&a, &o, 1, 2);
  *most = a.pushers;
  for (w = 0; w < windows; w++) {
    dray_adapt_sample_t s;
    memset(&s, 0, sizeof(s));
    s.push_rate = link_rate(a.pushers, 30e6, overload_at);
    s.pushers_saturated = 1;
    s.congestion = overload_at && a.pushers > overload_at;
    s.cpu_idle = -1;
    dray_adapt_step(&a, &s);
    if (a.pushers > *most)
      *most = a.pushers;
  }
  return a.pushers;
}

/* Throughput grows up to three pushes, then not: it settles at three (it
 * tries a fourth now and then, and takes it back). */
static void test_pushers_find_the_plateau(void **state)
{
  int most, end;
  (void)state;
  end = settle(0, 40, &most);
  assert_true(end == 3 || end == 4);
  assert_true(most <= 4);
}

/* Past three at once the uplink stalls: never far past it, never at 8. */
static void test_pushers_under_overload(void **state)
{
  int most, end, w, sum = 0;
  dray_adapt_options_t o = pusher_opts();
  dray_adapt_t a;
  (void)state;
  end = settle(3, 60, &most);
  assert_true(end >= 1 && end <= 3);
  assert_true(most <= 4);
  /* On average near the best fixed -p (3), far from -p 8. */
  dray_adapt_init(&a, &o, 1, 2);
  for (w = 0; w < 60; w++) {
    dray_adapt_sample_t s;
    memset(&s, 0, sizeof(s));
    s.push_rate = link_rate(a.pushers, 30e6, 3);
    s.pushers_saturated = 1;
    s.congestion = a.pushers > 3;
    s.cpu_idle = -1;
    dray_adapt_step(&a, &s);
    sum += a.pushers;
  }
  assert_true(sum / 60.0 >= 2.0 && sum / 60.0 <= 3.5);
}

/* Without pushes waiting, nothing is added; congestion halves. */
static void test_pushers_need_saturation_and_halve(void **state)
{
  dray_adapt_options_t o = pusher_opts();
  dray_adapt_t a;
  dray_adapt_sample_t s;
  (void)state;
  dray_adapt_init(&a, &o, 1, 6);
  memset(&s, 0, sizeof(s));
  s.push_rate = 1e6;
  s.cpu_idle = -1;
  assert_false(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 6);
  s.congestion = 1;
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 3);
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 2); /* half of 3, rounded up */
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 1);
  assert_false(dray_adapt_step(&a, &s)); /* never below the minimum */
  assert_int_equal(a.pushers, 1);
}

/* A driver that reports no bytes (the CLI) gives no reason to grow. */
static void test_pushers_without_byte_counts(void **state)
{
  int w;
  dray_adapt_options_t o = pusher_opts();
  dray_adapt_t a;
  (void)state;
  dray_adapt_init(&a, &o, 1, 2);
  for (w = 0; w < 20; w++) {
    dray_adapt_sample_t s;
    memset(&s, 0, sizeof(s));
    s.pushers_saturated = 1;
    s.cpu_idle = -1;
    dray_adapt_step(&a, &s);
    assert_true(a.pushers <= 3);
  }
}

/* The policy with only the builders adapted, from BUILDERS in MIN..MAX. */
static void builders_only(dray_adapt_t *a, int min, int max, int builders, int pushers)
{
  dray_adapt_options_t o = pusher_opts();
  o.adapt_pushers = 0;
  o.adapt_builders = 1;
  o.builders_min = min;
  o.builders_max = max;
  dray_adapt_init(a, &o, builders, pushers);
}

/* Builders: more while builds wait and CPUs idle; fewer when the CPUs are
 * saturated while pushes queue behind busy pushers; bounds hold. */
static void test_builders_follow_the_cpus(void **state)
{
  dray_adapt_t a;
  dray_adapt_sample_t s;
  int w;
  (void)state;
  builders_only(&a, 1, 5, 2, 2);
  memset(&s, 0, sizeof(s));
  s.builders_saturated = 1;
  s.cpu_idle = 0.6;
  for (w = 0; w < 10; w++)
    dray_adapt_step(&a, &s);
  assert_int_equal(a.builders, 5);
  assert_int_equal(a.pushers, 2); /* not adapted */
  s.cpu_idle = 0.01;
  s.pushers_saturated = 1;
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.builders, 4);
  /* Saturated CPUs, no push waiting (whether pushes run or not): the
   * builds are not what holds the pushes back; nothing to take. */
  s.pushers_saturated = 0;
  assert_false(dray_adapt_step(&a, &s));
  assert_false(dray_adapt_step(&a, &s));
  /* CPU unknown: no change. */
  s.cpu_idle = -1;
  s.pushers_saturated = 1;
  assert_false(dray_adapt_step(&a, &s));
}

/* The CPUs are busy, but the pushers sit idle waiting for built images: the
 * builds are the slower stage, so more of them at once (a build is not all
 * CPU). Once pushes queue behind busy pushers on saturated CPUs, one is
 * taken back: the two stages meet. */
static void test_builders_grow_while_pushers_starve(void **state)
{
  dray_adapt_t a;
  dray_adapt_sample_t s;
  (void)state;
  builders_only(&a, 2, 8, 2, 3);
  memset(&s, 0, sizeof(s));
  s.builders_saturated = 1;
  s.cpu_idle = 0.04; /* busy: CPU alone would not add one */
  assert_false(dray_adapt_step(&a, &s));
  s.pushers_starved = 1;
  assert_true(dray_adapt_step(&a, &s));
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.builders, 4);
  /* Now the pushes are behind: all pushers busy, more waiting. */
  s.pushers_starved = 0;
  s.pushers_saturated = 1;
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.builders, 3);
  /* Builds not waiting: starving pushers are no reason to add builders. */
  s.pushers_saturated = 0;
  s.pushers_starved = 1;
  s.builders_saturated = 0;
  assert_false(dray_adapt_step(&a, &s));
  /* Starving pushers add up to two per minimum (4 here), not to the
   * maximum: on busy CPUs more builds only make each slower. */
  s.builders_saturated = 1;
  for (int w = 0; w < 20; w++)
    dray_adapt_step(&a, &s);
  assert_int_equal(a.builders, 4);
  /* Idle CPUs still take it to the maximum, never past. */
  s.cpu_idle = 0.5;
  for (int w = 0; w < 20; w++)
    dray_adapt_step(&a, &s);
  assert_int_equal(a.builders, 8);
}

/* A pusher added just before the builds fall behind: the windows in which
 * the pushers wait for images say nothing about it. It is kept, and judged
 * in the next window in which all pushers are busy again. */
static void test_pusher_judged_only_when_busy(void **state)
{
  dray_adapt_options_t o = pusher_opts();
  dray_adapt_t a;
  dray_adapt_sample_t s;
  int w;
  (void)state;
  dray_adapt_init(&a, &o, 2, 2);
  memset(&s, 0, sizeof(s));
  s.cpu_idle = -1;
  s.pushers_saturated = 1;
  s.push_rate = 10e6;
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 3);
  /* Starved windows: less throughput, yet no verdict, no change. */
  s.pushers_saturated = 0;
  s.push_rate = 4e6;
  for (w = 0; w < 5; w++)
    assert_false(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 3);
  /* Busy again, and the third push did raise throughput (over two
   * windows): a fourth. */
  s.pushers_saturated = 1;
  s.push_rate = 15e6;
  assert_false(dray_adapt_step(&a, &s));
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 4);
  /* Busy, and the fourth bought nothing: taken back. */
  assert_false(dray_adapt_step(&a, &s));
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 3);
}

/* One lucky window does not keep a pusher: it is judged on two, against
 * the two before it. */
static void test_pusher_judged_on_two_windows(void **state)
{
  static const double before[] = { 19e6, 21e6 };
  dray_adapt_options_t o = pusher_opts();
  dray_adapt_t a;
  dray_adapt_sample_t s;
  (void)state;
  dray_adapt_init(&a, &o, 2, 2);
  a.hold = 1; /* the first window only measures */
  memset(&s, 0, sizeof(s));
  s.cpu_idle = -1;
  s.pushers_saturated = 1;
  s.push_rate = before[0];
  assert_false(dray_adapt_step(&a, &s));
  s.push_rate = before[1];
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 3);
  /* +20% in one window, -5% in the next: +7.5% on the mean. */
  s.push_rate = 24e6;
  assert_false(dray_adapt_step(&a, &s));
  s.push_rate = 19e6;
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 2);
  /* A steady gain is kept; the next probe is measured against it. */
  dray_adapt_init(&a, &o, 2, 2);
  s.push_rate = 20e6;
  assert_true(dray_adapt_step(&a, &s));
  s.push_rate = 26e6;
  assert_false(dray_adapt_step(&a, &s));
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 4);
  s.push_rate = 27e6; /* +4% on 26: the fourth is taken back */
  assert_false(dray_adapt_step(&a, &s));
  assert_true(dray_adapt_step(&a, &s));
  assert_int_equal(a.pushers, 3);
}

/* ---- the scheduler applying it ---------------------------------------------- */

static apr_time_t now_us;
static int started_pushes, running;
static apr_time_t fake_now(void *b) { (void)b; return now_us; }
static void fake_start(void *b, dray_job_t *j, dray_phase_t p)
{
  (void)b; (void)j;
  if (p == DRAY_PHASE_PUSH) {
    started_pushes++;
    running++;
  }
}
static void nop_drain(void *b) { (void)b; }
static void nop_cancel(void *b, int f) { (void)b; (void)f; }

/* A push-only run of 12 images with the pushers adapted, windows of 2 s,
 * on the virtual clock. */
static dray_sched_t *push_run(dray_run_t **run, int pushers)
{
  static dray_runner_t runner = {fake_start, nop_drain, nop_cancel, NULL, NULL};
  static dray_clock_t clock = {fake_now, NULL};
  dray_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
  dray_sched_options_t o;
  int i;

  plan->images = apr_array_make(pool, 12, sizeof(dray_image_t *));
  for (i = 0; i < 12; i++) {
    dray_image_t *img = apr_pcalloc(pool, sizeof(*img));
    img->index = i;
    img->name = apr_psprintf(pool, "i%d", i);
    img->repository = apr_psprintf(pool, "r/i%d", i);
    img->tags = dray_test_list("latest", NULL);
    APR_ARRAY_PUSH(plan->images, dray_image_t *) = img;
  }
  memset(&o, 0, sizeof(o));
  o.builders = 1;
  o.pushers = pushers;
  o.retry_base = apr_time_from_sec(1);
  o.retry_max = apr_time_from_sec(10);
  o.kill_grace = apr_time_from_sec(2);
  o.seed = 1;
  o.adapt = pusher_opts();
  o.adapt_window = apr_time_from_sec(2);
  now_us = apr_time_from_sec(100);
  started_pushes = running = 0;
  *run = dray_run_create(plan, DRAY_MODE_PUSH, pool);
  return dray_sched_create(*run, &o, &runner, &clock, pool);
}

/* 12 images to push, a link one push fills a third of: the scheduler adds
 * pushers as the measured throughput grows, records each change in the run,
 * and starts the extra pushes at once. */
static void test_scheduler_applies_the_limits(void **state)
{
  apr_int64_t sent[12] = {0};
  dray_run_t *run;
  dray_sched_t *s = push_run(&run, 2);
  int i, t;
  (void)state;

  dray_sched_begin(s);
  assert_int_equal(started_pushes, 2);
  /* 12 s of 100 ms ticks: each running push sends its share of 30 MB/s. */
  for (t = 0; t < 120; t++) {
    double per = link_rate(run->running_pushes, 30e6, 0) / (run->running_pushes ? run->running_pushes : 1);
    now_us += apr_time_from_msec(100);
    for (i = 0; i < 12; i++) {
      dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, dray_job_t *);
      if (job->state == DRAY_JOB_PUSHING) {
        dray_push_progress_t p;
        memset(&p, 0, sizeof(p));
        sent[i] += (apr_int64_t)(per / 10);
        p.bytes_done = sent[i];
        dray_sched_progress(s, i, &p);
      }
    }
    dray_sched_tick(s);
  }
  /* It grew past 2, found the plateau, and kept a record. */
  assert_true(run->max_running_pushes >= 3);
  assert_true(run->pushers >= 3 && run->pushers <= 4);
  assert_true(run->limits->nelts >= 2);
  assert_int_equal(APR_ARRAY_IDX(run->limits, 0, dray_limits_change_t).pushers, 2);
  assert_int_equal(started_pushes, run->running_pushes); /* none ended: all started at once */
  assert_int_equal(running, started_pushes);
}

/* An upload the engine tries again inside a push that goes on ("Retrying
 * in 5 seconds") is congestion: the pushers halve at the window's end,
 * though no attempt failed. The countdown repeating is not news. */
static void test_scheduler_halves_on_a_retry_inside_a_push(void **state)
{
  dray_run_t *run;
  dray_sched_t *s = push_run(&run, 6);
  dray_push_progress_t p;
  int t;
  (void)state;

  dray_sched_begin(s);
  assert_int_equal(started_pushes, 6);
  memset(&p, 0, sizeof(p));
  p.bytes_done = 1000;
  p.retries = 1;
  dray_sched_progress(s, 0, &p);
  for (t = 0; t < 21; t++) {
    now_us += apr_time_from_msec(100);
    p.bytes_done += 1000;
    dray_sched_progress(s, 0, &p); /* the same retry, reported again */
    dray_sched_tick(s);
  }
  assert_int_equal(run->pushers, 3);
  /* No new retry: no more halving (the hold after congestion aside). */
  for (t = 0; t < 40; t++) {
    now_us += apr_time_from_msec(100);
    p.bytes_done += 1000;
    dray_sched_progress(s, 0, &p);
    dray_sched_tick(s);
  }
  assert_int_equal(run->pushers, 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pushers_find_the_plateau),
    cmocka_unit_test(test_pushers_under_overload),
    cmocka_unit_test(test_pushers_need_saturation_and_halve),
    cmocka_unit_test(test_pushers_without_byte_counts),
    cmocka_unit_test(test_builders_follow_the_cpus),
    cmocka_unit_test(test_builders_grow_while_pushers_starve),
    cmocka_unit_test(test_pusher_judged_only_when_busy),
    cmocka_unit_test(test_pusher_judged_on_two_windows),
    cmocka_unit_test(test_scheduler_applies_the_limits),
    cmocka_unit_test(test_scheduler_halves_on_a_retry_inside_a_push),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
