/* test_view_report.c — the edges where types become words: the plain view,
 * the JSON event stream, the summary and the JSON report, fed a run that a
 * fake runner drove through the real scheduler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <jansson.h>

#include "testutil.h"

#include "dray/events.h"
#include "dray/report.h"
#include "dray/text.h"
#include "dray/run.h"
#include "dray/scheduler.h"
#include "dray/view.h"

static apr_time_t clock_now;
static apr_time_t fake_now(void *baton)
{
  (void)baton;
  return clock_now;
}
static void nop_start(void *b, dray_job_t *j, dray_phase_t p) { (void)b; (void)j; (void)p; }
static void nop_drain(void *b) { (void)b; }
static void nop_cancel(void *b, int f) { (void)b; (void)f; }

/* Read a whole stream written so far. */
static char *slurp(FILE *f)
{
  long n;
  char *text;
  fflush(f);
  n = ftell(f);
  text = apr_pcalloc(pool, (apr_size_t)n + 1);
  rewind(f);
  assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
  return text;
}

static const char *api_error = "docker build exited with code 1: boom";

/* One image "web" built, its push failing once (reset), then pushed; one
 * image "api" whose build failed. */
static dray_run_t *drive(dray_view_mode_t mode, FILE *view_out, FILE *events_out)
{
  dray_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
  dray_sched_options_t o;
  dray_runner_t runner = {nop_start, nop_drain, nop_cancel, NULL};
  dray_clock_t clock = {fake_now, NULL};
  dray_attempt_result_t r;
  dray_sched_t *s;
  dray_run_t *run;
  dray_sink_t sink;
  const char *names[2] = {"web", "api"};
  int i;

  plan->images = apr_array_make(pool, 2, sizeof(dray_image_t *));
  for (i = 0; i < 2; i++) {
    dray_image_t *img = apr_pcalloc(pool, sizeof(*img));
    img->index = i;
    img->name = names[i];
    img->repository = apr_pstrcat(pool, "registry.test/", names[i], NULL);
    img->tags = dray_test_list("latest", NULL);
    APR_ARRAY_PUSH(plan->images, dray_image_t *) = img;
  }
  memset(&o, 0, sizeof(o));
  o.builders = 2;
  o.pushers = 1;
  o.push_retries = 1;
  o.retry_base = apr_time_from_sec(2);
  o.retry_max = apr_time_from_sec(60);
  o.kill_grace = apr_time_from_sec(2);
  o.seed = 7;
  clock_now = apr_time_from_sec(2000000000);
  run = dray_run_create(plan, DRAY_MODE_RUN, pool);
  s = dray_sched_create(run, &o, &runner, &clock, pool);
  sink = dray_view_sink(dray_view_create(view_out, mode, 0, pool));
  dray_sched_add_sink(s, &sink);
  if (events_out) {
    sink = dray_events_sink(dray_events_create(events_out, 2, pool));
    dray_sched_add_sink(s, &sink);
  }
  dray_sched_begin(s);
  memset(&r, 0, sizeof(r));
  clock_now += apr_time_from_sec(3);
  r.outcome = DRAY_OUTCOME_OK;
  r.image_id = "sha256:aaaa";
  dray_sched_finished(s, 0, DRAY_PHASE_BUILD, &r);
  r.outcome = DRAY_OUTCOME_EXIT;
  r.error = api_error;
  dray_sched_finished(s, 1, DRAY_PHASE_BUILD, &r);
  clock_now += apr_time_from_sec(1);
  r.outcome = DRAY_OUTCOME_RESET;
  r.error = "push registry.test/web:latest: connection reset by peer";
  dray_sched_finished(s, 0, DRAY_PHASE_PUSH, &r);
  for (i = 0; i < 30; i++) {
    clock_now += apr_time_from_msec(100);
    dray_sched_tick(s);
  }
  memset(&r, 0, sizeof(r));
  r.outcome = DRAY_OUTCOME_OK;
  r.tag_digests = dray_test_list("sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", NULL);
  r.verified = 1;
  r.bytes = 2048;
  dray_sched_finished(s, 0, DRAY_PHASE_PUSH, &r);
  assert_true(dray_sched_done(s));
  dray_sched_end(s);
  return run;
}

