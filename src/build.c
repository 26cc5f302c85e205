/* build.c — "docker build" as a child, one image at a time. */
#include "dray/build.h"

#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "dray/child.h"
#include "dray/file.h"
#include "dray/ref.h"

const char *dray_build_inline_path(const char *iidfile, apr_pool_t *result_pool)
{
  return iidfile ? apr_pstrcat(result_pool, iidfile, ".Dockerfile", NULL) : "Dockerfile.inline";
}

/* The argv; the variables the secrets it names need go to ENV (or NULL). */
static const char **build_argv(const dray_image_t *image, const dray_build_options_t *opts,
                               const char *iidfile, apr_array_header_t *env,
                               apr_pool_t *result_pool)
{
  apr_array_header_t *argv = apr_array_make(result_pool, 24, sizeof(const char *));
  const dray_buildspec_t *spec = image->spec;
  const char *platform = opts->platform, *network = opts->network;
  int i;

  /* What the file says of this image wins over the run-wide settings. */
  if (spec && spec->platforms && spec->platforms->nelts)
    platform = apr_array_pstrcat(result_pool, spec->platforms, ',');
  if (spec && spec->network)
    network = spec->network;

#define ARG(s) (APR_ARRAY_PUSH(argv, const char *) = (s))
  ARG(opts->engine_cmd);
  if (opts->builder == DRAY_BUILDER_BUILDX) {
    ARG("buildx");
    ARG("build");
    ARG("--load"); /* into the engine's images, which dray pushes */
  } else {
    ARG("build");
  }
  ARG("--file");
  ARG(spec && spec->dockerfile_inline ? dray_build_inline_path(iidfile, result_pool)
                                      : image->dockerfile);
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
  if (platform) {
    ARG("--platform");
    ARG(platform);
  }
  if (network) {
    ARG("--network");
    ARG(network);
  }
  if (opts->no_cache && !(spec && spec->no_cache))
    ARG("--no-cache");
  if (spec) {
    /* network is placed above; the copy keeps it from coming twice */
    dray_buildspec_t rest = *spec;
    rest.network = NULL;
    dray_buildspec_append_argv(argv, env, &rest, opts->builder, result_pool);
  }
  if (iidfile) {
    ARG("--iidfile");
    ARG(iidfile);
  }
  ARG(image->context_dir);
  ARG(NULL);
#undef ARG
  return (const char **)argv->elts;
}

const char **dray_build_argv(const dray_image_t *image,
                             const dray_build_options_t *opts,
                             const char *iidfile,
                             apr_pool_t *result_pool)
{
  return build_argv(image, opts, iidfile, NULL, result_pool);
}

/* The child's extra environment: OPTS's, then what secrets need. */
static const char *const *child_env(const dray_build_options_t *opts, apr_array_header_t *more,
                                    apr_pool_t *pool)
{
  apr_array_header_t *env = apr_array_make(pool, 4, sizeof(const char *));
  int i;
  if (!more->nelts)
    return opts->env;
  for (i = 0; opts->env && opts->env[i]; i++)
    APR_ARRAY_PUSH(env, const char *) = opts->env[i];
  for (i = 0; i < more->nelts; i++)
    APR_ARRAY_PUSH(env, const char *) = APR_ARRAY_IDX(more, i, const char *);
  APR_ARRAY_PUSH(env, const char *) = NULL;
  return (const char *const *)env->elts;
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
  apr_array_header_t *secret_env = apr_array_make(scratch_pool, 2, sizeof(const char *));
  const char **argv = build_argv(image, opts, iidfile, secret_env, scratch_pool);
  dray_error_t *err;

  memset(result, 0, sizeof(*result));
  if (iidfile)
    apr_file_remove(iidfile, scratch_pool); /* never read a stale id */
  if (image->spec && image->spec->dockerfile_inline) {
    const char *text = image->spec->dockerfile_inline;
    err = dray_file_write_private(dray_build_inline_path(iidfile, scratch_pool), text,
                                  strlen(text), "dockerfile_inline", scratch_pool);
    if (err) {
      result->outcome = DRAY_OUTCOME_NOT_STARTED;
      return dray_error_quick_wrapf(err, "build not started: dockerfile_inline");
    }
  }
  if (log)
    apr_file_printf(log, "$ %s\n", dray_child_argv_string(argv, scratch_pool));

  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.env = child_env(opts, secret_env, scratch_pool);
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
