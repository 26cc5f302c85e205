/* main.c — dray's entry point: parse, plan, run, report, exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_env.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include <jansson.h>

#include "dray/auth.h"
#include "dray/backoff.h"
#include "dray/build.h"
#include "dray/cli.h"
#include "dray/compose.h"
#include "dray/engine.h"
#include "dray/engines.h"
#include "dray/enginecmd.h"
#include "dray/error.h"
#include "dray/events.h"
#include "dray/file.h"
#include "dray/github.h"
#include "dray/interrupts.h"
#include "dray/junit.h"
#include "dray/timeline.h"
#include "dray/joblog.h"
#include "dray/pipeline.h"
#include "dray/plan.h"
#include "dray/plan_json.h"
#include "dray/platform.h"
#include "dray/pools.h"
#include "dray/push.h"
#include "dray/push_engine.h"
#include "dray/push_auto.h"
#include "dray/push_registry.h"
#include "dray/registry.h"
#include "dray/report.h"
#include "dray/runtmp.h"
#include "dray/slots.h"
#include "dray/version.h"
#include "dray/view.h"

/* Without PATH or -f: the files COMPOSE_FILE names (separated by
 * COMPOSE_PATH_SEPARATOR, else the system's path list separator), else a
 * compose file here, as docker compose and bake do, else this folder. */
static void default_input(dray_cli_t *cli, apr_pool_t *pool)
{
  static const char *names[] = {"compose.yaml", "compose.yml", "docker-compose.yaml",
                                "docker-compose.yml", NULL};
  char *list, *sep;
  int i;
  if (cli->paths->nelts || cli->compose_file)
    return;
  if (apr_env_get(&list, "COMPOSE_FILE", pool) == APR_SUCCESS && *list) {
    apr_array_header_t *files = NULL;
    if (apr_env_get(&sep, "COMPOSE_PATH_SEPARATOR", pool) == APR_SUCCESS && *sep) {
      char *last, *f;
      files = apr_array_make(pool, 2, sizeof(const char *));
      for (f = apr_strtok(list, sep, &last); f; f = apr_strtok(NULL, sep, &last))
        APR_ARRAY_PUSH(files, const char *) = f;
    } else if (apr_filepath_list_split(&files, list, pool) != APR_SUCCESS) {
      files = NULL;
    }
    for (i = 0; files && i < files->nelts; i++)
      if (*APR_ARRAY_IDX(files, i, const char *))
        APR_ARRAY_PUSH(cli->compose_files, const char *) = APR_ARRAY_IDX(files, i, const char *);
    if (cli->compose_files->nelts) {
      cli->compose_file = APR_ARRAY_IDX(cli->compose_files, 0, const char *);
      return;
    }
  }
  for (i = 0; names[i]; i++)
    if (dray_file_is_regular(names[i], pool)) {
      cli->compose_file = names[i];
      APR_ARRAY_PUSH(cli->compose_files, const char *) = names[i];
      return;
    }
  APR_ARRAY_PUSH(cli->paths, const char *) = ".";
}

/* The settings from DRAY_* variables and the user's config file; the plan
 * puts them in their place below the flags (settings.c). */
static dray_error_t *outer_settings(dray_settings_t *env, dray_settings_t *config,
                                    apr_pool_t *pool)
{
  const char *path = dray_settings_config_path(pool);
  dray_error_t *err;
  dray_settings_init(env);
  dray_settings_init(config);
  err = dray_settings_from_env(env, dray_settings_getenv, NULL, pool);
  if (path)
    err = dray_error_compose(err, dray_compose_load_config(config, path, pool, pool));
  return err;
}

/* Whether the docker client in force has buildx (podman: never asked). */
static int has_buildx(const char *engine_cmd, apr_pool_t *scratch_pool)
{
  return dray_engine_cmd_has_buildx(engine_cmd, NULL, scratch_pool);
}

