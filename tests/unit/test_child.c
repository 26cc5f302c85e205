/* Unit tests: running children to completion (real processes: /bin/sh on
 * POSIX, cmd.exe on Windows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "dray/cancel.h"
#include "dray/child.h"

#include "testutil.h"

#ifndef _WIN32
#include <signal.h>
#include <errno.h>
#include <stdio.h>


typedef struct lines_t {
  int n;
  char text[1024];
} lines_t;

static void collect(void *baton, const char *line, apr_size_t len)
{
  lines_t *l = baton;
  l->n++;
  strncat(l->text, line, sizeof(l->text) - strlen(l->text) - 2);
  strcat(l->text, "|");
  assert_int_equal(strlen(line), len);
}

/* Alive and not a zombie (an orphan's zombie waits for init to reap it). */
static int pid_alive(int pid)
{
  char path[64], buf[512];
  FILE *f;
  char *paren;
  if (kill(pid, 0) != 0 && errno != EPERM)
    return 0;
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  f = fopen(path, "r");
  if (!f)
    return 1; /* no /proc: trust kill() */
  buf[0] = '\0';
  if (!fgets(buf, sizeof(buf), f))
    buf[0] = '\0';
  fclose(f);
  paren = strrchr(buf, ')');
  return !(paren && paren[1] == ' ' && paren[2] == 'Z');
}

/* SIGKILL is asynchronous: give the kernel a moment to finish the exit. */
static int dies_soon(int pid)
{
  int i;
  for (i = 0; i < 100 && pid_alive(pid); i++)
    apr_sleep(apr_time_from_msec(10));
  return !pid_alive(pid);
}

static void test_exit_code_and_merged_output(void **state)
{
  const char *argv[] = {"sh", "-c", "echo out; echo err >&2; printf tail; exit 3", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  lines_t lines = {0};
  (void)state;
  spec.argv = argv;
  spec.on_line = collect;
  spec.baton = &lines;
  spec.capture_max = 1024;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 3);
  assert_false(res.signaled);
  assert_false(res.cancelled);
  assert_int_equal(lines.n, 3);
  assert_string_equal(lines.text, "out|err|tail|");
  assert_string_equal(res.output, "out\nerr\ntail");
  assert_string_equal(dray_child_last_line(&res, pool), "tail");
  assert_true(res.pid > 0);
}

static void test_capture_keeps_tail(void **state)
{
  const char *argv[] = {"sh", "-c", "i=0; while [ $i -lt 500 ]; do echo line$i; i=$((i+1)); done",
                        NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  (void)state;
  spec.argv = argv;
  spec.capture_max = 16;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 0);
  assert_int_equal(strlen(res.output), 16);
  assert_non_null(strstr(res.output, "line499\n"));
  assert_string_equal(dray_child_last_line(&res, pool), "line499");
}

static void test_stdin_env_cwd(void **state)
{
  const char *argv[] = {"sh", "-c", "read x; echo \"$x-$DRAY_T-$(pwd)\"", NULL};
  const char *env[] = {"DRAY_T=fromenv", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  (void)state;
  spec.argv = argv;
  spec.env = env;
  spec.cwd = "/";
  spec.stdin_data = "hello\n";
  spec.stdin_len = 6;
  spec.capture_max = 256;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 0);
  assert_string_equal(res.output, "hello-fromenv-/\n");
}

static void test_log_file_gets_output(void **state)
{
  const char *argv[] = {"sh", "-c", "echo logged", NULL};
  const char *tmp, *path;
  apr_file_t *log;
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  char buf[64] = {0};
  apr_size_t n = sizeof(buf) - 1;
  (void)state;
  apr_temp_dir_get(&tmp, pool);
  path = apr_psprintf(pool, "%s/dray-test-child-%d.log", tmp, (int)getpid());
  assert_int_equal(apr_file_open(&log, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_READ |
                                 APR_FOPEN_TRUNCATE, APR_FPROT_OS_DEFAULT, pool), APR_SUCCESS);
  spec.argv = argv;
  spec.log = log;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  apr_file_close(log);
  apr_file_open(&log, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, pool);
  apr_file_read(log, buf, &n);
  apr_file_close(log);
  apr_file_remove(path, pool);
  assert_string_equal(buf, "logged\n");
}

