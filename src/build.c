/* build.c — "docker build" as a child, one image at a time. */
#include "dray/build.h"

#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>

#include "dray/child.h"
#include "dray/file.h"
#include "dray/ref.h"

const char *dray_build_inline_path(const char *iidfile, apr_pool_t *result_pool)
{
  return iidfile ? apr_pstrcat(result_pool, iidfile, ".Dockerfile", NULL) : "Dockerfile.inline";
}

/* Whether IMAGE, built with OPTS, is a manifest list podman keeps under the
 * name of its first reference (podman build --manifest). */
static int podman_list(const dray_image_t *image, const dray_build_options_t *opts)
{
  return opts->builder == DRAY_BUILDER_PODMAN && dray_image_is_list(image);
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

  /* What the file says of this image wins over the run-wide settings (the
   * plan has put them in image->platforms). */
  if (image->platforms)
    platform = image->platforms->nelts ? apr_array_pstrcat(result_pool, image->platforms, ',')
                                       : NULL;
  else if (spec && spec->platforms && spec->platforms->nelts)
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
  if (podman_list(image, opts)) {
    /* one list, named as the first reference; the push sends it to each */
    ARG("--manifest");
    ARG(dray_image_ref(image, APR_ARRAY_IDX(image->tags, 0, const char *), result_pool));
  }
  for (i = 0; !podman_list(image, opts) && i < image->tags->nelts; i++) {
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

/* "os/arch" or "os/arch/variant" of a manifest list entry's platform. */
static const char *platform_word(json_t *platform, apr_pool_t *pool)
{
  const char *os = json_string_value(json_object_get(platform, "os"));
  const char *arch = json_string_value(json_object_get(platform, "architecture"));
  const char *variant = json_string_value(json_object_get(platform, "variant"));
  if (!os || !arch)
    return "?";
  return apr_pstrcat(pool, os, "/", arch, variant && *variant ? "/" : "",
                     variant ? variant : "", NULL);
}

/* Whether WANT ("linux/arm64") names HAVE ("linux/arm64/v8"): a platform
 * without a variant takes any. */
static int platform_matches(const char *want, const char *have)
{
  apr_size_t n = strlen(want);
  return strcmp(want, have) == 0 || (strncmp(want, have, n) == 0 && have[n] == '/'
                                     && strchr(want, '/') == strrchr(want, '/'));
}

const char *dray_build_list_mismatch(const char *inspect_json,
                                     const apr_array_header_t *platforms,
                                     apr_pool_t *result_pool)
{
  const char *brace = strchr(inspect_json, '{'); /* after any warning line */
  json_t *doc = brace ? json_loads(brace, 0, NULL) : NULL;
  json_t *list = json_object_get(doc, "manifests");
  apr_array_header_t *have = apr_array_make(result_pool, 2, sizeof(const char *));
  const char *missing = NULL;
  int is_list = json_is_array(list);
  size_t k;
  int i, j;

  for (k = 0; k < json_array_size(list); k++)
    APR_ARRAY_PUSH(have, const char *) =
        platform_word(json_object_get(json_array_get(list, k), "platform"), result_pool);
  json_decref(doc);
  if (!is_list)
    return "no manifest list";
  for (i = 0; i < platforms->nelts && !missing; i++) {
    const char *want = APR_ARRAY_IDX(platforms, i, const char *);
    int found = 0;
    for (j = 0; j < have->nelts && !found; j++)
      found = platform_matches(want, APR_ARRAY_IDX(have, j, const char *));
    if (!found)
      missing = want;
  }
  if (!missing && have->nelts == platforms->nelts)
    return NULL;
  return apr_psprintf(result_pool, "it lists %s (%d image%s) for %s",
                      have->nelts ? apr_array_pstrcat(result_pool, have, ',') : "nothing",
                      have->nelts, have->nelts == 1 ? "" : "s",
                      apr_array_pstrcat(result_pool, platforms, ','));
}

/* Run ARGV (podman manifest ...) to its end; its output goes to LOG, or,
 * with CAPTURE, to *OUTPUT instead. */
static dray_error_t *run_step(int *exit_code, const char **output, const char **argv,
                              const dray_build_options_t *opts, apr_file_t *log,
                              dray_cancel_t *cancel, apr_pool_t *pool)
{
  dray_child_spec_t spec;
  dray_child_result_t child;
  if (log)
    apr_file_printf(log, "$ %s\n", dray_child_argv_string(argv, pool));
  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.env = opts->env;
  spec.log = output ? NULL : log;
  spec.cancel = cancel;
  spec.capture_max = output ? 1024 * 1024 : 1024;
  DRAY_ERR(dray_child_run(&child, &spec, pool, pool));
  if (child.cancelled)
    return dray_error_create(DRAY_ERR_CANCELLED, NULL, "build cancelled");
  *exit_code = child.exit_code;
  if (output)
    *output = child.output;
  return DRAY_NO_ERROR;
}

/* Before a podman manifest list is built: drop the list of an earlier run,
 * to which "podman build --manifest" would add. */
static dray_error_t *list_forget(const dray_image_t *image, const dray_build_options_t *opts,
                                 apr_file_t *log, dray_cancel_t *cancel, apr_pool_t *pool)
{
  const char *argv[] = {opts->engine_cmd, "manifest", "rm",
                        dray_image_ref(image, APR_ARRAY_IDX(image->tags, 0, const char *), pool),
                        NULL};
  int code;
  DRAY_ERR(run_step(&code, NULL, argv, opts, log, cancel, pool));
  if (code && log) /* none: fine */
    apr_file_printf(log, "dray: no earlier manifest list %s: nothing to remove\n", argv[3]);
  return DRAY_NO_ERROR;
}

/* After: the list holds one image per platform asked for, no more, no less. */
static dray_error_t *list_check(dray_build_result_t *result, const dray_image_t *image,
                                const dray_build_options_t *opts, apr_file_t *log,
                                dray_cancel_t *cancel, apr_pool_t *pool)
{
  const char *ref = dray_image_ref(image, APR_ARRAY_IDX(image->tags, 0, const char *), pool);
  const char *argv[] = {opts->engine_cmd, "manifest", "inspect", ref, NULL};
  const char *out, *mismatch;
  int code;
  DRAY_ERR(run_step(&code, &out, argv, opts, log, cancel, pool));
  mismatch = code ? apr_psprintf(pool, "podman manifest inspect exited with code %d", code)
                  : dray_build_list_mismatch(out, image->platforms, pool);
  if (!mismatch)
    return DRAY_NO_ERROR;
  result->outcome = DRAY_OUTCOME_EXIT;
  return dray_error_createf(DRAY_ERR_CHILD, NULL,
                            "the manifest list %s is not what was asked: %s (podman can reuse "
                            "one platform's cached image for another when no base image tells "
                            "them apart, as FROM scratch: build with no_cache: true or "
                            "--no-cache)",
                            ref, mismatch);
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
  if (podman_list(image, opts)) {
    err = list_forget(image, opts, log, cancel, scratch_pool);
    if (err) {
      result->outcome = dray_error_has(err, DRAY_ERR_CANCELLED) ? DRAY_OUTCOME_CANCELLED
                                                                : DRAY_OUTCOME_NOT_STARTED;
      return dray_error_quick_wrapf(err, "build not started");
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
  if (podman_list(image, opts)) {
    err = list_check(result, image, opts, log, cancel, scratch_pool);
    if (err) {
      if (dray_error_has(err, DRAY_ERR_CANCELLED))
        result->outcome = DRAY_OUTCOME_CANCELLED;
      return err;
    }
  }
  if (iidfile) {
    /* An id that is no digest is none: the engine wrote something else.
     * A podman manifest list's is the list's. */
    const char *id = dray_file_read_line(iidfile, scratch_pool);
    result->image_id = id && dray_digest_is_valid(id) ? apr_pstrdup(result_pool, id) : NULL;
  }
  return DRAY_NO_ERROR;
}
