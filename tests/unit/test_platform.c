/* test_platform.c — the platform interface (include/dray/platform.h), run
 * against unix/platform_unix.c on Linux and win32/platform_win32.c on Windows
 * (or under wine). The children are the system's own shell: /bin/sh on Unix,
 * cmd.exe on Windows; the only OS #ifdef is the choice of their scripts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "dray/platform.h"

#ifdef _WIN32
#include <windows.h>
/* cmd.exe: /v:on for !VAR! (expanded when run, not when parsed). */
#define SHELL "cmd.exe", "/d", "/v:on", "/c"
#define SCRIPT_OUT_ERR "echo to-stdout& echo to-stderr 1>&2"
#define SCRIPT_EXIT3 "exit 3"
#define SCRIPT_STDIN "set /p LINE=& echo got:!LINE!"
#define SCRIPT_PWD "cd"
#define SCRIPT_ENV "echo a=!DRAY_TEST_A! b=!DRAY_TEST_B! p=!DRAY_TEST_PARENT! g=!DRAY_TEST_GONE!"
/* A grandchild cmd says "started" and runs ping (which waits ~1 s per
 * count); both hold the output pipe. ^ defers & and > to the inner cmd. */
#define SCRIPT_TREE "cmd.exe /d /c echo started^& ping -n 21 127.0.0.1 ^>nul& echo not-killed"
#define SCRIPT_SLEEP "echo started& ping -n 21 127.0.0.1 >nul"
#define HOME_VAR "USERPROFILE"
#define HOME_VALUE "C:\\dray-home-test"
#else
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>
#define SHELL "/bin/sh", "-c"
#define SCRIPT_OUT_ERR "echo to-stdout; echo to-stderr >&2"
#define SCRIPT_EXIT3 "exit 3"
#define SCRIPT_STDIN "read LINE; echo \"got:$LINE\""
#define SCRIPT_PWD "pwd"
#define SCRIPT_ENV "echo \"a=$DRAY_TEST_A b=$DRAY_TEST_B p=$DRAY_TEST_PARENT g=$DRAY_TEST_GONE\""
/* A grandchild shell says "started" and becomes sleep, in the background
 * (where a non-interactive shell ignores SIGINT); it holds the output pipe. */
#define SCRIPT_TREE "/bin/sh -c 'echo started; exec sleep 20' & wait; echo not-killed"
#define SCRIPT_SLEEP "echo started; exec sleep 20"
#define HOME_VAR "HOME"
#define HOME_VALUE "/tmp/dray-home-test"
#endif

static apr_pool_t *root;

/* The step a test is at, printed by the watchdog below when the binary
 * hangs (seen once in CI under wine, in test_no_pipe_leak, not reproduced):
 * a named step instead of a bare ctest timeout. */
static const char *volatile step = "a step not named (see the last [ RUN ] line)";
#define STEP(text) (step = (text))
#define WATCHDOG_SECONDS 45

static void *APR_THREAD_FUNC watchdog(apr_thread_t *thread, void *data)
{
  (void)thread;
  (void)data;
  apr_sleep(apr_time_from_sec(WATCHDOG_SECONDS));
  fprintf(stderr, "test_platform: still running after %d s, at: %s\n",
          WATCHDOG_SECONDS, step);
  fflush(stderr);
  _Exit(1);
  return NULL;
}

/* Read until EOF. */
static char *read_all(apr_file_t *f, apr_pool_t *pool)
{
  apr_size_t cap = 4096, len = 0;
  char *buf = apr_palloc(pool, cap + 1);

  for (;;) {
    apr_size_t n = cap - len;
    apr_status_t st;
    if (n == 0) {
      char *bigger = apr_palloc(pool, cap * 2 + 1);
      memcpy(bigger, buf, len);
      buf = bigger;
      cap *= 2;
      n = cap - len;
    }
    st = apr_file_read(f, buf + len, &n);
    len += n;
    if (st == APR_EOF)
      break;
    assert_int_equal(st, APR_SUCCESS);
  }
  buf[len] = '\0';
  return buf;
}

/* Read until TEXT has appeared (the child is then known to be running). */
static void read_until(apr_file_t *f, const char *text)
{
  char buf[1024];
  apr_size_t len = 0;

  buf[0] = '\0';
  while (!strstr(buf, text)) {
    apr_size_t n = sizeof(buf) - 1 - len;
    apr_status_t st;
    assert_true(n > 0);
    st = apr_file_read(f, buf + len, &n);
    assert_int_equal(st, APR_SUCCESS);
    len += n;
    buf[len] = '\0';
  }
}

