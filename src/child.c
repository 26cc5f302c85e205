/* child.c — run a child process to completion, draining its output. */
#include "dray/child.h"
#include "dray/pools.h"

#include <string.h>

#include <apr_strings.h>

#include "dray/platform.h"

#define LINE_MAX_BYTES 8192
#define READ_POLL apr_time_from_msec(250)     /* how often a silent child is looked at */
#define LEFTOVER_GRACE apr_time_from_sec(1)   /* output still draining after the exit */

typedef struct child_state_t {
  dray_platform_proc_t *proc;
  int *cancelled;             /* the result's flag */
} child_state_t;

/* Runs under the cancel token's lock, possibly on another thread. */
static void on_cancel(void *baton, int force)
{
  child_state_t *st = baton;
  *st->cancelled = 1;
  dray_platform_proc_signal(st->proc, force ? DRAY_PROC_KILL : DRAY_PROC_INTERRUPT);
}

typedef struct line_buf_t {
  char data[LINE_MAX_BYTES];
  apr_size_t len;
} line_buf_t;

static void emit_line(const dray_child_spec_t *spec, line_buf_t *lb)
{
  if (lb->len > 0 && spec->on_line) {
    lb->data[lb->len] = '\0';
    spec->on_line(spec->baton, lb->data, lb->len);
  }
  lb->len = 0;
}

static void feed_lines(const dray_child_spec_t *spec, line_buf_t *lb,
                       const char *buf, apr_size_t n)
{
  apr_size_t i;
  for (i = 0; i < n; i++) {
    if (buf[i] == '\n' || buf[i] == '\r')
      emit_line(spec, lb);
    else if (lb->len < LINE_MAX_BYTES - 1)
      lb->data[lb->len++] = buf[i];
  }
}

/* Keep only the last CAP bytes of output. */
typedef struct tail_t {
  char *data;
  apr_size_t len, cap;
} tail_t;

static void tail_add(tail_t *t, const char *buf, apr_size_t n)
{
  if (t->cap == 0)
    return;
  if (n >= t->cap) {
    memcpy(t->data, buf + n - t->cap, t->cap);
    t->len = t->cap;
    return;
  }
  if (t->len + n > t->cap) {
    apr_size_t drop = t->len + n - t->cap;
    memmove(t->data, t->data + drop, t->len - drop);
    t->len -= drop;
  }
  memcpy(t->data + t->len, buf, n);
  t->len += n;
}

/* Run and wait for the child, everything in RUN_POOL: the process, its
 * pipes, the cancel registration (undone by RUN_POOL's cleanup, which the
 * caller runs on every path by destroying RUN_POOL). */
static dray_error_t *run_child(dray_child_result_t *result,
                               const dray_child_spec_t *spec,
                               apr_pool_t *result_pool,
                               apr_pool_t *run_pool)
{
  apr_file_t *out = NULL, *in = NULL;
  const char *errmsg = NULL;
  child_state_t *st = apr_pcalloc(run_pool, sizeof(*st));
  line_buf_t *lb;
  tail_t tail = {0};
  apr_status_t status;
  dray_spawn_t sp;
  char buf[16384];
  apr_time_t last_output, exited_at = 0;
  int can_poll;

  memset(&sp, 0, sizeof(sp));
  sp.argv = spec->argv;
  sp.cwd = spec->cwd;
  sp.env = spec->env;
  sp.want_stdin = spec->stdin_data != NULL;
  st->cancelled = &result->cancelled;
  status = dray_platform_spawn(&st->proc, &out, &in, &errmsg, &sp, run_pool);
  if (status != APR_SUCCESS)
    return dray_error_create(status, NULL, errmsg ? errmsg : spec->argv[0]);
  result->pid = dray_platform_proc_pid(st->proc);

  /* Registered until RUN_POOL goes, i.e. until the child is reaped: a child
   * may close its output and go on. */
  if (spec->cancel
      && dray_cancel_register(NULL, spec->cancel, on_cancel, st, run_pool) == DRAY_ERR_CANCELLED) {
    /* Cancelled between the check and the spawn: stop it at once. */
    result->cancelled = 1;
    dray_platform_proc_signal(st->proc, DRAY_PROC_KILL);
  }

  if (in) {
    apr_size_t written;
    /* A child that exits without reading gives EPIPE: not our failure. */
    apr_file_write_full(in, spec->stdin_data, spec->stdin_len, &written);
    apr_file_close(in);
  }

  if (spec->capture_max > 0) {
    tail.cap = spec->capture_max;
    tail.data = apr_palloc(run_pool, tail.cap);
  }
  lb = apr_palloc(run_pool, sizeof(*lb));
  lb->len = 0;
  /* Read with a short timeout where the platform allows it, to notice an
   * idle child and a child that exited while something it left behind still
   * holds the pipe (without a timeout, reads block until EOF). */
  can_poll = apr_file_pipe_timeout_set(out, READ_POLL) == APR_SUCCESS;
  if (!can_poll && spec->idle_timeout > 0)
    apr_file_pipe_timeout_set(out, spec->idle_timeout);
  last_output = apr_time_now();

  for (;;) {
    apr_size_t n = sizeof(buf);
    status = apr_file_read(out, buf, &n);
    if (n > 0) {
      if (spec->log) {
        apr_size_t written;
        apr_file_write_full(spec->log, buf, n, &written);
      }
      tail_add(&tail, buf, n);
      feed_lines(spec, lb, buf, n);
      last_output = apr_time_now();
    }
    if (APR_STATUS_IS_TIMEUP(status) || APR_STATUS_IS_EAGAIN(status)) {
      apr_time_t now = apr_time_now();
      if (spec->idle_timeout > 0 && (!can_poll || now - last_output >= spec->idle_timeout)) {
        /* No output for idle_timeout: the child is stuck. */
        result->idle_timed_out = 1;
        dray_platform_proc_signal(st->proc, DRAY_PROC_KILL);
        break;
      }
      if (!exited_at && dray_platform_proc_exited(st->proc))
        exited_at = now;
      /* The child is gone; whatever still holds the pipe is a leftover,
       * which the wait below ends. */
      if (exited_at && now - exited_at >= LEFTOVER_GRACE)
        break;
      continue;
    }
    if (status != APR_SUCCESS)
      break; /* EOF: every holder of the pipe has exited */
  }
  emit_line(spec, lb);

  status = dray_platform_proc_wait(st->proc, &result->exit_code, &result->signaled);
  if (status != APR_SUCCESS)
    return dray_error_wrap_apr(status, "waiting for %s (pid %d)", spec->argv[0], result->pid);
  result->output = apr_pstrmemdup(result_pool, tail.data ? tail.data : "", tail.len);
  return DRAY_NO_ERROR;
}