static dray_error_t *load_plan(dray_plan_t **plan, dray_cli_t *cli, apr_pool_t *pool)
{
  dray_plan_options_t po;
  dray_settings_t *env = apr_palloc(pool, sizeof(*env));
  dray_settings_t *config = apr_palloc(pool, sizeof(*config));
  memset(&po, 0, sizeof(po));
  DRAY_ERR(outer_settings(env, config, pool));
  default_input(cli, pool);
  po.paths = cli->paths;
  po.compose_file = cli->compose_file;
  po.compose_files = cli->compose_files;
  po.profiles = cli->profiles;
  po.env_files = cli->env_files;
  po.project_name = cli->project_name;
  po.settings = &cli->settings;
  po.env_settings = env;
  po.config_settings = config;
  po.build_args = cli->build_args;
  po.only = cli->only;
  po.skip = cli->skip;
  po.has_buildx = has_buildx;
  po.ignore_unsupported = cli->ignore_unsupported;
  DRAY_ERR(dray_plan_load(plan, &po, pool, pool));
  {
    int i;
    for (i = 0; i < (*plan)->warnings->nelts; i++)
      fprintf(stderr, "dray: warning: %s\n", APR_ARRAY_IDX((*plan)->warnings, i, const char *));
  }
  if ((*plan)->nothing_to_build)
    return DRAY_NO_ERROR; /* the caller says so and ends with 0 */
  if ((*plan)->images->nelts == 0) {
    if (cli->only->nelts || cli->skip->nelts)
      return dray_error_createf(DRAY_ERR_INPUT, NULL, "no image matches --only/--skip");
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "no image found: no Dockerfile below %s",
                              cli->compose_file ? cli->compose_file
                                                : apr_array_pstrcat(pool, cli->paths, ' '));
  }
  return DRAY_NO_ERROR;
}

static void print_plan(FILE *out, const dray_plan_t *plan, apr_pool_t *pool)
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
  }
  fprintf(out, "\n%d images; build order: ", plan->images->nelts);
  for (i = 0; i < plan->images->nelts; i++)
    fprintf(out, "%s%s", i ? ", " : "",
            APR_ARRAY_IDX(plan->images, i, const dray_image_t *)->name);
  fprintf(out, "\n");
}

/* A compose file in which no service has build: is no error: there is
 * nothing to do. */
static dray_error_t *nothing_to_build(const dray_cli_t *cli, const dray_plan_t *plan)
{
  fprintf(stderr, "dray: nothing to build in %s (%s)\n", cli->compose_file,
          plan->nothing_to_build);
  return DRAY_NO_ERROR;
}

/* The registry driver, reading images from IMAGES. */
static dray_error_t *registry_driver(dray_pusher_t *pusher, const dray_image_source_t *images,
                                     const dray_settings_t *settings, apr_pool_t *pool)
{
  dray_push_driver_t *driver;
  /* dray is the registry's client for the whole push: the uploads retry
   * their requests (tokens too) by the failure streak rule (upload.h); the
   * verification, which has no loop of its own, by the same rule here. */
  dray_registry_set_request_policy(pusher->registry, settings->stall_timeout,
                                   DRAY_RETRY_STREAK);
  DRAY_ERR(dray_push_registry_driver_create(&driver, images, pusher->registry, 0, pool));
  pusher->driver = driver;
  return DRAY_NO_ERROR;
}

/* The push side: the engine (when it speaks HTTP here), credentials, the
 * registry client for verification, and the driver (dray_push_driver_choose
 * decides what auto means). Images read from the engine spill into RUNTMP. */