static dray_platform_proc_t *spawn(apr_file_t **out, apr_file_t **in,
                                   const char *const *argv, const char *cwd,
                                   const char *const *env, apr_pool_t *pool)
{
  dray_spawn_t spec;
  dray_platform_proc_t *proc = NULL;
  const char *errmsg = NULL;
  apr_status_t st;

  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.cwd = cwd;
  spec.env = env;
  spec.want_stdin = in != NULL;
  st = dray_platform_spawn(&proc, out, in, &errmsg, &spec, pool);
  if (st != APR_SUCCESS)
    fail_msg("spawn %s: %s", argv[0], errmsg ? errmsg : "(no message)");
  assert_non_null(proc);
  assert_non_null(*out);
  assert_true(dray_platform_proc_pid(proc) > 0);
  return proc;
}

static void wait_for(dray_platform_proc_t *proc, int *code, int *signaled)
{
  assert_int_equal(dray_platform_proc_wait(proc, code, signaled), APR_SUCCESS);
}

static void test_output_merged_and_exit_code(void **state)
{
  const char *const ok[] = {SHELL, SCRIPT_OUT_ERR, NULL};
  const char *const three[] = {SHELL, SCRIPT_EXIT3, NULL};
  apr_pool_t *pool;
  apr_file_t *out;
  dray_platform_proc_t *proc;
  char *text;
  int code = -1, sig = -1;
  (void)state;

  apr_pool_create(&pool, root);
  proc = spawn(&out, NULL, ok, NULL, NULL, pool);
  text = read_all(out, pool);
  wait_for(proc, &code, &sig);
  assert_non_null(strstr(text, "to-stdout"));
  assert_non_null(strstr(text, "to-stderr"));
  assert_int_equal(code, 0);
  assert_int_equal(sig, 0);

  proc = spawn(&out, NULL, three, NULL, NULL, pool);
  text = read_all(out, pool);
  wait_for(proc, &code, &sig);
  assert_int_equal(code, 3);
  assert_int_equal(sig, 0);
  apr_pool_destroy(pool);
}

static void test_stdin_pipe(void **state)
{
  const char *const argv[] = {SHELL, SCRIPT_STDIN, NULL};
  const char line[] = "hello there\n";
  apr_pool_t *pool;
  apr_file_t *out, *in = NULL;
  apr_size_t n = sizeof(line) - 1;
  dray_platform_proc_t *proc;
  char *text;
  int code, sig;
  (void)state;

  apr_pool_create(&pool, root);
  proc = spawn(&out, &in, argv, NULL, NULL, pool);
  assert_non_null(in);
  assert_int_equal(apr_file_write_full(in, line, n, NULL), APR_SUCCESS);
  assert_int_equal(apr_file_close(in), APR_SUCCESS);
  text = read_all(out, pool);
  wait_for(proc, &code, &sig);
  assert_non_null(strstr(text, "got:hello there"));
  assert_int_equal(code, 0);
  apr_pool_destroy(pool);
}

static void test_cwd(void **state)
{
  const char *const argv[] = {SHELL, SCRIPT_PWD, NULL};
  apr_pool_t *pool;
  apr_file_t *out;
  const char *tmp, *tag, *dir;
  dray_platform_proc_t *proc;
  char *text;
  int code, sig;
  (void)state;

  apr_pool_create(&pool, root);
  assert_int_equal(apr_temp_dir_get(&tmp, pool), APR_SUCCESS);
  /* A space and a non-ASCII letter: UTF-8 must reach the OS intact. The
   * ASCII tag is what we look for (a shell may print in another code page). */
  tag = apr_psprintf(pool, "tag%" APR_TIME_T_FMT, apr_time_now());
  dir = apr_psprintf(pool, "%s/dray cwd \xc3\xa9 %s", tmp, tag);
  assert_int_equal(apr_dir_make(dir, APR_FPROT_OS_DEFAULT, pool), APR_SUCCESS);
  proc = spawn(&out, NULL, argv, dir, NULL, pool);
  text = read_all(out, pool);
  wait_for(proc, &code, &sig);
  assert_int_equal(code, 0);
  if (!strstr(text, tag))
    fail_msg("cwd %s, child printed: %s", dir, text);
  apr_dir_remove(dir, pool);
  apr_pool_destroy(pool);
}