dray_error_t *dray_child_run(dray_child_result_t *result,
                             const dray_child_spec_t *spec,
                             apr_pool_t *result_pool,
                             apr_pool_t *scratch_pool)
{
  apr_pool_t *run_pool;
  dray_error_t *err;

  memset(result, 0, sizeof(*result));
  result->output = "";

  if (spec->cancel && dray_cancel_level(spec->cancel) > 0)
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "%s: not started, cancelled",
                              spec->argv[0]);

  run_pool = dray_pool_create_sub(scratch_pool);
  err = run_child(result, spec, result_pool, run_pool);
  /* The registration's cleanup runs first (it was registered after the
   * process and its pipes) and takes the token's lock: once it returns, no
   * on_cancel is running or will run, so RESULT->cancelled is final and the
   * child's state can go. */
  apr_pool_destroy(run_pool);
  return err;
}

const char *dray_child_last_line(const dray_child_result_t *result, apr_pool_t *result_pool)
{
  const char *out = result->output ? result->output : "";
  apr_size_t n = strlen(out), start;
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
    n--;
  for (start = n; start > 0 && out[start - 1] != '\n' && out[start - 1] != '\r'; start--)
    ;
  return apr_pstrmemdup(result_pool, out + start, n - start);
}

/* One argument as a POSIX shell word: bare when every byte is harmless,
 * else in single quotes ('\'' for a quote), or, when it holds a control
 * character, as $'...' with escapes, so that the command stays on one line
 * (a newline cannot forge a second command line in a log). */
static const char *shell_word(const char *a, apr_pool_t *pool)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *c;
  int plain = *a != '\0', control = 0;
  apr_size_t n = 0;
  char *out, *o;

  for (c = (const unsigned char *)a; *c; c++, n++) {
    if (*c < 0x20 || *c == 0x7f)
      control = 1;
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
          || strchr("_@%+=:,./-", *c) || *c >= 0x80))
      plain = 0;
  }
  if (plain)
    return a;
  out = o = apr_palloc(pool, 4 * n + 4);
  if (control)
    *o++ = '$';
  *o++ = '\'';
  for (c = (const unsigned char *)a; *c; c++) {
    if (!control && *c == '\'') {
      memcpy(o, "'\\''", 4);
      o += 4;
    } else if (control && (*c == '\'' || *c == '\\')) {
      *o++ = '\\';
      *o++ = (char)*c;
    } else if (control && (*c < 0x20 || *c == 0x7f)) {
      *o++ = '\\';
      *o++ = 'x';
      *o++ = hex[*c >> 4];
      *o++ = hex[*c & 15];
    } else {
      *o++ = (char)*c;
    }
  }
  *o++ = '\'';
  *o = '\0';
  return out;
}

const char *dray_child_argv_string(const char *const *argv, apr_pool_t *result_pool)
{
  const char *out = "";
  int i;
  for (i = 0; argv[i]; i++) {
    const char *a = shell_word(argv[i], result_pool);
    out = i ? apr_pstrcat(result_pool, out, " ", a, NULL) : a;
  }
  return out;
}