static dray_error_t *setup_push(dray_pusher_t *pusher, const char *const *env, dray_cli_t *cli,
                                const char *host, const char *context,
                                const dray_settings_t *settings, dray_runtmp_t *runtmp,
                                apr_pool_t *pool)
{
  const dray_engine_endpoint_t *ep = NULL;
  dray_engine_t *engine = NULL;
  dray_auth_config_t *auth;
  dray_push_driver_t *driver;
  dray_error_t *err;
  dray_engine_cmd_kind_t cmd = dray_engine_cmd_kind(settings->engine_cmd);
  int asked = dray_push_driver_kind_from_word(settings->push_driver);
  dray_push_driver_kind_t kind;
  int want_engine;
  /* Asked for by name: what cannot be had is an error, not a fallback. */
  int must_engine = asked == DRAY_PUSH_DRIVER_ENGINE || asked == DRAY_PUSH_DRIVER_REGISTRY;

  memset(pusher, 0, sizeof(*pusher));
  DRAY_ERR(dray_auth_config_load(&auth, NULL, pool, pool));
  DRAY_ERR(dray_registry_create(&pusher->registry, auth, cli->insecure, pool));
  pusher->verify = !cli->no_verify;
  pusher->skip_existing = cli->skip_existing;
  pusher->stall_timeout = settings->stall_timeout;

  /* podman builds into its own store, which the Engine API does not
   * reach: its CLI pushes, or dray reads the image with "podman save" and
   * uploads it (the registry driver). Its image IDs come from its CLI. */
  if (cmd == DRAY_ENGINE_CMD_PODMAN) {
    kind = dray_push_driver_choose((dray_push_driver_kind_t)asked, cmd, NULL,
                                   DRAY_ENGINE_STORE_UNKNOWN);
    if (kind == DRAY_PUSH_DRIVER_ENGINE)
      return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                "--push-driver %s cannot push what %s built; use cli or "
                                "registry", settings->push_driver, settings->engine_cmd);
    pusher->images = dray_image_source_command(settings->engine_cmd, env, runtmp, pool);
    if (kind == DRAY_PUSH_DRIVER_REGISTRY)
      return registry_driver(pusher, pusher->images, settings, pool);
    DRAY_ERR(dray_push_cli_driver_create(&driver, settings->engine_cmd, env, pool));
    pusher->driver = driver;
    return DRAY_NO_ERROR;
  }
  DRAY_ERR(dray_engine_resolve(&ep, host, context, NULL, pool, pool));
  kind = dray_push_driver_choose((dray_push_driver_kind_t)asked, cmd, ep,
                                 DRAY_ENGINE_STORE_UNKNOWN);
  want_engine = kind != DRAY_PUSH_DRIVER_CLI;
  if (!dray_engine_http_capable(ep)) {
    if (must_engine)
      return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                "--push-driver %s: the engine at %s is not reachable over "
                                "HTTP from here; use --push-driver cli", settings->push_driver,
                                ep->host);
  } else if (want_engine || cli->skip_existing) {
    err = dray_engine_open(&engine, ep, NULL, pool, pool);
    if (err && must_engine) /* asked for what cannot be had: nothing starts */
      return dray_error_createf(DRAY_ERR_USAGE, err, "--push-driver %s", settings->push_driver);
    /* The CLI may still know a way (a config we do not read): say so, go on.
     * Asked for the CLI driver, the user needs no word about the API. */
    if (err && want_engine)
      fprintf(stderr, "dray: warning: %s; pushing through '%s push' instead\n",
              dray_error_format(err, pool), settings->engine_cmd);
    dray_error_clear(err);
  }
  if (engine && kind == DRAY_PUSH_DRIVER_ENGINE_THEN_REGISTRY) {
    /* Auto's choice depends on the engine's image store too. */
    dray_engine_image_store_t store;
    err = dray_engine_image_store(&store, engine, NULL, pool);
    dray_error_clear(err);
    if (!err)
      kind = dray_push_driver_choose(DRAY_PUSH_DRIVER_AUTO, cmd, ep, store);
  }
  pusher->engine = engine;
  pusher->images = engine ? dray_image_source_engine(engine, runtmp, pool) : NULL;
  if (kind == DRAY_PUSH_DRIVER_REGISTRY && engine)
    return registry_driver(pusher, pusher->images, settings, pool);
  if (kind == DRAY_PUSH_DRIVER_ENGINE_THEN_REGISTRY && engine) {
    dray_push_driver_t *first;
    DRAY_ERR(dray_push_engine_driver_create(&first, engine, auth, pool));
    DRAY_ERR(registry_driver(pusher, pusher->images, settings, pool));
    DRAY_ERR(dray_push_auto_driver_create(&driver, first, pusher->driver, pool));
    pusher->driver = driver;
    return DRAY_NO_ERROR;
  }
  if (kind != DRAY_PUSH_DRIVER_CLI && engine)
    DRAY_ERR(dray_push_engine_driver_create(&driver, engine, auth, pool));
  else
    DRAY_ERR(dray_push_cli_driver_create(&driver, settings->engine_cmd, env, pool));
  pusher->driver = driver;
  return DRAY_NO_ERROR;
}