static void test_env_additions(void **state)
{
  const char *const argv[] = {SHELL, SCRIPT_ENV, NULL};
  const char *const env[] = {"DRAY_TEST_A=first", "DRAY_TEST_B=two words",
                             "DRAY_TEST_A=1", "DRAY_TEST_GONE", NULL};
  apr_pool_t *pool;
  apr_file_t *out;
  dray_platform_proc_t *proc;
  char *text;
  int code, sig;
  (void)state;

  apr_pool_create(&pool, root);
  assert_int_equal(apr_env_set("DRAY_TEST_PARENT", "inherited", pool), APR_SUCCESS);
  assert_int_equal(apr_env_set("DRAY_TEST_GONE", "gone-value", pool), APR_SUCCESS);
  proc = spawn(&out, NULL, argv, NULL, env, pool);
  text = read_all(out, pool);
  wait_for(proc, &code, &sig);
  assert_int_equal(code, 0);
  /* The later setting of a name wins; dray's own environment is kept. */
  if (!strstr(text, "a=1 b=two words p=inherited"))
    fail_msg("child printed: %s", text);
  /* A bare name removes the variable. */
  if (strstr(text, "gone-value"))
    fail_msg("DRAY_TEST_GONE reached the child: %s", text);
  apr_env_delete("DRAY_TEST_PARENT", pool);
  apr_env_delete("DRAY_TEST_GONE", pool);
  apr_pool_destroy(pool);
}

static void test_not_found(void **state)
{
  const char *const argv[] = {"dray-no-such-program-1d9f", "x", NULL};
  dray_spawn_t spec;
  dray_platform_proc_t *proc = NULL;
  apr_file_t *out = NULL;
  const char *errmsg = NULL;
  apr_pool_t *pool;
  (void)state;

  apr_pool_create(&pool, root);
  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  assert_int_not_equal(dray_platform_spawn(&proc, &out, NULL, &errmsg, &spec, pool),
                       APR_SUCCESS);
  assert_non_null(errmsg);
  assert_non_null(strstr(errmsg, "dray-no-such-program-1d9f"));
  apr_pool_destroy(pool);
}

/* KILL ends the child and its grandchild: the output pipe, which the
 * grandchild holds, reaches EOF long before the grandchild's 20 s are up. */
static void test_kill_tree(void **state)
{
  const char *const argv[] = {SHELL, SCRIPT_TREE, NULL};
  apr_pool_t *pool;
  apr_file_t *out;
  dray_platform_proc_t *proc;
  apr_time_t start;
  char *text;
  int code = -1, sig = -1;
  (void)state;

  apr_pool_create(&pool, root);
  proc = spawn(&out, NULL, argv, NULL, NULL, pool);
  read_until(out, "started"); /* the grandchild runs */
  start = apr_time_now();
  assert_int_equal(dray_platform_proc_signal(proc, DRAY_PROC_KILL), APR_SUCCESS);
  text = read_all(out, pool);
  assert_true(apr_time_now() - start < apr_time_from_sec(10));
  assert_null(strstr(text, "not-killed"));
  wait_for(proc, &code, &sig);
  assert_int_equal(sig, 1);
  assert_int_equal(code, 128 + 9);
  /* After the wait, signals are harmless no-ops (the pid may be reused). */
  assert_int_equal(dray_platform_proc_signal(proc, DRAY_PROC_INTERRUPT), APR_SUCCESS);
  assert_int_equal(dray_platform_proc_signal(proc, DRAY_PROC_KILL), APR_SUCCESS);
  apr_pool_destroy(pool);
}

#ifdef _WIN32
static int under_wine(void)
{
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}
#endif

