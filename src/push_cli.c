/* push_cli.c — the CLI push driver: "docker push REF" as a child.
 *
 * The digest comes from the "<tag>: digest: sha256:... size: N" line docker
 * prints last; podman prints none, so it is asked for a --digestfile.
 */
#include "dray/push.h"

#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "dray/child.h"
#include "dray/enginecmd.h"
#include "dray/file.h"
#include "dray/ref.h"

typedef struct cli_driver_t {
  const char *engine_cmd;
  const char *const *env;
  int is_podman;
} cli_driver_t;

typedef struct push_lines_t {
  const dray_push_request_t *req;
  apr_pool_t *pool;
  const char *digest;
  apr_int64_t size;
  int layers_total, layers_done;
  dray_outcome_t problem;      /* what the last line that named a problem said */
} push_lines_t;

/* Not an outcome: "this line names no problem". */
#define NO_PROBLEM DRAY_OUTCOME_COUNT

static void on_push_line(void *baton, const char *line, apr_size_t len)
{
  push_lines_t *pl = baton;
  const char *digest;
  apr_int64_t size = -1;
  (void)len;

  digest = dray_push_parse_digest_line(line, &size, pl->pool);
  if (digest) {
    pl->digest = digest;
    pl->size = size;
  }
  /* "<layer>: Preparing" opens a layer; "Pushed", "Layer already exists",
   * "Mounted from" close one. Coarse, but what the CLI gives. */
  if (strstr(line, ": Preparing"))
    pl->layers_total++;
  else if (strstr(line, ": Pushed") || strstr(line, ": Layer already exists") ||
           strstr(line, ": Mounted from"))
    pl->layers_done++;
  {
    dray_outcome_t o = dray_outcome_from_message(line, NO_PROBLEM);
    if (o != NO_PROBLEM)
      pl->problem = o;
  }
  if (pl->req->progress) {
    dray_push_progress_t p;
    memset(&p, 0, sizeof(p));
    p.layers_done = pl->layers_done;
    p.layers_total = pl->layers_total;
    p.waiting = strstr(line, ": Waiting") != NULL && pl->layers_done == 0;
    pl->req->progress(pl->req->progress_baton, &p);
  }
}

/* The child's argv; DIGESTFILE (podman) or NULL; LIST: podman's manifest
 * list pushed as REFERENCE, or NULL. */
static const char **cli_argv(const cli_driver_t *cd, const char *reference,
                             const char *digestfile, const char *list, apr_pool_t *pool)
{
  const char **argv = apr_pcalloc(pool, 9 * sizeof(*argv));
  int i = 0;
  argv[i++] = cd->engine_cmd;
  if (list) {
    argv[i++] = "manifest";
    argv[i++] = "push";
    argv[i++] = "--all"; /* every platform's image, not only the list */
  } else {
    argv[i++] = "push";
  }
  if (digestfile) {
    argv[i++] = "--digestfile";
    argv[i++] = digestfile;
  }
  if (list) {
    argv[i++] = list;
    argv[i++] = apr_pstrcat(pool, "docker://", reference, NULL);
  } else {
    argv[i++] = reference;
  }
  argv[i] = NULL;
  return argv;
}

/* The manifest list podman pushes for REQ, or NULL (docker pushes an index
 * as any image). */
static const char *podman_list(const cli_driver_t *cd, const char *list)
{
  return cd->is_podman ? list : NULL;
}

static const char *cli_describe_list(const dray_push_driver_t *driver, const char *list,
                                     const char *reference, apr_pool_t *result_pool)
{
  const cli_driver_t *cd = driver->baton;
  return apr_pstrcat(result_pool, "$ ",
                     dray_child_argv_string(cli_argv(cd, reference,
                                                     cd->is_podman ? "DIGESTFILE" : NULL,
                                                     podman_list(cd, list), result_pool),
                                            result_pool),
                     NULL);
}

static const char *cli_describe(const dray_push_driver_t *driver, const char *reference,
                                apr_pool_t *result_pool)
{
  return cli_describe_list(driver, NULL, reference, result_pool);
}

