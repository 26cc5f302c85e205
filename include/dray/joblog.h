/* joblog.h — one log file per image, made before a run starts.
 *
 * Each image's log holds what its builds and pushes printed, and dray's own
 * lines about them, across every attempt of this run.
 */
#ifndef DRAY_JOBLOG_H
#define DRAY_JOBLOG_H

#include <apr_file_io.h>
#include <apr_pools.h>

#include "dray/error.h"
#include "dray/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Before anything starts: LOG_DIR may be written (dray_file_check_output:
 * no link, a folder, the user's own) and no log file of RUN's jobs that
 * exists already is a link, a non-file or another user's. Every problem,
 * together, as DRAY_ERR_INPUT (exit 2). */
dray_error_t *dray_joblog_check(const dray_run_t *run, const char *log_dir,
                                apr_pool_t *scratch_pool);

/* Create LOG_DIR if missing and give each job of RUN an empty log there
 * (job->log_path, in RESULT_POOL), named after its image ('/' and ':' become
 * '+', which no image name holds, so names stay distinct), created readable
 * by the owner only and never through a symbolic link. */
dray_error_t *dray_joblog_prepare(dray_run_t *run, const char *log_dir,
                                  apr_pool_t *result_pool, apr_pool_t *scratch_pool);

/* Open JOB's log for appending, in POOL; never through a link. */
dray_error_t *dray_joblog_open(apr_file_t **log, const dray_job_t *job, apr_pool_t *pool);

/* The last MAX_LINES lines of the log at PATH (all of it when shorter), in
 * RESULT_POOL; "" when it cannot be read. */
const char *dray_joblog_tail(const char *path, int max_lines, apr_pool_t *result_pool);

/* The Dockerfile line where a failed build's log says it failed, or 0:
 * newer BuildKit prints "<dockerfile name>:<line>" (DOCKERFILE_NAME is the
 * base name); else the last instruction the log names as running (BuildKit's
 * " > [2/3] RUN make:", the classic builder's "Step 2/3 : RUN make") is
 * looked up in DOCKERFILE_TEXT (may be NULL). */
int dray_joblog_dockerfile_line(const char *log_text, const char *dockerfile_name,
                                const char *dockerfile_text);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_JOBLOG_H */
