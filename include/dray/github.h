/* github.h — GitHub Actions output (when GITHUB_ACTIONS=true):
 *
 * - an "::error" workflow command per failed build or push, with the
 *   Dockerfile and its line when the build log names one (BuildKit's
 *   "Dockerfile:12"), and per input error ("compose.yaml:5: ...");
 * - each failed image's log tail folded in "::group::" / "::endgroup::";
 * - a Markdown table of the images appended to $GITHUB_STEP_SUMMARY.
 *
 * A sink of the scheduler's events (event.h), on its thread.
 */
#ifndef DRAY_GITHUB_H
#define DRAY_GITHUB_H

#include <stdio.h>

#include <apr_pools.h>

#include "dray/error.h"
#include "dray/event.h"
#include "dray/run.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_github_t dray_github_t;

/* Whether the environment says this is a GitHub Actions job. */
int dray_github_active(apr_pool_t *scratch_pool);

/* Workflow commands go to OUT; the step summary is appended to
 * SUMMARY_PATH (NULL: none). File paths in annotations are made relative to
 * WORKDIR (the checkout: GITHUB_WORKSPACE, or the current folder). */
dray_github_t *dray_github_create(FILE *out, const char *summary_path, const char *workdir,
                                  apr_pool_t *pool);

dray_sink_t dray_github_sink(dray_github_t *gh);

/* One "::error" per link of ERR (input and usage errors, before a run):
 * with file= and line= when the message starts "PATH:LINE: ". */
void dray_github_errors(dray_github_t *gh, const dray_error_t *err);

/* A workflow command's data and property values, escaped ("%", CR, LF;
 * properties also ":" and ","). */
const char *dray_github_escape(const char *text, int property, apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_GITHUB_H */