static void test_plain_view_lines(void **state)
{
  FILE *out = tmpfile();
  char *text;
  (void)state;
  drive(DRAY_VIEW_PLAIN, out, NULL);
  text = slurp(out);
  assert_non_null(strstr(text, "build-started web"));
  assert_non_null(strstr(text, "built         web  sha256:aaaa"));
  assert_non_null(strstr(text, "build-failed  api  docker build exited with code 1: boom"));
  assert_non_null(strstr(text, "push-retry    web  push registry.test/web:latest: connection reset "
                               "by peer; retrying in "));
  assert_non_null(strstr(text, "pushed        web  sha256:bbbb"));
  /* The name is said once per line. */
  assert_null(strstr(text, "api  api"));
  fclose(out);
}

static void test_quiet_view_only_problems(void **state)
{
  FILE *out = tmpfile();
  char *text;
  (void)state;
  drive(DRAY_VIEW_QUIET, out, NULL);
  text = slurp(out);
  assert_non_null(strstr(text, "build-failed"));
  assert_non_null(strstr(text, "push-retry"));
  assert_null(strstr(text, "pushed "));
  assert_null(strstr(text, "build-started"));
  fclose(out);
}

static void test_events_json(void **state)
{
  FILE *view = tmpfile(), *events = tmpfile();
  char *text, *line, *save;
  int n = 0, saw_built = 0, saw_retry = 0, saw_failed = 0;
  (void)state;
  drive(DRAY_VIEW_QUIET, view, events);
  text = slurp(events);
  for (line = apr_strtok(text, "\n", &save); line; line = apr_strtok(NULL, "\n", &save)) {
    json_error_t jerr;
    json_t *o = json_loads(line, 0, &jerr);
    const char *ev;
    assert_non_null(o);
    ev = json_string_value(json_object_get(o, "event"));
    assert_non_null(ev);
    assert_non_null(json_object_get(o, "time"));
    if (strcmp(ev, "built") == 0) {
      saw_built = 1;
      /* built, and waiting for (or at) its push: never "building" */
      assert_string_not_equal(json_string_value(json_object_get(o, "status")), "building");
      assert_string_equal(json_string_value(json_object_get(o, "kind")), "finished");
    } else if (strcmp(ev, "push-retry") == 0) {
      saw_retry = 1;
      assert_string_equal(json_string_value(json_object_get(o, "reason")), "reset");
      assert_string_equal(json_string_value(json_object_get(o, "kind")), "retry");
    } else if (strcmp(ev, "build-failed") == 0) {
      saw_failed = 1;
      assert_string_equal(json_string_value(json_object_get(o, "reason")), "exit");
      assert_string_equal(json_string_value(json_object_get(o, "image")), "api");
    } else if (strcmp(ev, "pushed") == 0) {
      assert_string_equal(json_string_value(json_object_get(o, "digest")),
                          "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    }
    json_decref(o);
    n++;
  }
  assert_true(n >= 7);
  assert_true(saw_built && saw_retry && saw_failed);
  fclose(view);
  fclose(events);
}

static void test_summary_and_report(void **state)
{
  FILE *view = tmpfile(), *out = tmpfile();
  dray_run_t *run = drive(DRAY_VIEW_QUIET, view, NULL);
  const char *tmp, *path;
  json_error_t jerr;
  json_t *root, *imgs, *web, *api, *attempts;
  char *text;
  (void)state;

  dray_report_print_summary(out, run, 0, pool);
  text = slurp(out);
  assert_non_null(strstr(text, "2 images in"));
  assert_non_null(strstr(text, "1 pushed, 1 failed, 0 skipped"));
  /* Counts agree in number. */
  assert_non_null(strstr(text, "at most 2 builds and 1 push at once"));
  assert_non_null(strstr(text, "api: docker build exited with code 1: boom"));

  assert_int_equal(apr_temp_dir_get(&tmp, pool), APR_SUCCESS);
  path = apr_psprintf(pool, "%s/dray-report-%" APR_TIME_T_FMT ".json", tmp, apr_time_now());
  dray_test_no_error(dray_report_write_json(path, run, dray_exit_code(NULL, run), pool));
  root = json_load_file(path, 0, &jerr);
  assert_non_null(root);
  {
    /* The next run's estimates come from this report. */
    apr_hash_t *times = dray_report_read_build_seconds(path, pool);
    const double *web_secs = apr_hash_get(times, "web", APR_HASH_KEY_STRING);
    assert_int_equal(apr_hash_count(times), 2);
    assert_non_null(web_secs);
    assert_true(*web_secs > 2.99 && *web_secs < 3.01);
    assert_int_equal(apr_hash_count(dray_report_read_build_seconds(
                         apr_pstrcat(pool, path, ".missing", NULL), pool)), 0);
  }
  remove(path);
  assert_int_equal(json_integer_value(json_object_get(root, "exit_code")), 1);
  imgs = json_object_get(root, "images");
  web = json_array_get(imgs, 0);
  api = json_array_get(imgs, 1);
  assert_string_equal(json_string_value(json_object_get(web, "status")), "pushed");
  assert_true(json_is_null(json_object_get(web, "reason")));
  assert_string_equal(json_string_value(json_object_get(api, "reason")), "exit");
  attempts = json_object_get(web, "attempts");
  assert_int_equal(json_array_size(attempts), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(attempts, 1), "result")),
                      "reset");
  assert_string_equal(json_string_value(json_object_get(json_array_get(attempts, 2), "result")),
                      "ok");
  assert_int_equal(json_integer_value(json_object_get(web, "bytes_pushed")), 2048);
  json_decref(root);
  fclose(view);
  fclose(out);
}

