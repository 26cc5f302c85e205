/* junit.h — the run as JUnit XML (--junit FILE) for GitLab, Jenkins and
 * other CI systems: one test case per image; its build and push are steps
 * in the case's properties and output; a failure carries the image's reason
 * and the tail of its log. */
#ifndef DRAY_JUNIT_H
#define DRAY_JUNIT_H

#include <apr_pools.h>

#include "dray/error.h"
#include "dray/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lines of an image's log a failure carries. */
#define DRAY_JUNIT_LOG_LINES 50

/* Write RUN to PATH (atomically: temp file + rename). */
dray_error_t *dray_junit_write(const char *path, const dray_run_t *run,
                               apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_JUNIT_H */
