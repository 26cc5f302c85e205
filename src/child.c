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

/* Spawn SPEC's child (its stderr to STDERR_FILE, or merged when NULL) and
 * register it with the cancel token until RUN_POOL goes, i.e. until the
 * child is reaped: a child may close its output and go on. */
static dray_error_t *start_child(child_state_t *st, apr_file_t **out, apr_file_t **in,
                                 dray_child_result_t *result, const dray_child_spec_t *spec,
                                 apr_file_t *stderr_file, apr_pool_t *run_pool)
{
  const char *errmsg = NULL;
  apr_status_t status;
  dray_spawn_t sp;

  memset(&sp, 0, sizeof(sp));
  sp.argv = spec->argv;
  sp.cwd = spec->cwd;
  sp.env = spec->env;
  sp.want_stdin = in && spec->stdin_data != NULL;
  sp.stderr_file = stderr_file;
  st->cancelled = &result->cancelled;
  status = dray_platform_spawn(&st->proc, out, in, &errmsg, &sp, run_pool);
  if (status != APR_SUCCESS)
    return dray_error_create(status, NULL, errmsg ? errmsg : spec->argv[0]);
  result->pid = dray_platform_proc_pid(st->proc);
  if (spec->cancel
      && dray_cancel_register(NULL, spec->cancel, on_cancel, st, run_pool) == DRAY_ERR_CANCELLED) {
    /* Cancelled between the check and the spawn: stop it at once. */
    result->cancelled = 1;
    dray_platform_proc_signal(st->proc, DRAY_PROC_KILL);
  }
  return DRAY_NO_ERROR;
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
  child_state_t *st = apr_pcalloc(run_pool, sizeof(*st));
  line_buf_t *lb;
  tail_t tail = {0};
  apr_status_t status;
  char buf[16384];
  apr_time_t started, last_output, exited_at = 0;
  apr_interval_time_t pipe_wait = 0;
  int can_poll;

  DRAY_ERR(start_child(st, &out, &in, result, spec, NULL, run_pool));

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
  if (!can_poll) {
    /* Each read then waits at most the shorter of the two limits. */
    pipe_wait = spec->idle_timeout;
    if (spec->deadline > 0 && (pipe_wait <= 0 || spec->deadline < pipe_wait))
      pipe_wait = spec->deadline;
    if (pipe_wait > 0)
      apr_file_pipe_timeout_set(out, pipe_wait);
  }
  last_output = started = apr_time_now();

  for (;;) {
    apr_size_t n = sizeof(buf);
    if (spec->deadline > 0 && apr_time_now() - started >= spec->deadline) {
      /* Checked on every pass, output or not: a child that prints a byte
       * now and then is never idle, and must still end. */
      result->deadline_exceeded = 1;
      dray_platform_proc_signal(st->proc, DRAY_PROC_KILL);
      break;
    }
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
      if (spec->deadline > 0 && now - started >= spec->deadline)
        continue; /* the check at the top ends it */
      /* Without polling a timed-out read is idle_timeout of silence, unless
       * the read waited for the (shorter) deadline instead. */
      if (spec->idle_timeout > 0
          && (can_poll ? now - last_output >= spec->idle_timeout
                       : pipe_wait == spec->idle_timeout)) {
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

/* ---- a child's stdout as a stream ------------------------------------- */

struct dray_child_stream_t {
  const char *program;
  apr_pool_t *run_pool;       /* the process, its pipes, its registration */
  child_state_t *st;
  apr_file_t *out;
  apr_file_t *err;            /* the child's stderr */
  apr_interval_time_t idle_timeout, deadline;
  apr_size_t capture_max;
  apr_time_t started, last_output;
  dray_child_result_t result;
  int eof;
  int reaped;
};

/* End the child if it runs still, and reap it. */
static apr_status_t stream_reap(void *baton)
{
  dray_child_stream_t *cs = baton;
  apr_status_t status;
  if (cs->reaped)
    return APR_SUCCESS;
  cs->reaped = 1;
  if (!cs->eof) /* the reader stopped early: what is left is not wanted */
    dray_platform_proc_signal(cs->st->proc, DRAY_PROC_KILL);
  status = dray_platform_proc_wait(cs->st->proc, &cs->result.exit_code, &cs->result.signaled);
  return status;
}

dray_error_t *dray_child_stream_open(dray_child_stream_t **cs_p,
                                     const dray_child_spec_t *spec,
                                     apr_pool_t *pool)
{
  dray_child_stream_t *cs = apr_pcalloc(pool, sizeof(*cs));
  const char *dir, *tmpl;
  apr_status_t status;

  if (spec->cancel && dray_cancel_level(spec->cancel) > 0)
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "%s: not started, cancelled",
                              spec->argv[0]);
  cs->program = apr_pstrdup(pool, spec->argv[0]);
  cs->idle_timeout = spec->idle_timeout;
  cs->deadline = spec->deadline;
  cs->capture_max = spec->capture_max;
  cs->result.output = "";
  cs->run_pool = dray_pool_create_sub(pool);
  cs->st = apr_pcalloc(cs->run_pool, sizeof(*cs->st));
  /* stderr goes to a file of its own, deleted when closed: the child's
   * messages are never mixed into its data, and it cannot block on them. */
  status = apr_temp_dir_get(&dir, cs->run_pool);
  if (status == APR_SUCCESS) {
    tmpl = apr_pstrcat(cs->run_pool, dir, "/dray-stderr-XXXXXX", NULL);
    status = apr_file_mktemp(&cs->err, (char *)tmpl,
                             APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE
                                 | APR_FOPEN_EXCL | APR_FOPEN_BINARY | APR_FOPEN_DELONCLOSE,
                             cs->run_pool);
  }
  if (status != APR_SUCCESS) {
    apr_pool_destroy(cs->run_pool);
    return dray_error_wrap_apr(status, "%s: cannot create a file for its messages",
                               spec->argv[0]);
  }
  {
    dray_error_t *err = start_child(cs->st, &cs->out, NULL, &cs->result, spec, cs->err,
                                    cs->run_pool);
    if (err) {
      apr_pool_destroy(cs->run_pool);
      return err;
    }
  }
  /* Registered after the cancel registration, so it runs first: the
   * child is reaped, then unregistered (a signal to a reaped child is a
   * no-op). */
  apr_pool_cleanup_register(cs->run_pool, cs, stream_reap, apr_pool_cleanup_null);
  apr_file_pipe_timeout_set(cs->out, READ_POLL);
  cs->started = cs->last_output = apr_time_now();
  *cs_p = cs;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_child_stream_read(dray_child_stream_t *cs, char *buf, apr_size_t len,
                                     apr_size_t *got)
{
  apr_time_t exited_at = 0;

  *got = 0;
  while (!cs->eof) {
    apr_size_t n = len;
    apr_status_t status;
    apr_time_t now = apr_time_now();
    if (cs->deadline > 0 && now - cs->started >= cs->deadline) {
      cs->result.deadline_exceeded = 1;
      dray_platform_proc_signal(cs->st->proc, DRAY_PROC_KILL);
      return dray_error_createf(DRAY_ERR_STALLED, NULL, "%s (pid %d): still running after "
                                "%" APR_TIME_T_FMT " s; stopped", cs->program, cs->result.pid,
                                apr_time_sec(cs->deadline));
    }
    if (cs->idle_timeout > 0 && now - cs->last_output >= cs->idle_timeout) {
      cs->result.idle_timed_out = 1;
      dray_platform_proc_signal(cs->st->proc, DRAY_PROC_KILL);
      return dray_error_createf(DRAY_ERR_STALLED, NULL, "%s (pid %d): no output for "
                                "%" APR_TIME_T_FMT " s; stopped", cs->program, cs->result.pid,
                                apr_time_sec(cs->idle_timeout));
    }
    status = apr_file_read(cs->out, buf, &n);
    if (n > 0) {
      cs->last_output = apr_time_now();
      *got = n;
      return DRAY_NO_ERROR;
    }
    if (APR_STATUS_IS_TIMEUP(status) || APR_STATUS_IS_EAGAIN(status)) {
      /* The child is gone and something it left behind holds the pipe:
       * its output is complete. */
      if (!exited_at && dray_platform_proc_exited(cs->st->proc))
        exited_at = now;
      if (exited_at && now - exited_at >= LEFTOVER_GRACE)
        cs->eof = 1;
      continue;
    }
    cs->eof = 1; /* EOF, or a pipe that cannot be read: the end either way */
  }
  if (cs->result.cancelled)
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "%s (pid %d): cancelled", cs->program,
                              cs->result.pid);
  return DRAY_NO_ERROR;
}

/* The last CAP bytes of FILE, in POOL. */
static const char *file_tail(apr_file_t *file, apr_size_t cap, apr_pool_t *pool)
{
  apr_off_t end = 0, start;
  apr_size_t n;
  char *buf;
  if (cap == 0 || apr_file_seek(file, APR_END, &end) != APR_SUCCESS)
    return "";
  start = end > (apr_off_t)cap ? end - (apr_off_t)cap : 0;
  if (apr_file_seek(file, APR_SET, &start) != APR_SUCCESS)
    return "";
  n = (apr_size_t)(end - start);
  buf = apr_palloc(pool, n + 1);
  if (apr_file_read_full(file, buf, n, &n) != APR_SUCCESS && n == 0)
    return "";
  buf[n] = '\0';
  return buf;
}

dray_error_t *dray_child_stream_close(dray_child_result_t *result, dray_child_stream_t *cs,
                                      apr_pool_t *result_pool)
{
  apr_status_t status = apr_pool_cleanup_run(cs->run_pool, cs, stream_reap);
  dray_error_t *err = DRAY_NO_ERROR;

  if (status != APR_SUCCESS)
    err = dray_error_wrap_apr(status, "waiting for %s (pid %d)", cs->program, cs->result.pid);
  cs->result.output = apr_pstrdup(result_pool, file_tail(cs->err, cs->capture_max,
                                                          cs->run_pool));
  /* The registration goes with the pool, after the child is reaped. */
  apr_pool_destroy(cs->run_pool);
  if (result)
    *result = cs->result;
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