/* INTERRUPT asks the child's group to stop (SIGINT / CTRL_BREAK_EVENT). */
static void test_interrupt(void **state)
{
  const char *const argv[] = {SHELL, SCRIPT_SLEEP, NULL};
  apr_pool_t *pool;
  apr_file_t *out;
  dray_platform_proc_t *proc;
  apr_time_t start;
  int code = -1, sig = -1;
  (void)state;

#ifdef _WIN32
  /* Wine 8 does not deliver CTRL_BREAK_EVENT to a process group, and without
   * a console (CI) Windows cannot either: checked on real Windows only. */
  if (under_wine() || !GetConsoleWindow()) {
    skip();
    return;
  }
#endif
  apr_pool_create(&pool, root);
  proc = spawn(&out, NULL, argv, NULL, NULL, pool);
  read_until(out, "started");
  start = apr_time_now();
  assert_int_equal(dray_platform_proc_signal(proc, DRAY_PROC_INTERRUPT), APR_SUCCESS);
  read_all(out, pool);
  wait_for(proc, &code, &sig);
  assert_true(apr_time_now() - start < apr_time_from_sec(10));
  assert_int_not_equal(code, 0);
  apr_pool_destroy(pool);
}

/* A child must not inherit another child's pipe ends: while a long child
 * runs, a second one's output still reaches EOF as soon as it exits. */
static void test_no_pipe_leak(void **state)
{
  const char *const sleeper[] = {SHELL, SCRIPT_SLEEP, NULL};
  const char *const quick[] = {SHELL, SCRIPT_STDIN, NULL};
  apr_pool_t *pool;
  apr_file_t *out1, *in1 = NULL, *out2;
  dray_platform_proc_t *p1, *p2;
  apr_time_t start;
  char *text;
  int code, sig;
  (void)state;

  apr_pool_create(&pool, root);
  /* The first child gets a stdin pipe whose write end stays in dray; the
   * sleeper started next must not inherit it, or the first would never see
   * EOF on its stdin. */
  STEP("no_pipe_leak: spawn the reader of stdin");
  p1 = spawn(&out1, &in1, quick, NULL, NULL, pool);
  STEP("no_pipe_leak: spawn the sleeper");
  p2 = spawn(&out2, NULL, sleeper, NULL, NULL, pool);
  STEP("no_pipe_leak: wait for the sleeper's first line");
  read_until(out2, "started");
  start = apr_time_now();
  STEP("no_pipe_leak: close the reader's stdin, read its output to EOF");
  assert_int_equal(apr_file_close(in1), APR_SUCCESS);
  text = read_all(out1, pool);
  STEP("no_pipe_leak: wait for the reader to exit");
  wait_for(p1, &code, &sig);
  assert_true(apr_time_now() - start < apr_time_from_sec(10));
  assert_non_null(strstr(text, "got:"));
  STEP("no_pipe_leak: kill the sleeper, read its output to EOF");
  assert_int_equal(dray_platform_proc_signal(p2, DRAY_PROC_KILL), APR_SUCCESS);
  read_all(out2, pool);
  STEP("no_pipe_leak: wait for the sleeper to exit");
  wait_for(p2, &code, &sig);
  assert_int_equal(sig, 1);
  apr_pool_destroy(pool);
}

static void test_machine(void **state)
{
  apr_pool_t *pool;
  char *saved = NULL;
  const char *home;
  (void)state;

  apr_pool_create(&pool, root);
  assert_true(dray_platform_cpu_count() >= 1);

  if (apr_env_get(&saved, HOME_VAR, pool) != APR_SUCCESS)
    saved = NULL;
  assert_int_equal(apr_env_set(HOME_VAR, HOME_VALUE, pool), APR_SUCCESS);
  home = dray_platform_home_dir(pool);
  assert_non_null(home);
  assert_string_equal(home, HOME_VALUE);
  if (saved)
    apr_env_set(HOME_VAR, saved, pool);
  else
    apr_env_delete(HOME_VAR, pool);
  apr_pool_destroy(pool);
}

/* Set NAME to VALUE (NULL: unset) and return what it was, or NULL. */
static char *swap_env(const char *name, const char *value, apr_pool_t *pool)
{
  char *old = NULL;
  if (apr_env_get(&old, name, pool) != APR_SUCCESS)
    old = NULL;
  if (value)
    assert_int_equal(apr_env_set(name, value, pool), APR_SUCCESS);
  else
    apr_env_delete(name, pool);
  return old;
}