/* The limits the run starts with, and which of them move (auto). */
static void set_limits(dray_sched_options_t *o, const dray_settings_t *st)
{
  memset(&o->adapt, 0, sizeof(o->adapt));
  o->adapt.builders_min = o->adapt.pushers_min = 1;
  o->adapt.builders_max = st->builders_max;
  o->adapt.pushers_max = st->pushers_max;
  o->adapt.gain = 0.05;
  o->adapt.adapt_builders = st->builders == DRAY_SETTING_AUTO;
  o->adapt.adapt_pushers = st->pushers == DRAY_SETTING_AUTO;
  /* Builds start one per CPU; pushes at 2, below where uplinks choke. */
  o->builders = o->adapt.adapt_builders ? dray_platform_cpu_count() : st->builders;
  o->pushers = o->adapt.adapt_pushers ? 2 : st->pushers;
  if (o->adapt.adapt_builders && o->builders > o->adapt.builders_max)
    o->builders = o->adapt.builders_max;
  if (o->adapt.adapt_pushers && o->pushers > o->adapt.pushers_max)
    o->pushers = o->adapt.pushers_max;
  /* Never fewer builds than CPUs: measured (bench/RESULTS.md), cutting
   * builders when pushes kept the CPUs busy made the builds the bottleneck
   * and the run slower than xargs -P 8. */
  o->adapt.builders_min = o->builders;
  o->cpu_times = dray_platform_cpu_times;
}

/* Each image's build and push times in the last run's report (the --report
 * file before this run replaces it), in plan order; 0 where unknown. */
static void estimates(const double **build, const double **push, const dray_plan_t *plan,
                      const char *report, apr_pool_t *pool)
{
  apr_hash_t *known = dray_report_read_estimates(report, pool);
  apr_size_t n = (apr_size_t)(plan->images->nelts + 1);
  double *b = apr_pcalloc(pool, sizeof(double) * n), *p = apr_pcalloc(pool, sizeof(double) * n);
  int i;
  for (i = 0; i < plan->images->nelts; i++) {
    const dray_estimate_t *e =
        apr_hash_get(known, APR_ARRAY_IDX(plan->images, i, const dray_image_t *)->name,
                     APR_HASH_KEY_STRING);
    b[i] = e ? e->build_seconds : 0;
    p[i] = e ? e->push_seconds : 0;
  }
  *build = b;
  *push = p;
}

/* An explicit engine (ONE, or NULL) reaches the CLI children too: its
 * "K=V" entries, NULL-ended. */
static const char *const *child_env(const dray_engine_target_t *one)
{
  static const char *const none[] = {NULL};
  return one ? one->env : none;
}

/* The engines the settings name (settings.h "engines"; engines.h), as
 * targets; none: the one engine, found as always. */
static dray_error_t *engine_targets(apr_array_header_t **targets, const dray_settings_t *st,
                                    apr_pool_t *pool)
{
  int i;
  *targets = apr_array_make(pool, 2, sizeof(dray_engine_target_t *));
  for (i = 0; st->engines && i < st->engines->nelts; i++) {
    dray_engine_target_t *t;
    DRAY_ERR(dray_engine_target_parse(&t, APR_ARRAY_IDX(st->engines, i, const char *),
                                      st->where[DRAY_SETTING_ENGINES], pool));
    APR_ARRAY_PUSH(*targets, dray_engine_target_t *) = t;
  }
  return DRAY_NO_ERROR;
}

/* Every engine named (engines.h) resolved and asked whether it answers,
 * before anything starts: one that does not is an error naming it, or with
 * --engines-optional a warning, and the run goes on without it. The engines
 * left go to *LIVE (dray_engine_target_t *). */
static dray_error_t *check_engines(apr_array_header_t **live, apr_array_header_t *targets,
                                   const dray_cli_t *cli, const char *engine_cmd, FILE *out,
                                   apr_pool_t *pool)
{
  apr_pool_t *iterpool;
  int i;

  *live = apr_array_make(pool, targets->nelts, sizeof(dray_engine_target_t *));
  DRAY_ERR(dray_engine_targets_resolve(targets, pool, pool));
  iterpool = dray_pool_create_sub(pool);
  for (i = 0; i < targets->nelts; i++) {
    dray_engine_target_t *t = APR_ARRAY_IDX(targets, i, dray_engine_target_t *);
    dray_error_t *err;
    apr_pool_clear(iterpool);
    err = dray_engine_target_probe(t, engine_cmd, NULL, iterpool);
    if (out)
      fprintf(out, "   %-30s %s%s\n", t->spec.name, err ? "does not answer: " : "answers",
              err ? dray_error_format(err, iterpool) : "");
    if (err && !cli->engines_optional) {
      apr_pool_destroy(iterpool);
      return dray_error_quick_wrapf(err, "engine %s does not answer (--engines-optional "
                                         "goes on without it)", t->spec.name);
    }
    if (err) {
      if (!out)
        fprintf(stderr, "dray: warning: engine %s does not answer, the run goes on without "
                        "it: %s\n", t->spec.name, dray_error_format(err, iterpool));
      dray_error_clear(err);
      continue;
    }
    APR_ARRAY_PUSH(*live, dray_engine_target_t *) = t;
  }
  apr_pool_destroy(iterpool);
  if ((*live)->nelts == 0)
    return dray_error_createf(APR_EGENERAL, NULL, "no engine answers");
  return DRAY_NO_ERROR;
}