/* A peer's message with terminal controls: escaped in the view, the summary
 * and error printing (one function), kept as text in the JSON. */
static void test_control_characters_escaped(void **state)
{
  FILE *view = tmpfile(), *out = tmpfile();
  dray_run_t *run;
  char *text;
  (void)state;

  assert_string_equal(dray_text_printable("plain: ok", pool), "plain: ok");
  assert_string_equal(dray_text_printable("a\x1b[2Jb\r\nc\\d\x7f\xc2\x9b" "1m caf\xc3\xa9", pool),
                      "a\\x1b[2Jb\\x0d\\x0ac\\\\d\\x7f\\x9b1m caf\xc3\xa9");

  api_error = "registry says: \x1b[2J\x1b[1;1Hall good\ndray: fake line";
  run = drive(DRAY_VIEW_PLAIN, view, NULL);
  dray_report_print_summary(out, run, 0, pool);
  api_error = "docker build exited with code 1: boom";
  text = slurp(view);
  assert_null(strchr(text, '\x1b'));
  assert_non_null(strstr(text, "registry says: \\x1b[2J\\x1b[1;1Hall good\\x0adray: fake line"));
  text = slurp(out);
  assert_null(strchr(text, '\x1b'));
  assert_null(strstr(text, "\ndray: fake line"));
  assert_non_null(strstr(text, "\\x0adray: fake line"));
  fclose(view);
  fclose(out);
}

/* 100k images an interrupt kept from starting: one summary line, joined
 * once (joining in a loop copied the line so far for each: 35 GB here). */
static void test_summary_many_not_started(void **state)
{
  enum { N = 100000 };
  dray_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
  dray_run_t *run;
  FILE *out = tmpfile();
  char *text, *line;
  int i, commas = 0;
  (void)state;

  plan->images = apr_array_make(pool, N, sizeof(dray_image_t *));
  for (i = 0; i < N; i++) {
    dray_image_t *img = apr_pcalloc(pool, sizeof(*img));
    img->index = i;
    img->name = apr_psprintf(pool, "img%d", i);
    img->repository = apr_pstrcat(pool, "registry.test/", img->name, NULL);
    img->tags = dray_test_list("latest", NULL);
    APR_ARRAY_PUSH(plan->images, dray_image_t *) = img;
  }
  run = dray_run_create(plan, DRAY_MODE_RUN, pool);
  for (i = 0; i < N; i++) {
    dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, dray_job_t *);
    job->state = DRAY_JOB_INTERRUPTED;
    job->error = "interrupted before it started";
  }
  assert_non_null(out);
  dray_report_print_summary(out, run, 0, pool);
  text = slurp(out);
  fclose(out);
  line = strstr(text, "not started (interrupted): img0, img1, ");
  assert_non_null(line);
  for (; *line && *line != '\n'; line++)
    commas += *line == ',';
  assert_int_equal(commas, N - 1);
  assert_non_null(strstr(text, ", img99999\n"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plain_view_lines),
    cmocka_unit_test(test_quiet_view_only_problems),
    cmocka_unit_test(test_events_json),
    cmocka_unit_test(test_summary_and_report),
    cmocka_unit_test(test_control_characters_escaped),
    cmocka_unit_test(test_summary_many_not_started),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