/* A regular file is never a terminal and has no width. */
static void test_file_is_no_terminal(void **state)
{
  apr_pool_t *pool;
  const char *tmp, *path;
  char *columns;
  FILE *f;
  (void)state;

  apr_pool_create(&pool, root);
  assert_int_equal(apr_temp_dir_get(&tmp, pool), APR_SUCCESS);
  path = apr_psprintf(pool, "%s/dray-tty-%" APR_TIME_T_FMT ".txt", tmp, apr_time_now());
  f = fopen(path, "w");
  assert_non_null(f);
  columns = swap_env("COLUMNS", NULL, pool);
  assert_int_equal(dray_platform_is_terminal(f), 0);
  assert_int_equal(dray_platform_terminal_width(f), 0);
  swap_env("COLUMNS", columns, pool);
  fclose(f);
  apr_file_remove(path, pool);
  apr_pool_destroy(pool);
}

#ifndef _WIN32
/* A pseudo-terminal whose size we set: a terminal of exactly that width;
 * TERM=dumb is not one that understands cursor movement. */
static void test_pty_is_terminal(void **state)
{
  apr_pool_t *pool;
  struct winsize ws;
  char *term, *columns;
  int master, slave;
  FILE *f;
  (void)state;

  apr_pool_create(&pool, root);
  master = posix_openpt(O_RDWR | O_NOCTTY);
  assert_true(master >= 0);
  assert_int_equal(grantpt(master), 0);
  assert_int_equal(unlockpt(master), 0);
  slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  assert_true(slave >= 0);
  memset(&ws, 0, sizeof(ws));
  ws.ws_col = 123;
  ws.ws_row = 40;
  assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
  f = fdopen(slave, "w");
  assert_non_null(f);

  term = swap_env("TERM", "xterm", pool);
  columns = swap_env("COLUMNS", "77", pool); /* the terminal's own size wins */
  assert_int_equal(dray_platform_is_terminal(f), 1);
  assert_int_equal(dray_platform_terminal_width(f), 123);
  ws.ws_col = 61; /* resized */
  assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
  assert_int_equal(dray_platform_terminal_width(f), 61);
  swap_env("TERM", "dumb", pool);
  assert_int_equal(dray_platform_is_terminal(f), 0);
  swap_env("TERM", term, pool);
  swap_env("COLUMNS", columns, pool);

  fclose(f);
  close(master);
  apr_pool_destroy(pool);
}
#endif

static volatile int interrupts_seen;

static void on_interrupt(void *baton, dray_interrupt_kind_t kind)
{
  (void)baton;
  if (kind == DRAY_INTERRUPT_INT)
    interrupts_seen++;
}

static void test_interrupts(void **state)
{
  apr_pool_t *pool;
  int i;
  (void)state;

  apr_pool_create(&pool, root);
  assert_int_equal(dray_platform_interrupts_start(on_interrupt, NULL, pool), APR_SUCCESS);
  /* Once only, until stopped. */
  assert_int_not_equal(dray_platform_interrupts_start(on_interrupt, NULL, pool), APR_SUCCESS);
#ifndef _WIN32
  /* Delivered on the platform's thread instead of ending the process. */
  kill(getpid(), SIGINT);
  for (i = 0; i < 200 && !interrupts_seen; i++)
    apr_sleep(apr_time_from_msec(10));
  assert_int_equal(interrupts_seen, 1);
#else
  /* Ctrl+C cannot be sent to only this process from inside it: checked by
   * the integration test that sends SIGINT to the wine process. */
  (void)i;
#endif
  dray_platform_interrupts_stop();
  dray_platform_interrupts_stop(); /* safe twice */
  apr_pool_destroy(pool);
}

#ifndef _WIN32
/* What the callback saw, by kind (index 0: anything out of range). */
static volatile int kinds_seen[DRAY_INTERRUPT_CLOSE + 1];
static volatile int block_callback; /* the callback waits while set */
static volatile int callback_blocked;

static void on_interrupt_kind(void *baton, dray_interrupt_kind_t kind)
{
  (void)baton;
  kinds_seen[kind >= DRAY_INTERRUPT_INT && kind <= DRAY_INTERRUPT_CLOSE ? kind : 0]++;
  while (block_callback) {
    callback_blocked = 1;
    apr_sleep(apr_time_from_msec(5));
  }
}

static void wait_seen(dray_interrupt_kind_t kind, int n)
{
  int i;
  for (i = 0; i < 500 && kinds_seen[kind] < n; i++)
    apr_sleep(apr_time_from_msec(10));
}

static volatile sig_atomic_t test_handler_calls;

static void test_handler(int signo)
{
  (void)signo;
  test_handler_calls++;
}

static void set_handler(int signo, void (*handler)(int), struct sigaction *old)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(signo, &sa, old), 0);
}

