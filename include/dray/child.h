/* child.h — run one child process to completion (after git's run-command.c).
 *
 * The child gets an argv array (never a shell string), its own process group
 * or job, and one pipe for stdout+stderr that the calling thread drains into
 * a log file and a line callback, so it can never block on a full pipe. It is
 * registered with a cancel token while it runs.
 */
#ifndef DRAY_CHILD_H
#define DRAY_CHILD_H

#include <apr_file_io.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "dray/cancel.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called for each complete output line (without the newline; a final line
 * without newline is delivered too). Lines longer than the buffer are cut. */
typedef void (*dray_child_line_fn)(void *baton, const char *line, apr_size_t len);

typedef struct dray_child_spec_t {
  const char *const *argv;     /* NULL-ended; argv[0] found on PATH */
  const char *cwd;             /* or NULL */
  const char *const *env;      /* extra "K=V" (a bare "K" unsets K), NULL-ended, or NULL */
  const char *stdin_data;      /* written to stdin then closed; NULL = null device */
  apr_size_t stdin_len;
  apr_file_t *log;             /* output is appended here, or NULL */
  dray_child_line_fn on_line;  /* or NULL */
  void *baton;
  dray_cancel_t *cancel;       /* or NULL */
  apr_interval_time_t idle_timeout; /* > 0: kill the tree after this long without output */
  apr_interval_time_t deadline; /* > 0: kill the tree this long after the start,
                                   output or not (a child printing a byte now
                                   and then cannot keep the caller) */
  apr_size_t capture_max;      /* keep at most this many bytes of output's tail */
} dray_child_spec_t;

typedef struct dray_child_result_t {
  int pid;
  int exit_code;               /* 0 = success; 128+N when killed by signal N */
  int signaled;
  int cancelled;               /* stopped through the cancel token */
  int idle_timed_out;          /* stopped by idle_timeout */
  int deadline_exceeded;       /* stopped by deadline */
  const char *output;          /* captured tail (capture_max bytes), or "" */
} dray_child_result_t;

/* Run the child described by SPEC and wait for it. Returns an error only when
 * it could not be started (or was cancelled before it started); a non-zero
 * exit is reported in RESULT, not as an error. */
dray_error_t *dray_child_run(dray_child_result_t *result,
                             const dray_child_spec_t *spec,
                             apr_pool_t *result_pool,
                             apr_pool_t *scratch_pool);

/* ---- a child's stdout as a stream ---------------------------------------
 *
 * For a child whose stdout is data (an archive) read as it comes: its
 * stderr is kept apart (in a file deleted on close), so that no message
 * ends up in the data. SPEC's argv, env, cwd, cancel, idle_timeout,
 * deadline and capture_max count (the captured tail is of stderr);
 * stdin_data, log and on_line do not. */
typedef struct dray_child_stream_t dray_child_stream_t;

/* Start SPEC's child. Everything lives in POOL; destroying POOL without
 * dray_child_stream_close kills and reaps the child. */
dray_error_t *dray_child_stream_open(dray_child_stream_t **stream,
                                     const dray_child_spec_t *spec,
                                     apr_pool_t *pool);

/* Up to LEN bytes of the child's stdout into BUF, waiting for some; *GOT 0
 * at its end. DRAY_ERR_STALLED when the child was silent for idle_timeout or
 * ran past its deadline (it is killed), DRAY_ERR_CANCELLED when the cancel
 * token stopped it. */
dray_error_t *dray_child_stream_read(dray_child_stream_t *stream, char *buf, apr_size_t len,
                                     apr_size_t *got);

/* Once: kill the child if its output was not read to the end (the reader
 * wants no more), wait for it, and describe it in *RESULT (or NULL): its
 * exit and the tail of its stderr, in RESULT_POOL. An error only when it
 * could not be waited for. */
dray_error_t *dray_child_stream_close(dray_child_result_t *result,
                                      dray_child_stream_t *stream,
                                      apr_pool_t *result_pool);

/* The last non-empty line of RESULT's captured output (usually the error a
 * failed command printed last), or "". */
const char *dray_child_last_line(const dray_child_result_t *result, apr_pool_t *result_pool);

/* A one-line rendering of ARGV for logs and --dry-run ("docker build -t x
 * ."), each argument quoted as a POSIX shell word (bash, zsh, ksh: $'...'
 * for control characters), so that pasting it into such a shell runs
 * exactly ARGV: "$(id)" stays text, a newline stays on the line. Never pass
 * an argv that holds secrets. */
const char *dray_child_argv_string(const char *const *argv, apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_CHILD_H */
