/* main.c — dray's entry point: parse, plan, run, report, exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_general.h>
#include <apr_version.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include "dray/auth.h"
#include "dray/build.h"
#include "dray/child.h"
#include "dray/cli.h"
#include "dray/engine.h"
#include "dray/error.h"
#include "dray/plan.h"
#include "dray/platform.h"
#include "dray/push.h"
#include "dray/push_engine.h"
#include "dray/registry.h"
#include "dray/report.h"
#include "dray/scheduler.h"
#include "dray/version.h"
#include "dray/view.h"

#define EXIT_USAGE 2

static int file_exists(const char *path, apr_pool_t *pool)
{
  apr_finfo_t fi;
  return apr_stat(&fi, path, APR_FINFO_TYPE, pool) == APR_SUCCESS && fi.filetype == APR_REG;
}

/* Without PATH or -f: a compose file here, as docker compose and bake do,
 * else this folder. */
static void default_input(dray_cli_t *cli, apr_pool_t *pool)
{
  static const char *names[] = {"compose.yaml", "compose.yml", "docker-compose.yaml",
                                "docker-compose.yml", NULL};
  int i;
  if (cli->paths->nelts || cli->compose_file)
    return;
  for (i = 0; names[i]; i++)
    if (file_exists(names[i], pool)) {
      cli->compose_file = names[i];
      return;
    }
  APR_ARRAY_PUSH(cli->paths, const char *) = ".";
}

static dray_error_t *load_plan(dray_plan_t **plan, dray_cli_t *cli, apr_pool_t *pool)
{
  dray_plan_options_t po;
  memset(&po, 0, sizeof(po));
  default_input(cli, pool);
  po.paths = cli->paths;
  po.compose_file = cli->compose_file;
  po.registry = cli->registry;
  po.tags = cli->tags;
  po.build_args = cli->build_args;
  po.only = cli->only;
  po.skip = cli->skip;
  DRAY_ERR(dray_plan_load(plan, &po, pool, pool));
  if ((*plan)->images->nelts == 0) {
    if (cli->only->nelts || cli->skip->nelts)
      return dray_error_createf(DRAY_ERR_INPUT, NULL, "no image matches --only/--skip");
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "no image found: no Dockerfile below %s",
                              cli->compose_file ? cli->compose_file
                                                : apr_array_pstrcat(pool, cli->paths, ' '));
  }
  return DRAY_NO_ERROR;
}

static void print_plan(FILE *out, const dray_plan_t *plan, const dray_build_options_t *bo,
                       dray_cli_t *cli, apr_pool_t *pool)
{
  int i, j;
  for (i = 0; i < plan->images->nelts; i++) {
    const dray_image_t *img = APR_ARRAY_IDX(plan->images, i, const dray_image_t *);
    fprintf(out, "%d. %s\n", i + 1, img->name);
    for (j = 0; j < img->tags->nelts; j++)
      fprintf(out, "   %-11s %s\n", j ? "" : "references",
              dray_image_ref(img, APR_ARRAY_IDX(img->tags, j, const char *), pool));
    fprintf(out, "   %-11s %s\n", "context", img->context_dir);
    fprintf(out, "   %-11s %s\n", "dockerfile", img->dockerfile);
    if (img->target)
      fprintf(out, "   %-11s %s\n", "target", img->target);
    for (j = 0; img->build_args && j < img->build_args->nelts; j++)
      fprintf(out, "   %-11s %s\n", j ? "" : "build-args",
              APR_ARRAY_IDX(img->build_args, j, const char *));
    fprintf(out, "   %-11s ", "after");
    if (!img->deps || img->deps->nelts == 0)
      fprintf(out, "-");
    for (j = 0; img->deps && j < img->deps->nelts; j++)
      fprintf(out, "%s%s", j ? ", " : "",
              APR_ARRAY_IDX(plan->images, APR_ARRAY_IDX(img->deps, j, int), const dray_image_t *)->name);
    fprintf(out, "\n   %-11s %s\n", "from", img->origin ? img->origin : "-");
    if (bo && cli->dry_run && cli->command != DRAY_CMD_PLAN) {
      if (cli->command != DRAY_CMD_PUSH)
        fprintf(out, "   $ %s\n",
                dray_child_argv_string(dray_build_argv(img, bo, NULL, pool), pool));
      if (cli->command != DRAY_CMD_BUILD)
        for (j = 0; j < img->tags->nelts; j++)
          fprintf(out, "   $ %s push %s\n", cli->engine_cmd,
                  dray_image_ref(img, APR_ARRAY_IDX(img->tags, j, const char *), pool));
    }
  }
  fprintf(out, "\n%d images; build order: ", plan->images->nelts);
  for (i = 0; i < plan->images->nelts; i++)
    fprintf(out, "%s%s", i ? ", " : "",
            APR_ARRAY_IDX(plan->images, i, const dray_image_t *)->name);
  fprintf(out, "\n");
}

