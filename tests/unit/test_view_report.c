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

#include <apr_env.h>

#include "dray/color.h"
#include "dray/events.h"
#include "dray/github.h"
#include "dray/joblog.h"
#include "dray/junit.h"
#include "dray/timeline.h"
#include "dray/xml.h"
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

/* Read a whole stream from its start to its end. */
static char *slurp_all(FILE *f)
{
  long n;
  char *text;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  text = apr_pcalloc(pool, (apr_size_t)n + 1);
  rewind(f);
  assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
  return text;
}

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

/* What the next drive() adds: a sink, and api's log and Dockerfile. */
static dray_sink_t *extra_sink;
static const char *api_log, *api_dockerfile;
static const char *api_error = "docker build exited with code 1: boom";

/* One image "web" built, its push failing once (reset), then pushed; one
 * image "api" whose build failed. */
static dray_run_t *drive(dray_view_mode_t mode, FILE *view_out, FILE *events_out)
{
  dray_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
  dray_sched_options_t o;
  dray_runner_t runner = {nop_start, nop_drain, nop_cancel, NULL, NULL};
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
    img->dockerfile = i == 1 ? api_dockerfile : NULL;
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
  APR_ARRAY_IDX(run->jobs, 1, dray_job_t *)->log_path = api_log;
  s = dray_sched_create(run, &o, &runner, &clock, pool);
  if (extra_sink)
    dray_sched_add_sink(s, extra_sink);
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
    apr_hash_t *times = dray_report_read_estimates(path, pool);
    const dray_estimate_t *web_est = apr_hash_get(times, "web", APR_HASH_KEY_STRING);
    assert_int_equal(apr_hash_count(times), 2);
    assert_non_null(web_est);
    assert_true(web_est->build_seconds > 2.99 && web_est->build_seconds < 3.01);
    /* web alone sent bytes: its push estimate is all the time a push ran
     * (its 1 s failed attempt, then the retry), not the backoff between. */
    assert_true(web_est->push_seconds >= 1.0 && web_est->push_seconds < 4.0);
    assert_true(((const dray_estimate_t *)apr_hash_get(times, "api", APR_HASH_KEY_STRING))
                    ->push_seconds == 0);
    assert_int_equal(apr_hash_count(dray_report_read_estimates(
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

static const char *write_temp(const char *name, const char *text)
{
  const char *tmp, *path;
  FILE *f;
  assert_int_equal(apr_temp_dir_get(&tmp, pool), APR_SUCCESS);
  path = apr_psprintf(pool, "%s/dray-%s-%" APR_TIME_T_FMT, tmp, name, apr_time_now());
  f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *text;
  assert_non_null(f);
  text = slurp_all(f);
  fclose(f);
  return text;
}

/* A BuildKit failure as its log holds it. */
static const char *const buildkit_log =
    "#5 [2/2] RUN false\n#5 ERROR: process \"/bin/sh -c false\" did not complete successfully\n"
    "------\n > [2/2] RUN false:\n------\nDockerfile:3\n--------------------\n"
    "   1 |     FROM busybox\n   3 | >>> RUN false\n--------------------\n"
    "ERROR: failed to solve: <boom & co>\n";

static void test_github_actions(void **state)
{
  FILE *view = tmpfile(), *out = tmpfile();
  const char *summary = write_temp("summary", "earlier step\n");
  dray_github_t *gh = dray_github_create(out, summary, "/ci/checkout", pool);
  dray_sink_t sink = dray_github_sink(gh);
  dray_error_t *err;
  char *text, *md;
  (void)state;

  api_log = write_temp("api-log", buildkit_log);
  api_dockerfile = "/ci/checkout/services/api/Dockerfile";
  extra_sink = &sink;
  drive(DRAY_VIEW_QUIET, view, NULL);
  extra_sink = NULL;
  text = slurp(out);
  /* The failed build, at the line its log names, the path from the checkout. */
  assert_non_null(strstr(text, "::error file=services/api/Dockerfile,line=3,"
                               "title=dray%3A build of api failed::docker build exited with code 1: boom\n"));
  /* The push that was retried and made it is no error. */
  assert_null(strstr(text, "push of web"));
  /* The failed image's log, folded. */
  assert_non_null(strstr(text, "::group::dray: log of api (failed"));
  assert_non_null(strstr(text, "ERROR: failed to solve: <boom & co>\n::endgroup::\n"));
  assert_null(strstr(text, "log of web"));
  /* The step summary is appended to, one row per image. */
  md = read_file(summary);
  assert_int_equal(strncmp(md, "earlier step\n", 13), 0);
  assert_non_null(strstr(md, "1 of 2 pushed, 1 failed"));
  assert_non_null(strstr(md, "| `web` | \xe2\x9c\x85 pushed | 3.0s | "));
  assert_non_null(strstr(md, "| `api` | \xe2\x9d\x8c failed | 3.0s | - | 1/0 | - |"));
  assert_non_null(strstr(md, "**api**: docker build exited with code 1: boom"));

  /* Input errors: with file and line when the message has them. */
  rewind(out);
  err = dray_error_compose(
      dray_error_createf(DRAY_ERR_INPUT, NULL, "/ci/checkout/compose.yaml:5: x-dray.pushers needs a whole number"),
      dray_error_createf(DRAY_ERR_INPUT, NULL, "no image found: 100%% empty"));
  dray_github_errors(gh, err);
  dray_error_clear(err);
  text = slurp(out);
  assert_non_null(strstr(text, "::error file=compose.yaml,line=5,title=dray%3A input error::"
                               "x-dray.pushers needs a whole number\n"));
  assert_non_null(strstr(text, "::error title=dray%3A error::no image found: 100%25 empty\n"));
  assert_string_equal(dray_github_escape("a:b,c%\nd", 1, pool), "a%3Ab%2Cc%25%0Ad");

  /* Where a build failed, whichever builder said so. */
  {
    const char *df = "FROM busybox\nCOPY a /a\nRUN make \\\n  all\nRUN make install\n";
    assert_int_equal(dray_joblog_dockerfile_line(buildkit_log, "Dockerfile", NULL), 3);
    assert_int_equal(dray_joblog_dockerfile_line(
        "#6 [build 3/4] RUN make install\n------\n > [build 3/4] RUN make install:\n------\n",
        "Dockerfile", df), 5);
    assert_int_equal(dray_joblog_dockerfile_line(
        "Step 2/4 : COPY a /a\n ---> 1234\nStep 3/4 : RUN make   all\nStep 3/4 : RUN make \\\n",
        "Dockerfile", df), 3);
    assert_int_equal(dray_joblog_dockerfile_line("error: no space left\n", "Dockerfile", df), 0);
    assert_int_equal(dray_joblog_dockerfile_line(" > [2/2] RUN nothing like it:\n", "Dockerfile", df), 0);
  }
  remove(summary);
  remove(api_log);
  api_log = api_dockerfile = NULL;
  fclose(view);
  fclose(out);
}

static void test_junit(void **state)
{
  FILE *view = tmpfile();
  const char *path = write_temp("junit", "");
  const dray_job_t *web;
  dray_run_t *run;
  char *xml, *api;
  (void)state;

  api_log = write_temp("api-log", buildkit_log);
  run = drive(DRAY_VIEW_QUIET, view, NULL);
  web = APR_ARRAY_IDX(run->jobs, 0, const dray_job_t *);
  dray_test_no_error(dray_junit_write(path, run, pool));
  xml = read_file(path);
  assert_non_null(strstr(xml, "<testsuite name=\"dray\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\""));
  assert_non_null(strstr(xml, apr_psprintf(pool, "<testcase classname=\"dray.run\" name=\"web\" time=\"%.3f\">",
                                           (double)(web->build_time + web->push_time) / APR_USEC_PER_SEC)));
  assert_non_null(strstr(xml, apr_psprintf(pool, "<system-out>build: ok after 1 attempt, 3.0s\npush: ok after 2 attempts, %.1fs\n</system-out>",
                                           (double)web->push_time / APR_USEC_PER_SEC)));
  api = strstr(xml, "name=\"api\"");
  assert_non_null(api);
  assert_non_null(strstr(api, "<failure type=\"exit\" message=\"docker build exited with code 1: boom\">"));
  /* The log tail, escaped. */
  assert_non_null(strstr(api, "ERROR: failed to solve: &lt;boom &amp; co&gt;"));
  assert_non_null(strstr(api, "push: not run"));
  /* One test case per image. */
  assert_null(strstr(strstr(xml, "name=\"web\"") + 1, "name=\"web\""));
  assert_string_equal(dray_xml_escape("a\x1b[31m<\"'", pool), "a[31m&lt;&quot;&apos;");
  remove(path);
  remove(api_log);
  api_log = NULL;
  fclose(view);
}

static void test_colors(void **state)
{
  FILE *view = tmpfile(), *out = tmpfile();
  dray_run_t *run;
  char *text;
  (void)state;
  /* The rule: a terminal, unless NO_COLOR or TERM=dumb; forced anywhere. */
  assert_true(dray_color_decide(1, "xterm", NULL, NULL, NULL));
  assert_false(dray_color_decide(0, "xterm", NULL, NULL, NULL));
  assert_false(dray_color_decide(1, "xterm", "1", NULL, NULL));
  assert_true(dray_color_decide(1, "xterm", "", NULL, NULL));    /* empty: not set */
  assert_false(dray_color_decide(1, "dumb", NULL, NULL, NULL));
  assert_true(dray_color_decide(0, NULL, NULL, "1", NULL));
  assert_true(dray_color_decide(0, NULL, NULL, NULL, "true"));
  assert_false(dray_color_decide(0, NULL, NULL, "0", "false"));
  assert_true(dray_color_decide(0, NULL, "1", NULL, "1"));       /* forced over NO_COLOR */

  /* Not a terminal: plain words. */
  apr_env_delete("CLICOLOR_FORCE", pool);
  apr_env_delete("FORCE_COLOR", pool);
  run = drive(DRAY_VIEW_PLAIN, view, NULL);
  dray_report_print_summary(out, run, 0, pool);
  assert_null(strchr(slurp(view), '\033'));
  assert_null(strchr(slurp(out), '\033'));
  fclose(view);
  fclose(out);

  /* Forced: the words that matter are colored, the columns still line up. */
  view = tmpfile();
  out = tmpfile();
  apr_env_set("FORCE_COLOR", "1", pool);
  run = drive(DRAY_VIEW_PLAIN, view, NULL);
  dray_report_print_summary(out, run, 0, pool);
  apr_env_delete("FORCE_COLOR", pool);
  text = slurp(view);
  assert_non_null(strstr(text, "\033[32mpushed       \033[0m web"));
  assert_non_null(strstr(text, "\033[31mbuild-failed \033[0m api"));
  assert_non_null(strstr(text, "\033[33mpush-retry   \033[0m web"));
  assert_non_null(strstr(text, "build-started web"));           /* not colored */
  text = slurp(out);
  assert_non_null(strstr(text, "web    \033[32mpushed     \033[0m  "));
  assert_non_null(strstr(text, "api    \033[31mfailed     \033[0m  "));
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

static int count(const char *text, const char *what)
{
  int n = 0;
  for (text = strstr(text, what); text; text = strstr(text + 1, what))
    n++;
  return n;
}

static void test_timeline(void **state)
{
  FILE *view = tmpfile();
  dray_run_t *run = drive(DRAY_VIEW_QUIET, view, NULL);
  json_t *report = dray_report_json(run, 1, pool), *bad = json_pack("{s:i}", "images", 3);
  const char *svg, *web;
  dray_error_t *err;
  size_t i, j;
  int attempts = 0;
  (void)state;

  dray_test_no_error(dray_timeline_svg(&svg, report, pool));
  assert_int_equal(strncmp(svg, "<?xml", 5), 0);
  assert_non_null(strstr(svg, "</svg>\n"));
  /* An element per attempt, at the report's times. */
  for (i = 0; i < json_array_size(json_object_get(report, "images")); i++) {
    json_t *img = json_array_get(json_object_get(report, "images"), i);
    json_t *as = json_object_get(img, "attempts");
    for (j = 0; j < json_array_size(as); j++) {
      json_t *a = json_array_get(as, j);
      const char *want = apr_psprintf(
          pool, "data-image=\"%s\" data-phase=\"%s\" data-number=\"%d\" data-result=\"%s\" "
                "data-start=\"%.6f\" data-end=\"%.6f\"",
          json_string_value(json_object_get(img, "name")),
          json_string_value(json_object_get(a, "phase")),
          (int)json_integer_value(json_object_get(a, "number")),
          json_string_value(json_object_get(a, "result")),
          json_number_value(json_object_get(a, "start")), json_number_value(json_object_get(a, "end")));
      if (!strstr(svg, want))
        fail_msg("no element %s in\n%s", want, svg);
      attempts++;
    }
  }
  assert_int_equal(attempts, 4);
  assert_int_equal(count(svg, "<rect class=\"attempt "), attempts);
  /* web's push waited between its attempts: one wait, from the failed one's end. */
  assert_int_equal(count(svg, "<rect class=\"wait\" data-image"), 1);
  /* Two builds at once: two builder lanes; one pusher lane. */
  assert_non_null(strstr(svg, "builds (2 of 2 slots)"));
  assert_non_null(strstr(svg, "pushes (1 of 1 slots)"));
  assert_non_null(strstr(svg, "data-image=\"api\" data-phase=\"build\" data-number=\"1\" "
                              "data-result=\"exit\""));
  assert_non_null(strstr(svg, "class=\"attempt build failed\" data-image=\"api\""));
  /* web ended last: its bars are the critical path, api's are not. */
  web = strstr(svg, "class=\"attempt push ok critical\" data-image=\"web\"");
  assert_non_null(web);
  assert_null(strstr(svg, "failed critical\" data-image=\"api\""));
  assert_non_null(strstr(svg, "data-curve=\"builds\""));
  assert_non_null(strstr(svg, "data-curve=\"throughput\""));

  err = dray_timeline_svg(&svg, bad, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  dray_error_clear(err);
  json_decref(bad);
  json_decref(report);
  fclose(view);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_timeline),
    cmocka_unit_test(test_github_actions),
    cmocka_unit_test(test_junit),
    cmocka_unit_test(test_colors),
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