/* Several engines: each gets the run's build options with its own
 * environment, and its own pusher; the scheduler gets their names and
 * limits. */
static dray_error_t *setup_engines(dray_pipeline_options_t *po, const dray_build_options_t *bo,
                                   dray_cli_t *cli, apr_array_header_t *targets,
                                   const dray_plan_t *plan, dray_mode_t mode,
                                   dray_runtmp_t *runtmp, apr_pool_t *pool)
{
  apr_array_header_t *live;
  dray_pipeline_engine_t *engines;
  dray_engine_spec_t *specs;
  int i;

  DRAY_ERR(check_engines(&live, targets, cli, plan->settings.engine_cmd, NULL, pool));
  engines = apr_pcalloc(pool, sizeof(*engines) * (apr_size_t)live->nelts);
  specs = apr_pcalloc(pool, sizeof(*specs) * (apr_size_t)live->nelts);
  for (i = 0; i < live->nelts; i++) {
    const dray_engine_target_t *t = APR_ARRAY_IDX(live, i, const dray_engine_target_t *);
    dray_build_options_t *b = apr_pmemdup(pool, bo, sizeof(*bo));
    b->env = t->env;
    engines[i].build = b;
    engines[i].target = t;
    if (mode != DRAY_MODE_BUILD) {
      dray_pusher_t *pusher = apr_pcalloc(pool, sizeof(*pusher));
      DRAY_ERR(setup_push(pusher, t->env, cli, t->host, t->context, &plan->settings, runtmp,
                          pool));
      engines[i].pusher = pusher;
    }
    specs[i] = t->spec;
  }
  po->engines = engines;
  po->n_engines = live->nelts;
  po->sched.engines = specs;
  po->sched.n_engines = live->nelts;
  /* auto limits are measured for one engine's CPUs: fixed per engine here. */
  po->sched.adapt.adapt_builders = po->sched.adapt.adapt_pushers = 0;
  return DRAY_NO_ERROR;
}

/* The build options of a run of PLAN: what every build command carries. */
static void build_options(dray_build_options_t *bo, const dray_plan_t *plan,
                          const dray_cli_t *cli, const dray_engine_target_t *one)
{
  memset(bo, 0, sizeof(*bo));
  bo->engine_cmd = plan->settings.engine_cmd;
  bo->builder = plan->builder;
  bo->platform = plan->settings.platform;
  bo->network = plan->settings.network;
  bo->no_cache = cli->no_cache;
  bo->env = child_env(one);
}

/* Where a run writes (logs, report, JUnit, timeline) is checked before anything starts: a
 * cloned repository must not make dray write through a link it committed.
 * Every problem together; DRAY_ERR_INPUT (exit 2). */
static dray_error_t *check_outputs(const dray_run_t *run, const dray_cli_t *cli,
                                   apr_pool_t *pool)
{
  dray_error_t *err = dray_joblog_check(run, run->plan->settings.log_dir, pool);
  if (cli->report)
    err = dray_error_compose(err, dray_report_check_path(cli->report, pool));
  if (cli->junit)
    err = dray_error_compose(err, dray_file_check_output(cli->junit, 0, "--junit", pool));
  if (cli->timeline)
    err = dray_error_compose(err, dray_file_check_output(cli->timeline, 0, "--timeline", pool));
  return err;
}

/* GitHub Actions output, when dray runs in a GitHub Actions job: workflow
 * commands on stdout (stderr when stdout carries --events json), the step
 * summary where GITHUB_STEP_SUMMARY says. */
