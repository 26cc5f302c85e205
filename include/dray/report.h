/* report.h — the end of a run: summary table and JSON report. */
#ifndef DRAY_REPORT_H
#define DRAY_REPORT_H

#include <stdio.h>

#include <apr_hash.h>
#include <apr_pools.h>

#include "dray/error.h"
#include "dray/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The table: image, status, build and push seconds, attempts, digest; then
 * for each image that did not make it, its error and log path. */
void dray_report_print_summary(FILE *out, const dray_run_t *run, int verbose,
                               apr_pool_t *scratch_pool);

/* The report as a JSON object (the caller owns the reference; NULL when out
 * of memory): what --report writes and the timeline draws. */
struct json_t;
struct json_t *dray_report_json(const dray_run_t *run, int exit_code, apr_pool_t *scratch_pool);

/* The same data as JSON, written to PATH (atomically: temp file + rename),
 * readable by the owner only, never through a symbolic link. */
dray_error_t *dray_report_write_json(const char *path, const dray_run_t *run,
                                     int exit_code, apr_pool_t *scratch_pool);

/* What an earlier run says an image costs; 0: unknown. */
typedef struct dray_estimate_t {
  double build_seconds;   /* one build attempt */
  double push_seconds;    /* its bytes alone on the link: bytes over the rate the
                             link carried while any push ran */
} dray_estimate_t;

/* Each image's estimate in the JSON report at PATH (from an earlier run), by
 * image name, as dray_estimate_t *, in RESULT_POOL. A missing or unreadable
 * report, or one of another format, gives an empty hash: estimates are a
 * help, never a reason to stop. */
apr_hash_t *dray_report_read_estimates(const char *path, apr_pool_t *result_pool);

/* Before anything starts: PATH may be written (dray_file_check_output: not
 * a link, a regular file if it exists, the user's own, no link among the
 * folders of a relative PATH). DRAY_ERR_INPUT. */
dray_error_t *dray_report_check_path(const char *path, apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_REPORT_H */