static int first_set(int a, int b, int dflt)
{
  return a >= 0 ? a : b > 0 ? b : dflt;
}

/* The push side: the engine (when it speaks HTTP here), credentials, the
 * registry client for verification, and the driver. */
static dray_error_t *setup_push(dray_run_options_t *ro, dray_cli_t *cli, apr_pool_t *pool)
{
  const dray_engine_endpoint_t *ep = NULL;
  dray_engine_t *engine = NULL;
  dray_auth_config_t *auth;
  dray_error_t *err;
  int want_engine = strcmp(cli->push_driver, "cli") != 0;
  int podman = dray_build_cmd_is_podman(cli->engine_cmd);

  DRAY_ERR(dray_auth_config_load(&auth, NULL, pool, pool));
  DRAY_ERR(dray_registry_create(&ro->registry, auth, cli->insecure, pool));
  ro->verify = !cli->no_verify;
  ro->skip_existing = cli->skip_existing;

  /* podman builds into its own store, which only its CLI can push. */
  if (podman) {
    if (strcmp(cli->push_driver, "engine") == 0)
      return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                "--push-driver engine cannot push what %s built; use cli",
                                cli->engine_cmd);
    return dray_push_cli_driver_create(&ro->push_driver, cli->engine_cmd, ro->build.env, pool);
  }
  err = dray_engine_resolve(&ep, cli->engine_host, cli->context, NULL, pool, pool);
  if (err)
    return err;
  if (dray_engine_http_capable(ep)) {
    err = dray_engine_open(&engine, ep, NULL, pool, pool);
    if (err && strcmp(cli->push_driver, "engine") == 0)
      return dray_error_quick_wrapf(err, "--push-driver engine");
    /* The CLI may still know a way (a config we do not read): say so, go on. */
    if (err)
      fprintf(stderr, "dray: warning: %s; pushing through '%s push' instead\n",
              dray_error_format(err, pool), cli->engine_cmd);
    dray_error_clear(err);
  } else if (strcmp(cli->push_driver, "engine") == 0) {
    return dray_error_createf(DRAY_ERR_USAGE, NULL,
                              "--push-driver engine: the engine at %s is not reachable over HTTP "
                              "from here; use --push-driver cli", ep->host);
  }
  ro->engine = engine;
  if (want_engine && engine)
    return dray_push_engine_driver_create(&ro->push_driver, engine, auth, pool);
  return dray_push_cli_driver_create(&ro->push_driver, cli->engine_cmd, ro->build.env, pool);
}