static void (*current_handler(int signo))(int)
{
  struct sigaction sa;
  assert_int_equal(sigaction(signo, NULL, &sa), 0);
  return sa.sa_handler;
}

/* SIGHUP (the terminal went away) and SIGTERM cancel: both arrive as TERM;
 * SIGINT as INT. Stopping puts back the handlers that were there before. */
static void test_interrupt_kinds(void **state)
{
  struct sigaction saved_hup, saved_term;
  apr_pool_t *pool;
  (void)state;

  apr_pool_create(&pool, root);
  memset((void *)kinds_seen, 0, sizeof(kinds_seen));
  set_handler(SIGHUP, test_handler, &saved_hup);
  set_handler(SIGTERM, test_handler, &saved_term);
  test_handler_calls = 0;

  assert_int_equal(dray_platform_interrupts_start(on_interrupt_kind, NULL, pool), APR_SUCCESS);
  assert_true(current_handler(SIGHUP) != test_handler);
  raise(SIGHUP);
  wait_seen(DRAY_INTERRUPT_TERM, 1);
  assert_int_equal(kinds_seen[DRAY_INTERRUPT_TERM], 1);
  raise(SIGTERM);
  wait_seen(DRAY_INTERRUPT_TERM, 2);
  assert_int_equal(kinds_seen[DRAY_INTERRUPT_TERM], 2);
  raise(SIGINT);
  wait_seen(DRAY_INTERRUPT_INT, 1);
  assert_int_equal(kinds_seen[DRAY_INTERRUPT_INT], 1);
  dray_platform_interrupts_stop();

  assert_int_equal(kinds_seen[0], 0);
  assert_int_equal(kinds_seen[DRAY_INTERRUPT_BREAK], 0);
  assert_int_equal(kinds_seen[DRAY_INTERRUPT_CLOSE], 0);
  assert_int_equal(test_handler_calls, 0);
  /* The earlier handlers are back, and get what comes now. */
  assert_true(current_handler(SIGHUP) == test_handler);
  assert_true(current_handler(SIGTERM) == test_handler);
  raise(SIGHUP);
  assert_int_equal(test_handler_calls, 1);
  assert_int_equal(kinds_seen[DRAY_INTERRUPT_TERM], 2);

  assert_int_equal(sigaction(SIGHUP, &saved_hup, NULL), 0);
  assert_int_equal(sigaction(SIGTERM, &saved_term, NULL), 0);
  apr_pool_destroy(pool);
}

/* Under nohup (SIGHUP ignored when dray starts) a hangup changes nothing. */
static void test_nohup_keeps_sighup_ignored(void **state)
{
  struct sigaction saved_hup;
  apr_pool_t *pool;
  (void)state;

  apr_pool_create(&pool, root);
  memset((void *)kinds_seen, 0, sizeof(kinds_seen));
  set_handler(SIGHUP, SIG_IGN, &saved_hup);
  assert_int_equal(dray_platform_interrupts_start(on_interrupt_kind, NULL, pool), APR_SUCCESS);
  assert_true(current_handler(SIGHUP) == SIG_IGN);
  raise(SIGHUP);
  raise(SIGINT); /* delivered, and after the hangup had its chance */
  wait_seen(DRAY_INTERRUPT_INT, 1);
  assert_int_equal(kinds_seen[DRAY_INTERRUPT_INT], 1);
  assert_int_equal(kinds_seen[DRAY_INTERRUPT_TERM], 0);
  dray_platform_interrupts_stop();
  assert_true(current_handler(SIGHUP) == SIG_IGN);
  assert_int_equal(sigaction(SIGHUP, &saved_hup, NULL), 0);
  apr_pool_destroy(pool);
}

/* While the callback is busy the self-pipe fills up (64 KiB on Linux): a
 * handler must drop the repeat, not block the thread the signal landed on
 * (with a blocking pipe this test hangs in raise()). */
