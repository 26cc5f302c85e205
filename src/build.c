/* build.c — "docker build" as a child, one image at a time. */
#include "dray/build.h"

#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "dray/child.h"
#include "dray/file.h"
#include "dray/ref.h"

const char **dray_build_argv(const dray_image_t *image,
                             const dray_build_options_t *opts,
                             const char *iidfile,
                             apr_pool_t *result_pool)
{
  apr_array_header_t *argv = apr_array_make(result_pool, 24, sizeof(const char *));
  int i;

#define ARG(s) (APR_ARRAY_PUSH(argv, const char *) = (s))
  ARG(opts->engine_cmd);
  ARG("build");
  ARG("--file");
  ARG(image->dockerfile);
  for (i = 0; i < image->tags->nelts; i++) {
    ARG("--tag");
    ARG(dray_image_ref(image, APR_ARRAY_IDX(image->tags, i, const char *), result_pool));
  }
  for (i = 0; image->build_args && i < image->build_args->nelts; i++) {
    ARG("--build-arg");
    ARG(APR_ARRAY_IDX(image->build_args, i, const char *));
  }
  if (image->target) {
    ARG("--target");
    ARG(image->target);
  }
  if (opts->platform) {
    ARG("--platform");
    ARG(opts->platform);
  }
  if (opts->network) {
    ARG("--network");
    ARG(opts->network);
  }
  if (opts->no_cache)
    ARG("--no-cache");
  if (iidfile) {
    ARG("--iidfile");
    ARG(iidfile);
  }
  ARG(image->context_dir);
  ARG(NULL);
#undef ARG
  return (const char **)argv->elts;
}

dray_error_t *dray_build_image(dray_build_result_t *result,
                               const dray_image_t *image,
                               const dray_build_options_t *opts,
                               apr_file_t *log,
                               const char *iidfile,
                               dray_cancel_t *cancel,
                               apr_pool_t *result_pool,
                               apr_pool_t *scratch_pool)
{
  dray_child_spec_t spec;
  dray_child_result_t child;
  const char **argv = dray_build_argv(image, opts, iidfile, scratch_pool);
  dray_error_t *err;

  memset(result, 0, sizeof(*result));
  if (iidfile)
    apr_file_remove(iidfile, scratch_pool); /* never read a stale id */
  if (log)
    apr_file_printf(log, "$ %s\n", dray_child_argv_string(argv, scratch_pool));

  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.env = opts->env;
  spec.log = log;
  spec.cancel = cancel;
  spec.capture_max = 1024; /* for the last line, the error, in the message */
  err = dray_child_run(&child, &spec, scratch_pool, scratch_pool);
  if (err) {
    result->outcome = dray_error_has(err, DRAY_ERR_CANCELLED) ? DRAY_OUTCOME_CANCELLED
                                                              : DRAY_OUTCOME_NOT_STARTED;
    return dray_error_quick_wrapf(err, "build not started");
  }
  result->exit_code = child.exit_code;
  if (child.cancelled) {
    result->outcome = DRAY_OUTCOME_CANCELLED;
    return dray_error_create(DRAY_ERR_CANCELLED, NULL, "build cancelled");
  }
  if (child.exit_code != 0) {
    const char *last = dray_child_last_line(&child, scratch_pool);
    result->outcome = DRAY_OUTCOME_EXIT;
    return dray_error_createf(DRAY_ERR_CHILD, NULL, "%s build exited with code %d%s%s",
                              opts->engine_cmd, child.exit_code, *last ? ": " : "", last);
  }
  if (iidfile) {
    /* An id that is no digest is none: the engine wrote something else. */
    const char *id = dray_file_read_line(iidfile, scratch_pool);
    result->image_id = id && dray_digest_is_valid(id) ? apr_pstrdup(result_pool, id) : NULL;
  }
  return DRAY_NO_ERROR;
}