static dray_github_t *github_output(const dray_cli_t *cli, apr_pool_t *pool)
{
  char *summary = NULL, *workdir = NULL;
  if (!dray_github_active(pool))
    return NULL;
  if (apr_env_get(&summary, "GITHUB_STEP_SUMMARY", pool) != APR_SUCCESS)
    summary = NULL;
  if (apr_env_get(&workdir, "GITHUB_WORKSPACE", pool) != APR_SUCCESS || !*workdir)
    if (apr_filepath_get(&workdir, 0, pool) != APR_SUCCESS)
      workdir = NULL;
  return dray_github_create(cli->events_json ? stderr : stdout, summary, workdir, pool);
}

/* Everything before the first job: options, platform, push side, logs.
 * *RUN is set once the run exists. */
static dray_error_t *run_command(dray_run_t **run_p, dray_cli_t *cli, dray_github_t *gh,
                                 apr_pool_t *pool)
{
  dray_plan_t *plan;
  dray_pipeline_options_t po;
  dray_build_options_t bo;
  dray_pusher_t pusher;
  dray_mode_t mode = cli->command == DRAY_CMD_BUILD ? DRAY_MODE_BUILD
                   : cli->command == DRAY_CMD_PUSH  ? DRAY_MODE_PUSH
                                                    : DRAY_MODE_RUN;
  dray_sink_t sinks[3];
  dray_view_t *view;
  const char *warning = NULL;
  dray_run_t *run;
  dray_runtmp_t *runtmp;
  apr_array_header_t *targets;
  const dray_engine_target_t *one;
  int nsinks = 0;

  DRAY_ERR(load_plan(&plan, cli, pool));
  if (plan->nothing_to_build)
    return nothing_to_build(cli, plan);
  DRAY_ERR(engine_targets(&targets, &plan->settings, pool));
  if (mode == DRAY_MODE_PUSH && targets->nelts > 1)
    return dray_error_createf(DRAY_ERR_USAGE, NULL,
                              "dray push takes one engine (%s): the images it pushes were built "
                              "on one", plan->settings.where[DRAY_SETTING_ENGINES]);
  one = targets->nelts == 1 ? APR_ARRAY_IDX(targets, 0, const dray_engine_target_t *) : NULL;
  run = dray_run_create(plan, mode, pool);
  if (!cli->dry_run) /* a dry run writes nothing */
    DRAY_ERR(check_outputs(run, cli, pool));

  memset(&po, 0, sizeof(po));
  build_options(&bo, plan, cli, one);
  /* The settings in force (command line, x-dray, defaults: settings.c). */
  set_limits(&po.sched, &plan->settings);
  po.sched.push_retries = plan->settings.retries;
  po.sched.build_retries = plan->settings.build_retries;
  po.sched.retry_base = apr_time_from_msec((apr_int64_t)(plan->settings.retry_delay * 1000));
  po.sched.retry_max = apr_time_from_sec(60);
  po.sched.kill_grace = apr_time_from_sec(2);
  po.build = &bo;
  po.handle_interrupts = 1;
  estimates(&po.sched.build_estimates, &po.sched.push_estimates, plan, cli->report, pool);
  /* docker's engine uploads a layer once per repository pushed at once and
   * mounts it only from a finished push (podman pushes on its own). */
  po.sched.layer_aware_push =
      dray_engine_cmd_kind(plan->settings.engine_cmd) == DRAY_ENGINE_CMD_DOCKER;

  if (!cli->dry_run) {
    if (dray_platform_init(&warning, pool) != APR_SUCCESS)
      fprintf(stderr, "dray: warning: platform set-up failed\n");
    if (warning)
      fprintf(stderr, "dray: warning: %s\n", warning);
  }
  /* One private temporary folder for the whole run, made when the first
   * image is read into it; made before the push side, it is removed after
   * the reads that used it. */
  DRAY_ERR(dray_runtmp_create(&runtmp, NULL, pool));
  if (targets->nelts > 1 && !cli->dry_run)
    DRAY_ERR(setup_engines(&po, &bo, cli, targets, plan, mode, runtmp, pool));
  else if (one) { /* its limits, if any: the one engine's */
    po.sched.engines = &one->spec;
    po.sched.n_engines = 1;
  }
  if (mode != DRAY_MODE_BUILD && !po.n_engines) {
    DRAY_ERR(setup_push(&pusher, bo.env, cli, one ? one->host : NULL, one ? one->context : NULL,
                        &plan->settings, runtmp, pool));
    po.pusher = &pusher;
  }
  if (mode != DRAY_MODE_BUILD) {
    if (plan->settings.global_slots && !cli->dry_run)
      DRAY_ERR(dray_slots_open(&po.slots, plan->settings.global_slots,
                               plan->settings.global_slot_count, NULL, pool));
  }

  if (cli->dry_run) {
    print_plan(stdout, plan, pool);
    printf("\nwhat a run with -j %d -p %d would start, in order:\n", po.sched.builders,
           po.sched.pushers);
    return dray_pipeline_dry_run(run, &po, stdout, pool, pool);
  }

  DRAY_ERR(dray_joblog_prepare(run, plan->settings.log_dir, pool, pool));
  *run_p = run;
  view = dray_view_create(stderr, dray_view_mode_from_word(plan->settings.progress),
                          cli->verbose, pool);
  sinks[nsinks++] = dray_view_sink(view);
  if (cli->events_json)
    sinks[nsinks++] = dray_events_sink(dray_events_create(stdout, run->jobs->nelts, pool));
  if (gh)
    sinks[nsinks++] = dray_github_sink(gh);
  return dray_pipeline_run(run, &po, sinks, nsinks, pool, pool);
}