static int run_command(dray_cli_t *cli, apr_pool_t *pool)
{
  dray_plan_t *plan;
  dray_run_options_t ro;
  dray_run_t *run = NULL;
  dray_error_t *err;
  const char *warning = NULL;
  int code;

  err = load_plan(&plan, cli, pool);
  if (err) {
    dray_error_print(err, "dray: error: ");
    dray_error_clear(err);
    return EXIT_USAGE;
  }

  memset(&ro, 0, sizeof(ro));
  ro.mode = cli->command == DRAY_CMD_BUILD ? DRAY_MODE_BUILD
          : cli->command == DRAY_CMD_PUSH  ? DRAY_MODE_PUSH
                                           : DRAY_MODE_RUN;
  /* Command line, then the compose file's x-dray, then defaults. */
  ro.builders = first_set(cli->builders, plan->settings.builders, dray_platform_cpu_count());
  ro.pushers = first_set(cli->pushers, plan->settings.pushers, 3);
  ro.push_retries = cli->retries >= 0 ? cli->retries
                  : plan->settings.retries >= 0 ? plan->settings.retries : 2;
  ro.build_retries = cli->build_retries >= 0 ? cli->build_retries : 0;
  ro.retry_base = apr_time_from_msec((apr_int64_t)((cli->retry_delay >= 0 ? cli->retry_delay : 2.0) * 1000));
  ro.retry_max = apr_time_from_sec(60);
  ro.kill_grace = apr_time_from_sec(2);
  ro.stall_timeout = cli->stall_timeout >= 0 ? cli->stall_timeout : 60;
  ro.log_dir = cli->log_dir;
  ro.build.engine_cmd = cli->engine_cmd;
  ro.build.platform = cli->platform ? cli->platform : plan->settings.platform;
  ro.build.network = cli->network ? cli->network : plan->settings.network;
  ro.build.no_cache = cli->no_cache;
  ro.handle_interrupts = 1;

  if (cli->dry_run) {
    print_plan(stdout, plan, &ro.build, cli, pool);
    return 0;
  }

  if (dray_platform_init(&warning, pool) != APR_SUCCESS)
    fprintf(stderr, "dray: warning: platform set-up failed\n");
  if (warning)
    fprintf(stderr, "dray: warning: %s\n", warning);

  /* An explicit engine reaches the CLI children too. */
  {
    apr_array_header_t *env = apr_array_make(pool, 2, sizeof(const char *));
    if (cli->engine_host)
      APR_ARRAY_PUSH(env, const char *) = apr_pstrcat(pool, "DOCKER_HOST=", cli->engine_host, NULL);
    else if (cli->context)
      APR_ARRAY_PUSH(env, const char *) = apr_pstrcat(pool, "DOCKER_CONTEXT=", cli->context, NULL);
    APR_ARRAY_PUSH(env, const char *) = NULL;
    ro.build.env = (const char *const *)env->elts;
  }

  if (ro.mode != DRAY_MODE_BUILD) {
    err = setup_push(&ro, cli, pool);
    if (err) {
      dray_error_print(err, "dray: error: ");
      dray_error_clear(err);
      return EXIT_USAGE;
    }
  }
  ro.view = dray_view_create(stderr, cli->progress, cli->verbose, pool);
  if (cli->events_json)
    dray_view_set_events(ro.view, stdout);

  err = dray_scheduler_run(&run, plan, &ro, pool, pool);
  if (err && !run) {
    dray_error_print(err, "dray: error: ");
    dray_error_clear(err);
    return 1;
  }
  if (err) {
    dray_error_print(err, "dray: error: ");
    dray_error_clear(err);
  }
  code = dray_run_exit_code(run);
  /* With --events json, stdout carries only the events. */
  dray_report_print_summary(cli->events_json ? stderr : stdout, run, cli->verbose, pool);
  if (cli->report) {
    err = dray_report_write_json(cli->report, run, code, pool);
    if (err) {
      dray_error_print(err, "dray: error: ");
      dray_error_clear(err);
      if (code == 0)
        code = 1;
    }
  }
  return code;
}

static int plan_command(dray_cli_t *cli, apr_pool_t *pool)
{
  dray_plan_t *plan;
  dray_error_t *err = load_plan(&plan, cli, pool);
  if (err) {
    dray_error_print(err, "dray: error: ");
    dray_error_clear(err);
    return EXIT_USAGE;
  }
  print_plan(stdout, plan, NULL, cli, pool);
  return 0;
}

int main(int argc, const char *const *argv)
{
  apr_pool_t *pool;
  dray_cli_t *cli;
  dray_error_t *err;
  int code = 0;

  if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS) {
    fprintf(stderr, "dray: cannot initialize APR\n");
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  apr_pool_create(&pool, NULL);

  err = dray_cli_parse(&cli, argc, argv, pool);
  if (err) {
    dray_error_print(err, "dray: error: ");
    dray_error_clear(err);
    code = EXIT_USAGE;
  } else if (cli->help) {
    dray_cli_print_help(stdout, cli->command);
  } else {
    switch (cli->command) {
    case DRAY_CMD_HELP: {
      dray_cli_t *sub = NULL;
      const char *args[3] = {argv[0], NULL, NULL};
      if (cli->paths->nelts) {
        args[1] = APR_ARRAY_IDX(cli->paths, 0, const char *);
        dray_error_clear(dray_cli_parse(&sub, 2, args, pool));
      }
      dray_cli_print_help(stdout, sub ? sub->command : DRAY_CMD_NONE);
      break;
    }
    case DRAY_CMD_VERSION:
      printf("dray %s (APR %s, libcurl %s)\n", DRAY_VERSION, apr_version_string(),
             curl_version_info(CURLVERSION_NOW)->version);
      break;
    case DRAY_CMD_PLAN:
      code = plan_command(cli, pool);
      break;
    default:
      code = run_command(cli, pool);
      break;
    }
  }
  fflush(stdout);
  apr_pool_destroy(pool);
  curl_global_cleanup();
  apr_terminate();
  return code;
}