static void test_not_found_is_an_error(void **state)
{
  const char *argv[] = {"dray-no-such-program-xyz", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  dray_error_t *err;
  (void)state;
  spec.argv = argv;
  err = dray_child_run(&res, &spec, pool, pool);
  assert_non_null(err);
  assert_non_null(strstr(err->message, "dray-no-such-program-xyz"));
  dray_error_clear(err);
}

typedef struct canceller_t {
  dray_cancel_t *token;
  int force;
} canceller_t;

static void *APR_THREAD_FUNC cancel_later(apr_thread_t *t, void *data)
{
  canceller_t *c = data;
  apr_sleep(apr_time_from_msec(300));
  dray_cancel_trigger(c->token, 0);
  if (c->force) {
    apr_sleep(apr_time_from_msec(300));
    dray_cancel_trigger(c->token, 1);
  }
  /* A plain return, not apr_thread_exit: pthread_exit unwinding trips ASan. */
  (void)t;
  return NULL;
}

static void run_cancelled(const char *script, int force, int *grandchild)
{
  const char *argv[] = {"sh", "-c", script, NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  canceller_t c;
  apr_thread_t *t;
  apr_status_t rv;
  apr_time_t start = apr_time_now();

  assert_int_equal(dray_cancel_create(&c.token, pool), APR_SUCCESS);
  c.force = force;
  spec.argv = argv;
  spec.cancel = c.token;
  spec.capture_max = 64;
  apr_thread_create(&t, NULL, cancel_later, &c, pool);
  assert_null(dray_child_run(&res, &spec, pool, pool));
  apr_thread_join(&rv, t);
  assert_true(res.cancelled);
  assert_true(apr_time_now() - start < apr_time_from_sec(5));
  *grandchild = atoi(res.output);
  /* nothing new may start once cancelled */
  {
    dray_error_t *err = dray_child_run(&res, &spec, pool, pool);
    assert_non_null(err);
    assert_int_equal(err->apr_err, DRAY_ERR_CANCELLED);
    dray_error_clear(err);
  }
}

static void test_cancel_interrupts_whole_tree(void **state)
{
  int gc;
  (void)state;
  /* The grandchild (inner shell, then sleep) holds the pipe too: only
   * interrupting the whole group ends it. */
  run_cancelled("sh -c 'echo $$; exec sleep 30'; echo after", 0, &gc);
  assert_true(gc > 0);
  assert_true(dies_soon(gc));
}

static void test_cancel_force_kills_ignoring_child(void **state)
{
  int gc;
  (void)state;
  /* A tree that ignores SIGINT needs the forced stage. */
  run_cancelled("trap '' INT; sleep 30 & echo $!; wait; wait", 1, &gc);
  assert_true(gc > 0);
  assert_true(dies_soon(gc));
}

static void test_leftovers_killed_after_exit(void **state)
{
  const char *argv[] = {"sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  int gc;
  (void)state;
  spec.argv = argv;
  spec.capture_max = 64;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 0);
  gc = atoi(res.output);
  assert_true(gc > 0);
  /* the background sleep was in the child's group: gone with it */
  assert_true(dies_soon(gc));
}

static void test_leftover_holding_the_pipe(void **state)
{
  /* The background sleep keeps the output pipe open after sh exits: the
   * reader must not wait for it, and the wait must end it. */
  const char *argv[] = {"sh", "-c", "sleep 30 & echo $!; exit 4", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  apr_time_t start = apr_time_now();
  int gc;
  (void)state;
  spec.argv = argv;
  spec.capture_max = 64;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 4);
  assert_true(apr_time_now() - start < apr_time_from_sec(5));
  gc = atoi(res.output);
  assert_true(gc > 0);
  assert_true(dies_soon(gc));
}

static void test_idle_timeout(void **state)
{
  const char *argv[] = {"sh", "-c", "echo begin; sleep 20; echo never", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  apr_time_t start = apr_time_now();
  (void)state;
  spec.argv = argv;
  spec.idle_timeout = apr_time_from_msec(400);
  spec.capture_max = 64;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_true(res.idle_timed_out);
  assert_true(res.signaled);
  assert_string_equal(res.output, "begin\n");
  assert_true(apr_time_now() - start < apr_time_from_sec(5));
}

/* ---- a child's stdout as a stream ---------------------------------------- */

/* All of STREAM's stdout (at most CAP bytes kept), then its close. */
static apr_size_t stream_all(dray_child_stream_t *cs, char *out, apr_size_t cap,
                             dray_child_result_t *res)
{
  apr_size_t total = 0, got = 1;
  char buf[4096];
  while (got) {
    dray_test_no_error(dray_child_stream_read(cs, buf, sizeof(buf), &got));
    if (total + got <= cap)
      memcpy(out + total, buf, got);
    total += got;
  }
  dray_test_no_error(dray_child_stream_close(res, cs, pool));
  return total;
}

static void test_stream_keeps_stderr_apart(void **state)
{
  /* Data on stdout, messages on stderr before, amid and after it. */
  const char *argv[] = {"sh", "-c",
                        "echo first >&2; head -c 300000 /dev/zero | tr '\\0' a; "
                        "echo second >&2; printf b; echo last >&2; exit 3", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  dray_child_stream_t *cs;
  char *out = apr_palloc(pool, 300001);
  (void)state;
  spec.argv = argv;
  spec.capture_max = 12;
  dray_test_no_error(dray_child_stream_open(&cs, &spec, pool));
  assert_int_equal(stream_all(cs, out, 300001, &res), 300001);
  for (int i = 0; i < 300000; i++)
    if (out[i] != 'a')
      fail_msg("byte %d is %d", i, out[i]);
  assert_int_equal(out[300000], 'b');
  assert_int_equal(res.exit_code, 3);
  assert_false(res.signaled);
  assert_string_equal(res.output, "second\nlast\n"); /* the tail of stderr */
  assert_string_equal(dray_child_last_line(&res, pool), "last");
}

static void test_stream_closed_early_kills_the_child(void **state)
{
  /* A reader that has what it wants stops an endless writer. */
  const char *argv[] = {"sh", "-c", "echo $$; exec yes", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  dray_child_stream_t *cs;
  char buf[64];
  apr_size_t got;
  apr_time_t start = apr_time_now();
  (void)state;
  spec.argv = argv;
  dray_test_no_error(dray_child_stream_open(&cs, &spec, pool));
  dray_test_no_error(dray_child_stream_read(cs, buf, sizeof(buf) - 1, &got));
  assert_true(got > 0);
  buf[got] = '\0';
  dray_test_no_error(dray_child_stream_close(&res, cs, pool));
  assert_true(res.signaled);
  assert_true(dies_soon(atoi(buf)));
  assert_true(apr_time_now() - start < apr_time_from_sec(5));
}

static void test_stream_pool_kills_the_child(void **state)
{
  /* Never closed: its pool's end stops and reaps it all the same. */
  const char *argv[] = {"sh", "-c", "echo $$; exec sleep 30", NULL};
  dray_child_spec_t spec = {0};
  dray_child_stream_t *cs;
  apr_pool_t *sub;
  char buf[64];
  apr_size_t got;
  (void)state;
  spec.argv = argv;
  apr_pool_create(&sub, pool);
  dray_test_no_error(dray_child_stream_open(&cs, &spec, sub));
  dray_test_no_error(dray_child_stream_read(cs, buf, sizeof(buf) - 1, &got));
  buf[got] = '\0';
  apr_pool_destroy(sub);
  assert_true(atoi(buf) > 0);
  assert_true(dies_soon(atoi(buf)));
}

static void test_stream_idle_and_cancel(void **state)
{
  const char *argv[] = {"sh", "-c", "echo begin; exec sleep 20", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  dray_child_stream_t *cs;
  dray_error_t *err;
  char buf[64];
  apr_size_t got;
  canceller_t c;
  apr_thread_t *t;
  apr_status_t rv;
  apr_time_t start = apr_time_now();
  (void)state;

  /* Silent for idle_timeout: stopped, and the read says so. */
  spec.argv = argv;
  spec.idle_timeout = apr_time_from_msec(400);
  dray_test_no_error(dray_child_stream_open(&cs, &spec, pool));
  dray_test_no_error(dray_child_stream_read(cs, buf, sizeof(buf), &got));
  assert_int_equal(got, 6);
  err = dray_child_stream_read(cs, buf, sizeof(buf), &got);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_STALLED);
  dray_error_clear(err);
  dray_test_no_error(dray_child_stream_close(&res, cs, pool));
  assert_true(res.idle_timed_out);
  assert_true(res.signaled);
  assert_true(apr_time_now() - start < apr_time_from_sec(5));

  /* Cancelled while it is read: the read ends with DRAY_ERR_CANCELLED. */
  spec.idle_timeout = 0;
  assert_int_equal(dray_cancel_create(&c.token, pool), APR_SUCCESS);
  c.force = 1;
  spec.cancel = c.token;
  start = apr_time_now();
  dray_test_no_error(dray_child_stream_open(&cs, &spec, pool));
  apr_thread_create(&t, NULL, cancel_later, &c, pool);
  do
    err = dray_child_stream_read(cs, buf, sizeof(buf), &got);
  while (!err && got);
  apr_thread_join(&rv, t);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_CANCELLED);
  dray_error_clear(err);
  dray_test_no_error(dray_child_stream_close(&res, cs, pool));
  assert_true(res.cancelled);
  assert_true(apr_time_now() - start < apr_time_from_sec(5));
  /* and nothing new starts once cancelled */
  err = dray_child_stream_open(&cs, &spec, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_CANCELLED);
  dray_error_clear(err);
}

static void test_argv_string(void **state)
{
  const char *argv[] = {"docker", "build", "--tag", "a b", "", "x", NULL};
  (void)state;
  const char *hostile[] = {"printf", "[%s]\\n", "$(id)", "`id`", "a'b", "x\ny; id", "tab\there",
                           "back\\slash", "\"q\"", "*", "~", "#c", "&", "", "\x1b[2J", "caf\xc3\xa9",
                           NULL};
  const char *sh[] = {"bash", "-c", NULL, NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  (void)state;
  assert_string_equal(dray_child_argv_string(argv, pool), "docker build --tag 'a b' '' x");
  assert_string_equal(dray_child_argv_string(hostile, pool),
                      "printf '[%s]\\n' '$(id)' '`id`' 'a'\\''b' $'x\\x0ay; id' $'tab\\x09here' "
                      "'back\\slash' '\"q\"' '*' '~' '#c' '&' '' $'\\x1b[2J' caf\xc3\xa9");
  assert_null(strchr(dray_child_argv_string(hostile, pool), '\n'));

  /* Pasted into a shell, it runs exactly that argv. */
  sh[2] = dray_child_argv_string(hostile, pool);
  spec.argv = sh;
  spec.capture_max = 4096;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 0);
  assert_string_equal(res.output, "[$(id)]\n[`id`]\n[a'b]\n[x\ny; id]\n[tab\there]\n[back\\slash]\n"
                                  "[\"q\"]\n[*]\n[~]\n[#c]\n[&]\n[]\n[\x1b[2J]\n[caf\xc3\xa9]\n");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_exit_code_and_merged_output),
    cmocka_unit_test(test_capture_keeps_tail),
    cmocka_unit_test(test_stdin_env_cwd),
    cmocka_unit_test(test_log_file_gets_output),
    cmocka_unit_test(test_not_found_is_an_error),
    cmocka_unit_test(test_cancel_interrupts_whole_tree),
    cmocka_unit_test(test_cancel_force_kills_ignoring_child),
    cmocka_unit_test(test_leftovers_killed_after_exit),
    cmocka_unit_test(test_leftover_holding_the_pipe),
    cmocka_unit_test(test_idle_timeout),
    cmocka_unit_test(test_stream_keeps_stderr_apart),
    cmocka_unit_test(test_stream_closed_early_kills_the_child),
    cmocka_unit_test(test_stream_pool_kills_the_child),
    cmocka_unit_test(test_stream_idle_and_cancel),
    cmocka_unit_test(test_argv_string),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
#else
/* Windows: the same runner around CreateProcess, an overlapped output pipe
 * and a Job Object per child, driven through cmd.exe (ping -n N waits about
 * N-1 seconds: cmd has no sleep). */
#define SHELL "cmd.exe", "/d", "/v:on", "/c"

static void test_exit_code_and_merged_output(void **state)
{
  const char *argv[] = {SHELL, "echo out& echo err>&2& exit 3", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  (void)state;
  spec.argv = argv;
  spec.capture_max = 1024;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 3);
  assert_false(res.signaled);
  assert_non_null(strstr(res.output, "out"));
  assert_non_null(strstr(res.output, "err"));
  assert_string_equal(dray_child_last_line(&res, pool), "err");
}

static void test_stdin_and_env(void **state)
{
  const char *argv[] = {SHELL, "set /p X=& echo !X!-!DRAY_T!", NULL};
  const char *env[] = {"DRAY_T=fromenv", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  (void)state;
  spec.argv = argv;
  spec.env = env;
  spec.stdin_data = "hello\r\n";
  spec.stdin_len = 7;
  spec.capture_max = 256;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 0);
  assert_string_equal(dray_child_last_line(&res, pool), "hello-fromenv");
}

/* A silent child is noticed while it runs: the reader is not blocked until
 * the child ends (the CLI push driver's stall watchdog rests on this). */
static void test_idle_timeout(void **state)
{
  const char *argv[] = {SHELL, "echo begin& ping -n 31 127.0.0.1 >nul& echo never", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  apr_time_t start = apr_time_now();
  (void)state;
  spec.argv = argv;
  spec.idle_timeout = apr_time_from_msec(1500);
  spec.capture_max = 64;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_true(res.idle_timed_out);
  assert_true(res.signaled);
  assert_null(strstr(res.output, "never"));
  assert_true(apr_time_now() - start < apr_time_from_sec(10));
}

/* Output still held by a leftover after the child exited does not keep the
 * reader waiting. */
static void test_leftover_holding_the_pipe(void **state)
{
  const char *argv[] = {SHELL, "start /b ping -n 31 127.0.0.1& echo started& exit 4", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  apr_time_t start = apr_time_now();
  (void)state;
  spec.argv = argv;
  spec.capture_max = 4096;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_int_equal(res.exit_code, 4);
  assert_non_null(strstr(res.output, "started"));
  assert_true(apr_time_now() - start < apr_time_from_sec(10));
}

static void test_deadline(void **state)
{
  /* Output every second: never idle, but it must still end. */
  const char *argv[] = {SHELL, "ping -n 31 127.0.0.1", NULL};
  dray_child_spec_t spec = {0};
  dray_child_result_t res;
  apr_time_t start = apr_time_now();
  (void)state;
  spec.argv = argv;
  spec.idle_timeout = apr_time_from_sec(20);
  spec.deadline = apr_time_from_sec(3);
  spec.capture_max = 64;
  assert_null(dray_child_run(&res, &spec, pool, pool));
  assert_true(res.deadline_exceeded);
  assert_true(apr_time_now() - start < apr_time_from_sec(12));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_exit_code_and_merged_output),
    cmocka_unit_test(test_stdin_and_env),
    cmocka_unit_test(test_idle_timeout),
    cmocka_unit_test(test_leftover_holding_the_pipe),
    cmocka_unit_test(test_deadline),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
#endif