static dray_error_t *plan_command(dray_cli_t *cli, apr_pool_t *pool)
{
  dray_plan_t *plan;
  apr_array_header_t *targets;
  int i;
  DRAY_ERR(load_plan(&plan, cli, pool));
  DRAY_ERR(engine_targets(&targets, &plan->settings, pool));
  if (cli->format_json) {
    dray_build_options_t bo;
    json_t *doc, *engines = json_array();
    if (plan->nothing_to_build)
      (void)nothing_to_build(cli, plan);
    /* The commands as the one engine named (or none) would run them. */
    build_options(&bo, plan, cli,
                  targets->nelts == 1 ? APR_ARRAY_IDX(targets, 0, dray_engine_target_t *) : NULL);
    doc = dray_plan_json(plan, &bo, pool);
    for (i = 0; i < targets->nelts; i++)
      json_array_append_new(engines,
                            json_string(APR_ARRAY_IDX(targets, i, dray_engine_target_t *)->spec.name));
    json_object_set_new(doc, "engines", engines);
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
    return DRAY_NO_ERROR;
  }
  if (plan->nothing_to_build)
    return nothing_to_build(cli, plan);
  print_plan(stdout, plan, pool);
  if (targets->nelts) {
    apr_array_header_t *live;
    printf("\nengines:\n");
    DRAY_ERR(check_engines(&live, targets, cli, plan->settings.engine_cmd, stdout, pool));
  }
  if (cli->verbose) {
    printf("\nbuilds with: %s\n", dray_builder_word(plan->builder));
    printf("\nsettings not at their defaults:\n");
    if (dray_settings_print(stdout, &plan->settings, pool) == 0)
      printf("  (none: every setting has its default)\n");
  }
  return DRAY_NO_ERROR;
}

/* dray report --timeline FILE.svg REPORT.json */
static dray_error_t *report_command(const dray_cli_t *cli, apr_pool_t *pool)
{
  const char *path = APR_ARRAY_IDX(cli->paths, 0, const char *);
  json_error_t jerr;
  json_t *report = json_load_file(path, 0, &jerr);
  dray_error_t *err;
  if (!report)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s:%d: not a JSON report: %s", path,
                              jerr.line, jerr.text);
  err = dray_file_check_output(cli->timeline, 0, "--timeline", pool);
  if (err) {
    json_decref(report);
    return err;
  }
  err = dray_timeline_write(cli->timeline, report, pool);
  json_decref(report);
  return err ? dray_error_quick_wrapf(err, "%s", path) : DRAY_NO_ERROR;
}

/* `dray __complete WORD... CURRENT`: one candidate a line; a last line
 * ":file" or ":dir" asks the shell for file or folder names too. Image names
 * come from the plan of the current folder (or -f), quietly. */