static dray_error_t *cli_push(const dray_push_driver_t *driver,
                              const dray_push_request_t *req,
                              dray_push_result_t *result,
                              apr_pool_t *result_pool,
                              apr_pool_t *scratch_pool)
{
  cli_driver_t *cd = driver->baton;
  const char **argv;
  const char *digestfile = NULL;
  dray_child_spec_t spec;
  dray_child_result_t child;
  push_lines_t pl;
  dray_error_t *err;

  memset(result, 0, sizeof(*result));
  result->size = -1;
  if (cd->is_podman) {
    const char *tmp;
    if (apr_temp_dir_get(&tmp, scratch_pool) == APR_SUCCESS) {
      apr_file_t *f;
      char *templ = apr_pstrcat(scratch_pool, tmp, "/dray-digest-XXXXXX", NULL);
      if (apr_file_mktemp(&f, templ, 0, scratch_pool) == APR_SUCCESS) {
        apr_file_close(f);
        digestfile = templ;
      }
    }
  }
  argv = cli_argv(cd, req->reference, digestfile, podman_list(cd, req->manifest_list),
                  scratch_pool);

  if (req->log)
    apr_file_printf(req->log, "$ %s\n", dray_child_argv_string(argv, scratch_pool));

  memset(&pl, 0, sizeof(pl));
  pl.req = req;
  pl.pool = scratch_pool;
  pl.size = -1;
  pl.problem = NO_PROBLEM;
  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.env = cd->env;
  spec.log = req->log;
  spec.on_line = on_push_line;
  spec.baton = &pl;
  spec.cancel = req->cancel;
  spec.capture_max = 2048;
  /* The CLI gives no byte counts: the coarse watchdog is "no output at all". */
  if (req->stall_timeout > 0)
    spec.idle_timeout = apr_time_from_sec(req->stall_timeout);

  err = dray_child_run(&child, &spec, scratch_pool, scratch_pool);
  if (err) {
    result->outcome = dray_error_has(err, DRAY_ERR_CANCELLED) ? DRAY_OUTCOME_CANCELLED
                                                              : DRAY_OUTCOME_NOT_STARTED;
    return dray_error_quick_wrapf(err, "push %s not started", req->reference);
  }
  if (digestfile) {
    const char *d = dray_file_read_line(digestfile, scratch_pool);
    if (d && dray_digest_is_valid(d))
      pl.digest = d;
    apr_file_remove(digestfile, scratch_pool);
  }
  if (child.cancelled) {
    result->outcome = DRAY_OUTCOME_CANCELLED;
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "push %s cancelled", req->reference);
  }
  if (child.idle_timed_out) {
    result->outcome = DRAY_OUTCOME_STALLED;
    result->retry_after = apr_time_from_sec(req->stall_timeout); /* as the engine driver */
    return dray_error_createf(DRAY_ERR_STALLED, NULL,
                              "push %s stalled: no output for %d seconds",
                              req->reference, req->stall_timeout);
  }
  if (child.exit_code != 0) {
    /* The last line of output is the engine's error. */
    const char *last = dray_child_last_line(&child, scratch_pool);
    /* The same words the engine driver would have read in the stream. */
    result->outcome = dray_outcome_from_message(
        last, pl.problem != NO_PROBLEM ? pl.problem : DRAY_OUTCOME_EXIT);
    return dray_error_createf(result->outcome == DRAY_OUTCOME_AUTH ? DRAY_ERR_AUTH : DRAY_ERR_CHILD, NULL,
                              "push %s: %s push exited with code %d%s%s",
                              req->reference, cd->engine_cmd, child.exit_code,
                              *last ? ": " : "", last);
  }
  if (!pl.digest) {
    result->outcome = DRAY_OUTCOME_PROTOCOL;
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL,
                              "push %s: %s push reported no digest", req->reference,
                              cd->engine_cmd);
  }
  result->digest = apr_pstrdup(result_pool, pl.digest);
  result->size = pl.size;
  result->outcome = DRAY_OUTCOME_OK;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_push_cli_driver_create(dray_push_driver_t **driver_p,
                                          const char *engine_cmd,
                                          const char *const *env,
                                          apr_pool_t *result_pool)
{
  dray_push_driver_t *driver = apr_pcalloc(result_pool, sizeof(*driver));
  cli_driver_t *cd = apr_pcalloc(result_pool, sizeof(*cd));
  cd->engine_cmd = apr_pstrdup(result_pool, engine_cmd);
  cd->env = env;
  cd->is_podman = dray_engine_cmd_kind(engine_cmd) == DRAY_ENGINE_CMD_PODMAN;
  driver->name = "cli";
  driver->push = cli_push;
  driver->describe = cli_describe;
  driver->describe_list = cli_describe_list;
  driver->baton = cd;
  *driver_p = driver;
  return DRAY_NO_ERROR;
}