static void test_full_pipe_drops_repeats(void **state)
{
  apr_pool_t *pool;
  int i, n = 100000;
  apr_time_t start;
  (void)state;

  apr_pool_create(&pool, root);
  memset((void *)kinds_seen, 0, sizeof(kinds_seen));
  callback_blocked = 0;
  block_callback = 1;
  assert_int_equal(dray_platform_interrupts_start(on_interrupt_kind, NULL, pool), APR_SUCCESS);
  raise(SIGINT);
  for (i = 0; i < 500 && !callback_blocked; i++)
    apr_sleep(apr_time_from_msec(10));
  assert_true(callback_blocked);
  start = apr_time_now();
  alarm(30); /* a handler blocked on the full pipe: end the test (SIGALRM) */
  for (i = 0; i < n; i++)
    raise(SIGINT);
  alarm(0);
  assert_true(apr_time_now() - start < apr_time_from_sec(20));
  block_callback = 0;
  /* Some were delivered after the callback returned; not all of them. */
  wait_seen(DRAY_INTERRUPT_INT, 2);
  assert_true(kinds_seen[DRAY_INTERRUPT_INT] >= 2);
  dray_platform_interrupts_stop(); /* returns with bytes still unread */
  assert_true(kinds_seen[DRAY_INTERRUPT_INT] < n + 1);
  apr_pool_destroy(pool);
}

/* Signals keep arriving on another thread while the watcher is started and
 * stopped over and over: once stop returns, no handler may write to the
 * self-pipe's old descriptor, which the pipe made next reuses. */
static volatile int hammer_on;

static void *APR_THREAD_FUNC hammer(apr_thread_t *thd, void *data)
{
  (void)thd;
  (void)data;
  while (hammer_on)
    raise(SIGHUP); /* to this thread: our handler or the test's */
  return NULL;
}

static void test_stop_while_signals_arrive(void **state)
{
  struct sigaction saved_hup;
  apr_thread_t *thread;
  apr_status_t rv;
  apr_pool_t *pool;
  int round, leaks = 0;
  (void)state;

  apr_pool_create(&pool, root);
  set_handler(SIGHUP, test_handler, &saved_hup);
  hammer_on = 1;
  assert_int_equal(apr_thread_create(&thread, NULL, hammer, NULL, pool), APR_SUCCESS);
  for (round = 0; round < 200; round++) {
    int fds[2];
    char b;
    assert_int_equal(dray_platform_interrupts_start(on_interrupt_kind, NULL, pool),
                     APR_SUCCESS);
    apr_sleep(100);
    dray_platform_interrupts_stop();
    /* Likely the numbers the self-pipe had: nothing may arrive here. */
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    apr_sleep(100);
    if (read(fds[0], &b, 1) == 1)
      leaks++;
    close(fds[0]);
    close(fds[1]);
  }
  hammer_on = 0;
  apr_thread_join(&rv, thread);
  assert_int_equal(sigaction(SIGHUP, &saved_hup, NULL), 0);
  assert_int_equal(leaks, 0);
  assert_true(test_handler_calls > 0); /* the hammer really ran */
  apr_pool_destroy(pool);
}
#endif

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_output_merged_and_exit_code),
    cmocka_unit_test(test_stdin_pipe),
    cmocka_unit_test(test_cwd),
    cmocka_unit_test(test_env_additions),
    cmocka_unit_test(test_not_found),
    cmocka_unit_test(test_kill_tree),
    cmocka_unit_test(test_interrupt),
    cmocka_unit_test(test_no_pipe_leak),
    cmocka_unit_test(test_machine),
    cmocka_unit_test(test_file_is_no_terminal),
#ifndef _WIN32
    cmocka_unit_test(test_pty_is_terminal),
#endif
    cmocka_unit_test(test_interrupts),
#ifndef _WIN32
    cmocka_unit_test(test_interrupt_kinds),
    cmocka_unit_test(test_nohup_keeps_sighup_ignored),
    cmocka_unit_test(test_full_pipe_drops_repeats),
    cmocka_unit_test(test_stop_while_signals_arrive),
#endif
  };
  const char *warning = NULL;
  int failed;

  apr_initialize();
  apr_pool_create(&root, NULL);
  if (dray_platform_init(&warning, root) != APR_SUCCESS)
    return 1;
  if (warning)
    fprintf(stderr, "platform warning: %s\n", warning);
  {
    apr_thread_t *thread;
    apr_threadattr_t *attr;
    apr_threadattr_create(&attr, root);
    apr_threadattr_detach_set(attr, 1);
    apr_thread_create(&thread, attr, watchdog, NULL, root);
  }
  failed = cmocka_run_group_tests(tests, NULL, NULL);
  apr_pool_destroy(root);
  apr_terminate();
  return failed;
}