static int complete_command(int argc, const char *const *argv, apr_pool_t *pool)
{
  dray_completion_t *c = dray_cli_complete(argc - 2, argv + 2, pool);
  int i;
  for (i = 0; i < c->words->nelts; i++)
    printf("%s\n", APR_ARRAY_IDX(c->words, i, const char *));
  if (c->kind == DRAY_COMPLETE_IMAGES) {
    dray_cli_t cli;
    dray_plan_t *plan;
    dray_error_t *err;
    memset(&cli, 0, sizeof(cli));
    cli.paths = apr_array_make(pool, 1, sizeof(const char *));
    cli.build_args = cli.only = cli.skip = apr_array_make(pool, 1, sizeof(const char *));
    cli.compose_files = apr_array_make(pool, 1, sizeof(const char *));
    cli.profiles = cli.env_files = apr_array_make(pool, 1, sizeof(const char *));
    cli.compose_file = c->compose_file;
    if (c->compose_file)
      APR_ARRAY_PUSH(cli.compose_files, const char *) = c->compose_file;
    dray_settings_init(&cli.settings);
    err = load_plan(&plan, &cli, pool);
    for (i = 0; !err && i < plan->images->nelts; i++) {
      const char *name = APR_ARRAY_IDX(plan->images, i, const dray_image_t *)->name;
      if (strncmp(name, c->prefix, strlen(c->prefix)) == 0)
        printf("%s\n", name);
    }
    dray_error_clear(err);
  } else if (c->kind == DRAY_COMPLETE_FILES) {
    printf(":file\n");
  } else if (c->kind == DRAY_COMPLETE_DIRS) {
    printf(":dir\n");
  }
  return 0;
}

/* A file written after a run: an error is printed and may raise CODE. */
static int wrote(int code, const dray_run_t *run, dray_error_t *err)
{
  if (err) {
    dray_error_print(err, "dray: error: ");
    code = dray_exit_code(err, run) > code ? dray_exit_code(err, run) : code;
    dray_error_clear(err);
  }
  return code;
}

/* After a run: the summary, the report; an error is printed once, here. */
static int finish_command(dray_error_t *err, const dray_run_t *run, const dray_cli_t *cli,
                          dray_github_t *gh, apr_pool_t *pool)
{
  int code;
  if (err)
    dray_error_print(err, "dray: error: ");
  if (err && gh)
    dray_github_errors(gh, err);
  code = dray_exit_code(err, run);
  dray_error_clear(err);
  if (!run)
    return code;
  /* With --events json, stdout carries only the events. */
  dray_report_print_summary(cli->events_json ? stderr : stdout, run, cli->verbose, pool);
  if (cli->report)
    code = wrote(code, run, dray_report_write_json(cli->report, run, code, pool));
  if (cli->junit)
    code = wrote(code, run, dray_junit_write(cli->junit, run, pool));
  if (cli->timeline) {
    json_t *report = dray_report_json(run, code, pool);
    code = wrote(code, run, report ? dray_timeline_write(cli->timeline, report, pool)
                                   : dray_error_create(APR_ENOMEM, NULL, "out of memory"));
    json_decref(report);
  }
  return code;
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
  pool = dray_pool_create_root();

  if (argc >= 2 && strcmp(argv[1], "__complete") == 0) {
    code = complete_command(argc, argv, pool);
    err = NULL;
    cli = NULL;
  } else if ((err = dray_cli_parse(&cli, argc, argv, pool)) != NULL) {
    dray_error_print(err, "dray: error: ");
    code = dray_exit_code(err, NULL);
    dray_error_clear(err);
  } else if (!cli) {
    /* completed */
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
      dray_version_print(stdout, pool);
      break;
    case DRAY_CMD_REPORT:
      code = finish_command(report_command(cli, pool), NULL, cli, NULL, pool);
      break;
    case DRAY_CMD_PLAN:
      code = finish_command(plan_command(cli, pool), NULL, cli, github_output(cli, pool), pool);
      break;
    default: {
      dray_run_t *run = NULL;
      dray_github_t *gh = github_output(cli, pool);
      /* From before anything is read until the report is written, a
       * Ctrl+C ends the command through its own path (interrupts.h). */
      apr_status_t st = cli->dry_run ? APR_SUCCESS : dray_interrupts_begin(pool);
      err = st ? dray_error_wrap_apr(st, "cannot install the Ctrl+C handler")
               : run_command(&run, cli, gh, pool);
      if (run) /* what came after the pipeline let go */
        run->interrupts += dray_interrupts_take();
      code = finish_command(err, run, cli, gh, pool);
      if (!run && dray_interrupts_take() > 0 && code != DRAY_EXIT_USAGE)
        code = DRAY_EXIT_INTERRUPTED; /* interrupted while setting up */
      dray_interrupts_end();
      break;
    }
    }
  }
  fflush(stdout);
  apr_pool_destroy(pool);
  curl_global_cleanup();
  apr_terminate();
  return code;
}
