/* cli.c — option parsing with apr_getopt_long (after curl's tool_getparam.c:
 * one table, one switch, errors that name the option). */
#include "dray/cli.h"

#include "dray/engines.h"
#include "dray/settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_getopt.h>
#include <apr_strings.h>

#include "dray/version.h"

enum {
  OPT_REGISTRY = 256,
  OPT_RETRIES,
  OPT_BUILD_RETRIES,
  OPT_RETRY_DELAY,
  OPT_ENGINE_CMD,
  OPT_BUILD_ARG,
  OPT_PLATFORM,
  OPT_NETWORK,
  OPT_NO_CACHE,
  OPT_ONLY,
  OPT_SKIP,
  OPT_LOG_DIR,
  OPT_REPORT,
  OPT_DRY_RUN,
  OPT_PROGRESS,
  OPT_STALL_TIMEOUT,
  OPT_PUSH_DRIVER,
  OPT_ENGINE_HOST,
  OPT_CONTEXT,
  OPT_INSECURE,
  OPT_SKIP_EXISTING,
  OPT_NO_VERIFY,
  OPT_EVENTS,
  OPT_JUNIT,
  OPT_TIMELINE,
  OPT_GLOBAL_SLOTS,
  OPT_BUILDERS_MAX,
  OPT_PUSHERS_MAX,
  OPT_ENGINES_OPTIONAL,
  OPT_IGNORE_UNSUPPORTED,
  OPT_PROFILE,
  OPT_ENV_FILE,
  OPT_PROJECT_NAME,
  OPT_FORMAT
};

static const apr_getopt_option_t options[] = {
  {"file", 'f', 1, "FILE  compose file: every service with build: is an image (repeatable: merged in order)"},
  {"profile", OPT_PROFILE, 1, "NAME  compose profile to enable (repeatable; default COMPOSE_PROFILES)"},
  {"env-file", OPT_ENV_FILE, 1, "FILE  compose variables from FILE instead of the project's .env (repeatable)"},
  {"project-name", OPT_PROJECT_NAME, 1, "NAME  compose project name (default COMPOSE_PROJECT_NAME, name:, the folder)"},
  {"registry", OPT_REGISTRY, 1, "HOST[:PORT][/NAMESPACE]  prefix for image names"},
  {"tag", 't', 1, "TAG  tag to build and push (repeatable; default latest)"},
  {"builders", 'j', 1, "N|auto  builds at once (default auto: from the CPUs, adding while they idle)"},
  {"pushers", 'p', 1, "N|auto  pushes at once (default auto: from 2, adding while throughput grows)"},
  {"builders-max", OPT_BUILDERS_MAX, 1, "N  at most this many builds with -j auto (default 4 per CPU)"},
  {"pushers-max", OPT_PUSHERS_MAX, 1, "N  at most this many pushes with -p auto (default 8)"},
  {"retries", OPT_RETRIES, 1, "N  push attempts beyond the first (default 2)"},
  {"build-retries", OPT_BUILD_RETRIES, 1, "N  build attempts beyond the first (default 0)"},
  {"retry-delay", OPT_RETRY_DELAY, 1, "SECONDS  first backoff delay, doubled per attempt (default 2)"},
  {"stall-timeout", OPT_STALL_TIMEOUT, 1, "SECONDS  abort a push without progress this long (default 60, 0 = never)"},
  {"engine-cmd", OPT_ENGINE_CMD, 1, "PATH  docker or podman client (default docker)"},
  {"engine-host", OPT_ENGINE_HOST, 1, "URL[#builders=N,pushers=M]  engine to use (unix://, tcp://, npipe://, ssh://), over DOCKER_HOST; repeatable: builds spread over every engine named"},
  {"context", OPT_CONTEXT, 1, "NAME[#builders=N,pushers=M]  docker context to use (repeatable, as --engine-host)"},
  {"engines-optional", OPT_ENGINES_OPTIONAL, 0, "an engine that does not answer at the start is left out, with a warning"},
  {"push-driver", OPT_PUSH_DRIVER, 1, "auto|engine|cli|registry  push through the Engine API, the CLI, or upload the blobs ourselves (default auto)"},
  {"insecure-registry", OPT_INSECURE, 1, "HOST  talk plain HTTP / unverified TLS to HOST (repeatable)"},
  {"skip-existing", OPT_SKIP_EXISTING, 0, "push nothing the registry already serves for this image"},
  {"no-verify", OPT_NO_VERIFY, 0, "do not check pushed digests against the registry"},
  {"global-slots", OPT_GLOBAL_SLOTS, 1, "NAME[:N]  share N push slots (default 2) with every dray on this machine using NAME"},
  {"events", OPT_EVENTS, 1, "json  one JSON event per line on stdout (summary goes to stderr)"},
  {"build-arg", OPT_BUILD_ARG, 1, "K=V  build argument (repeatable)"},
  {"platform", OPT_PLATFORM, 1, "PLATFORM  target platform(s), passed to the build; several: one manifest list"},
  {"network", OPT_NETWORK, 1, "MODE  network for RUN steps, passed to the build"},
  {"no-cache", OPT_NO_CACHE, 0, "build without the build cache"},
  {"ignore-unsupported", OPT_IGNORE_UNSUPPORTED, 0, "build without the compose build keys the builder cannot do (a warning each)"},
  {"only", OPT_ONLY, 1, "PATTERN  only images whose name matches (glob, repeatable)"},
  {"skip", OPT_SKIP, 1, "PATTERN  leave out images whose name matches (glob, repeatable)"},
  {"log-dir", OPT_LOG_DIR, 1, "DIR  one log per image (default .dray/logs)"},
  {"report", OPT_REPORT, 1, "FILE  write a JSON report"},
  {"junit", OPT_JUNIT, 1, "FILE  write a JUnit XML report (a test case per image)"},
  {"timeline", OPT_TIMELINE, 1, "FILE  draw the run as an SVG timeline (lanes, attempts, curves)"},
  {"dry-run", OPT_DRY_RUN, 0, "print what would run, run nothing"},
  {"progress", OPT_PROGRESS, 1, "auto|live|plain|quiet  how progress is shown (default auto)"},
  {"quiet", 'q', 0, "only problems and the summary"},
  {"verbose", 'v', 0, "more detail: log paths, full digests; plan: where settings come from"},
  {"format", OPT_FORMAT, 1, "text|json  plan: how to print it (json: README, Machine-readable plan)"},
  {"help", 'h', 0, "this help"},
  {NULL, 0, 0, NULL}
};

/* Which options each command accepts (by optch): exactly those it uses
 * (main.c), so that an option that would be ignored is a usage error that
 * names it instead. build takes no push option, push no build option. */
static const int run_opts[] = {'f', OPT_PROFILE, OPT_ENV_FILE, OPT_PROJECT_NAME, OPT_REGISTRY, 't', 'j', 'p', OPT_BUILDERS_MAX, OPT_PUSHERS_MAX,
                               OPT_RETRIES, OPT_BUILD_RETRIES,
                               OPT_RETRY_DELAY, OPT_STALL_TIMEOUT, OPT_ENGINE_CMD, OPT_ENGINE_HOST,
                               OPT_CONTEXT, OPT_ENGINES_OPTIONAL, OPT_PUSH_DRIVER, OPT_INSECURE,
                               OPT_SKIP_EXISTING, OPT_GLOBAL_SLOTS,
                               OPT_NO_VERIFY, OPT_EVENTS, OPT_BUILD_ARG,
                               OPT_PLATFORM, OPT_NETWORK, OPT_NO_CACHE, OPT_IGNORE_UNSUPPORTED,
                               OPT_ONLY, OPT_SKIP,
                               OPT_LOG_DIR, OPT_REPORT, OPT_JUNIT, OPT_TIMELINE, OPT_DRY_RUN, OPT_PROGRESS, 'q', 'v',
                               'h', 0};
static const int build_opts[] = {'f', OPT_PROFILE, OPT_ENV_FILE, OPT_PROJECT_NAME, OPT_REGISTRY, 't', 'j', OPT_BUILDERS_MAX, OPT_BUILD_RETRIES,
                                 OPT_RETRY_DELAY,
                                 OPT_ENGINE_CMD, OPT_ENGINE_HOST, OPT_CONTEXT,
                                 OPT_ENGINES_OPTIONAL, OPT_EVENTS,
                                 OPT_BUILD_ARG, OPT_PLATFORM, OPT_NETWORK,
                                 OPT_NO_CACHE, OPT_IGNORE_UNSUPPORTED, OPT_ONLY, OPT_SKIP,
                                 OPT_LOG_DIR, OPT_REPORT,
                                 OPT_JUNIT, OPT_TIMELINE, OPT_DRY_RUN, OPT_PROGRESS, 'q', 'v', 'h', 0};
static const int push_opts[] = {'f', OPT_PROFILE, OPT_ENV_FILE, OPT_PROJECT_NAME,
                                OPT_IGNORE_UNSUPPORTED, OPT_REGISTRY, 't', 'p', OPT_PUSHERS_MAX, OPT_RETRIES,
                                OPT_RETRY_DELAY,
                                OPT_STALL_TIMEOUT, OPT_ENGINE_CMD, OPT_ENGINE_HOST, OPT_CONTEXT,
                                OPT_PUSH_DRIVER, OPT_INSECURE, OPT_SKIP_EXISTING, OPT_NO_VERIFY,
                                OPT_GLOBAL_SLOTS,
                                OPT_EVENTS, OPT_BUILD_ARG, OPT_ONLY,
                                OPT_SKIP, OPT_LOG_DIR, OPT_REPORT, OPT_JUNIT, OPT_TIMELINE, OPT_DRY_RUN, OPT_PROGRESS,
                                'q', 'v', 'h', 0};
/* plan reads the input and prints what it found: only what shapes the plan.
 * What a run would do with the images (how many at once, retries, the
 * engine, logs, report, events, progress) it ignores, so it refuses it.
 * With -v it also lists each setting in force that is not a default and
 * where it comes from (environment, x-dray, config file). */
static const int plan_opts[] = {'f', OPT_PROFILE, OPT_ENV_FILE, OPT_PROJECT_NAME, OPT_FORMAT,
                                OPT_REGISTRY, 't', OPT_BUILD_ARG, OPT_IGNORE_UNSUPPORTED,
                                OPT_ONLY, OPT_SKIP, OPT_ENGINE_CMD, OPT_ENGINE_HOST, OPT_CONTEXT,
                                OPT_ENGINES_OPTIONAL, 'v', 'h', 0};
/* report redraws what a saved JSON report holds. */
static const int report_opts[] = {OPT_TIMELINE, 'h', 0};
static const int no_opts[] = {'h', 0};

typedef struct command_info_t {
  const char *name;
  dray_command_t cmd;
  const int *opts;
  const char *usage;
  const char *summary;
} command_info_t;

static const command_info_t commands[] = {
  {"run", DRAY_CMD_RUN, run_opts, "dray run [PATH...] [-f compose.yaml] [options]",
   "build every image and push each one as soon as it is built"},
  {"build", DRAY_CMD_BUILD, build_opts, "dray build [PATH...] [-f compose.yaml] [options]",
   "build every image, push nothing"},
  {"push", DRAY_CMD_PUSH, push_opts, "dray push [PATH...] [-f compose.yaml] [options]",
   "push images built before (by dray build)"},
  {"plan", DRAY_CMD_PLAN, plan_opts, "dray plan [PATH...] [-f compose.yaml] [options]",
   "check the input and print images, tags and build order; build nothing"},
  {"report", DRAY_CMD_REPORT, report_opts, "dray report --timeline FILE.svg REPORT.json",
   "draw a saved JSON report (--report) as an SVG timeline"},
  {"version", DRAY_CMD_VERSION, no_opts, "dray version", "print the version"},
  {"help", DRAY_CMD_HELP, no_opts, "dray help [COMMAND]", "help on a command"},
  {NULL, DRAY_CMD_NONE, NULL, NULL, NULL}
};

/* The options that are run-wide settings (settings.c parses their values). */
static const struct {
  int optch;
  dray_setting_id_t id;
} setting_opts[] = {
  {OPT_REGISTRY, DRAY_SETTING_REGISTRY}, {'t', DRAY_SETTING_TAGS},
  {'j', DRAY_SETTING_BUILDERS}, {'p', DRAY_SETTING_PUSHERS},
  {OPT_BUILDERS_MAX, DRAY_SETTING_BUILDERS_MAX}, {OPT_PUSHERS_MAX, DRAY_SETTING_PUSHERS_MAX},
  {OPT_GLOBAL_SLOTS, DRAY_SETTING_GLOBAL_SLOTS},
  {OPT_RETRIES, DRAY_SETTING_RETRIES}, {OPT_BUILD_RETRIES, DRAY_SETTING_BUILD_RETRIES},
  {OPT_RETRY_DELAY, DRAY_SETTING_RETRY_DELAY}, {OPT_STALL_TIMEOUT, DRAY_SETTING_STALL_TIMEOUT},
  {OPT_NETWORK, DRAY_SETTING_NETWORK}, {OPT_PLATFORM, DRAY_SETTING_PLATFORM},
  {OPT_ENGINE_CMD, DRAY_SETTING_ENGINE_CMD}, {OPT_PUSH_DRIVER, DRAY_SETTING_PUSH_DRIVER},
  {OPT_PROGRESS, DRAY_SETTING_PROGRESS}, {OPT_LOG_DIR, DRAY_SETTING_LOG_DIR},
  {0, DRAY_SETTING_COUNT}
};

static const command_info_t *find_command(const char *name)
{
  int i;
  for (i = 0; commands[i].name; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static const command_info_t *command_info(dray_command_t cmd)
{
  int i;
  for (i = 0; commands[i].name; i++)
    if (commands[i].cmd == cmd)
      return &commands[i];
  return NULL;
}

static int accepts(const command_info_t *ci, int optch)
{
  int i;
  for (i = 0; ci->opts[i]; i++)
    if (ci->opts[i] == optch)
      return 1;
  return 0;
}

static const apr_getopt_option_t *option_info(int optch)
{
  int i;
  for (i = 0; options[i].name; i++)
    if (options[i].optch == optch)
      return &options[i];
  return NULL;
}

void dray_cli_print_help(FILE *out, dray_command_t cmd)
{
  const command_info_t *ci = command_info(cmd);
  int i;

  if (!ci || cmd == DRAY_CMD_HELP) {
    fprintf(out,
            "%s — build many container images in parallel and push them\n"
            "through a small, bounded pool of pushers, each image as soon as it is built.\n\n"
            "usage: dray COMMAND [options]\n\ncommands:\n", dray_version_line());
    for (i = 0; commands[i].name; i++)
      fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nPATH: every folder below it with a Dockerfile (or Containerfile) is one\n"
                 "image, named after its path. Without PATH or -f, a compose file in the\n"
                 "current folder is used if there is one, else the current folder.\n"
                 "\n'dray COMMAND --help' shows the options of a command.\n"
                 "Exit codes: 0 all done, 1 an image failed or was skipped, 2 usage or\n"
                 "input error, 130 interrupted.\n");
    return;
  }
  fprintf(out, "usage: %s\n\n%s.\n\noptions:\n", ci->usage, ci->summary);
  for (i = 0; ci->opts[i]; i++) {
    const apr_getopt_option_t *o = option_info(ci->opts[i]);
    const char *desc = o->description, *sp = o->has_arg ? strchr(desc, ' ') : NULL;
    char head[64];
    /* The description starts with the argument's name when there is one. */
    if (o->optch < 256)
      snprintf(head, sizeof(head), "-%c, --%s%s%.*s", o->optch, o->name, sp ? " " : "",
               sp ? (int)(sp - desc) : 0, desc);
    else
      snprintf(head, sizeof(head), "    --%s%s%.*s", o->name, sp ? " " : "",
               sp ? (int)(sp - desc) : 0, desc);
    /* A head too wide for the column gets its own line. */
    if (strlen(head) > 34)
      fprintf(out, "  %s\n  %-34s %s\n", head, "", sp ? sp + 2 : desc);
    else
      fprintf(out, "  %-34s %s\n", head, sp ? sp + 2 : desc);
  }
  fprintf(out, "\n%s\n", dray_version_line());
}

typedef struct getopt_err_t {
  char msg[256];
} getopt_err_t;

/* apr_getopt reports through a printf-like callback: keep the text. */
static void capture_getopt_error(void *arg, const char *fmt, ...)
{
  getopt_err_t *e = arg;
  va_list ap;
  size_t n = strlen(e->msg);
  va_start(ap, fmt);
  if (n < sizeof(e->msg))
    apr_vsnprintf(e->msg + n, sizeof(e->msg) - n, fmt, ap);
  va_end(ap);
}

dray_error_t *dray_cli_parse(dray_cli_t **cli_p, int argc, const char *const *argv,
                             apr_pool_t *result_pool)
{
  dray_cli_t *cli = apr_pcalloc(result_pool, sizeof(*cli));
  const command_info_t *ci;
  apr_getopt_t *os;
  getopt_err_t gerr;
  apr_status_t st;
  const char *arg;
  int optch;

  cli->paths = apr_array_make(result_pool, 4, sizeof(const char *));
  cli->build_args = apr_array_make(result_pool, 2, sizeof(const char *));
  cli->only = apr_array_make(result_pool, 2, sizeof(const char *));
  cli->skip = apr_array_make(result_pool, 2, sizeof(const char *));
  cli->compose_files = apr_array_make(result_pool, 1, sizeof(const char *));
  cli->profiles = apr_array_make(result_pool, 1, sizeof(const char *));
  cli->env_files = apr_array_make(result_pool, 1, sizeof(const char *));
  cli->insecure = apr_array_make(result_pool, 1, sizeof(const char *));
  dray_settings_init(&cli->settings);
  *cli_p = cli;

  if (argc < 2) {
    cli->command = DRAY_CMD_HELP;
    return DRAY_NO_ERROR;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    cli->command = DRAY_CMD_HELP;
    return DRAY_NO_ERROR;
  }
  if (strcmp(argv[1], "--version") == 0) {
    cli->command = DRAY_CMD_VERSION;
    return DRAY_NO_ERROR;
  }
  ci = find_command(argv[1]);
  if (!ci)
    return dray_error_createf(DRAY_ERR_USAGE, NULL,
                              "unknown command '%s' (try: dray --help)", argv[1]);
  cli->command = ci->cmd;
  cli->command_name = ci->name;

  /* Options may come before or after the paths. */
  apr_getopt_init(&os, result_pool, argc - 1, argv + 1);
  os->interleave = 1;
  memset(&gerr, 0, sizeof(gerr));
  os->errfn = capture_getopt_error;
  os->errarg = &gerr;

  while ((st = apr_getopt_long(os, options, &optch, &arg)) == APR_SUCCESS) {
    const apr_getopt_option_t *o = option_info(optch);
    const char *name = apr_psprintf(result_pool, "--%s", o->name);
    if (!accepts(ci, optch))
      return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                "dray %s does not take %s (see dray %s --help)", ci->name,
                                name, ci->name);
    {
      int k;
      for (k = 0; setting_opts[k].optch; k++)
        if (setting_opts[k].optch == optch)
          break;
      if (setting_opts[k].optch) {
        if (optch == OPT_PROGRESS && strcmp(arg, "tty") == 0)
          arg = "live"; /* the old word */
        DRAY_ERR(dray_settings_set(&cli->settings, setting_opts[k].id, arg, DRAY_SOURCE_FLAG,
                                   name, result_pool));
        continue;
      }
    }
    switch (optch) {
    case 'f':
      if (!cli->compose_file)
        cli->compose_file = arg;
      APR_ARRAY_PUSH(cli->compose_files, const char *) = arg;
      break;
    case OPT_PROFILE: APR_ARRAY_PUSH(cli->profiles, const char *) = arg; break;
    case OPT_ENV_FILE: APR_ARRAY_PUSH(cli->env_files, const char *) = arg; break;
    case OPT_PROJECT_NAME: cli->project_name = arg; break;
    case OPT_FORMAT:
      if (strcmp(arg, "text") != 0 && strcmp(arg, "json") != 0)
        return dray_error_createf(DRAY_ERR_USAGE, NULL, "--format needs text or json, not '%s'",
                                  arg);
      cli->format_json = strcmp(arg, "json") == 0;
      break;
    case OPT_BUILD_ARG:
      if (!strchr(arg, '=') || arg[0] == '=')
        return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s needs KEY=VALUE, not '%s'", name,
                                  arg);
      APR_ARRAY_PUSH(cli->build_args, const char *) = arg;
      break;
    case OPT_ENGINE_HOST:
    case OPT_CONTEXT:
      /* One grammar for every source (engines.h): the option must agree. */
      if (dray_engine_word_is_host(arg) != (optch == OPT_ENGINE_HOST))
        return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s %s: %s", name, arg,
                                  optch == OPT_ENGINE_HOST
                                      ? "needs a URL (unix://, tcp://, npipe://, ssh://)"
                                      : "takes a context name; a URL goes to --engine-host");
      DRAY_ERR(dray_settings_set(&cli->settings, DRAY_SETTING_ENGINES, arg, DRAY_SOURCE_FLAG,
                                 name, result_pool));
      break;
    case OPT_ENGINES_OPTIONAL: cli->engines_optional = 1; break;
    case OPT_INSECURE: APR_ARRAY_PUSH(cli->insecure, const char *) = arg; break;
    case OPT_SKIP_EXISTING: cli->skip_existing = 1; break;
    case OPT_NO_VERIFY: cli->no_verify = 1; break;
    case OPT_EVENTS:
      if (strcmp(arg, "json") != 0)
        return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s takes json, not '%s'", name, arg);
      cli->events_json = 1;
      break;
    case OPT_NO_CACHE: cli->no_cache = 1; break;
    case OPT_IGNORE_UNSUPPORTED: cli->ignore_unsupported = 1; break;
    case OPT_ONLY: APR_ARRAY_PUSH(cli->only, const char *) = arg; break;
    case OPT_SKIP: APR_ARRAY_PUSH(cli->skip, const char *) = arg; break;
    case OPT_REPORT: cli->report = arg; break;
    case OPT_JUNIT: cli->junit = arg; break;
    case OPT_TIMELINE: cli->timeline = arg; break;
    case OPT_DRY_RUN: cli->dry_run = 1; break;
    case 'q': cli->quiet = 1; break;
    case 'v': cli->verbose = 1; break;
    case 'h': cli->help = 1; break;
    }
  }
  if (st != APR_EOF) {
    char *msg = gerr.msg;
    apr_size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
      msg[--n] = '\0';
    /* apr_getopt prefixes "<argv[0]>: " — here the command name. */
    if (strncmp(msg, ci->name, strlen(ci->name)) == 0 && msg[strlen(ci->name)] == ':')
      msg += strlen(ci->name) + 2;
    return dray_error_createf(DRAY_ERR_USAGE, NULL, "dray %s: %s", ci->name,
                              *msg ? msg : "bad option");
  }
  for (; os->ind < os->argc; os->ind++)
    APR_ARRAY_PUSH(cli->paths, const char *) = os->argv[os->ind];
  if (cli->quiet && !cli->settings.progress)
    DRAY_ERR(dray_settings_set(&cli->settings, DRAY_SETTING_PROGRESS, "quiet", DRAY_SOURCE_FLAG,
                               "--quiet", result_pool));
  if ((ci->cmd == DRAY_CMD_VERSION) && cli->paths->nelts)
    return dray_error_createf(DRAY_ERR_USAGE, NULL, "dray version takes no arguments");
  if (ci->cmd == DRAY_CMD_REPORT && !cli->help && (cli->paths->nelts != 1 || !cli->timeline))
    return dray_error_createf(DRAY_ERR_USAGE, NULL,
                              "usage: dray report --timeline FILE.svg REPORT.json");
  return DRAY_NO_ERROR;
}

/* ---- completion ---------------------------------------------------------- */

static const apr_getopt_option_t *long_option(const char *name, apr_size_t len)
{
  int i;
  for (i = 0; options[i].name; i++)
    if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
      return &options[i];
  return NULL;
}

/* The option WORD names ("--file", "-f"), when it takes a value; else NULL. */
static const apr_getopt_option_t *option_with_value(const char *word)
{
  const apr_getopt_option_t *o = NULL;
  if (word[0] == '-' && word[1] == '-')
    o = long_option(word + 2, strlen(word + 2));
  else if (word[0] == '-' && word[1] && !word[2])
    o = option_info((unsigned char)word[1]);
  return o && o->has_arg ? o : NULL;
}

static void add_if_prefix(dray_completion_t *c, const char *word)
{
  if (strncmp(word, c->prefix, strlen(c->prefix)) == 0)
    APR_ARRAY_PUSH(c->words, const char *) = word;
}

/* The values of option O: its argument's name in the help says what they
 * are. Lower-case words ("auto|engine|cli", "json", the auto of "N|auto")
 * are the values themselves; FILE and PATH are files, DIR folders, PATTERN
 * image names. */
static void complete_value(dray_completion_t *c, const apr_getopt_option_t *o, const char *head,
                           const char *cur, apr_pool_t *pool)
{
  const char *desc = o->description;
  apr_size_t n = strcspn(desc, " ");
  char *arg = apr_pstrndup(pool, desc, n), *copy = apr_pstrdup(pool, arg), *last, *w;

  c->prefix = apr_pstrcat(pool, head, cur, NULL);
  /* The lower-case words among the alternatives ("N|auto": auto). */
  for (w = apr_strtok(copy, "|", &last); w; w = apr_strtok(NULL, "|", &last)) {
    const char *p;
    for (p = w; *p && ((*p >= 'a' && *p <= 'z') || *p == '-'); p++)
      ;
    if (!*p)
      add_if_prefix(c, apr_pstrcat(pool, head, w, NULL));
  }
  if (strcmp(arg, "FILE") == 0 || strcmp(arg, "PATH") == 0) {
    c->kind = DRAY_COMPLETE_FILES;
  } else if (strcmp(arg, "DIR") == 0) {
    c->kind = DRAY_COMPLETE_DIRS;
  } else if (strcmp(arg, "PATTERN") == 0) {
    c->kind = DRAY_COMPLETE_IMAGES;
  }
}

dray_completion_t *dray_cli_complete(int nwords, const char *const *words,
                                     apr_pool_t *result_pool)
{
  dray_completion_t *c = apr_pcalloc(result_pool, sizeof(*c));
  const command_info_t *ci;
  const char *cur, *prev = NULL;
  const apr_getopt_option_t *o;
  int i;

  c->words = apr_array_make(result_pool, 8, sizeof(const char *));
  c->prefix = "";
  if (nwords < 1)
    return c;
  cur = words[nwords - 1];
  c->prefix = cur;
  if (nwords == 1) {
    for (i = 0; commands[i].name; i++)
      add_if_prefix(c, commands[i].name);
    add_if_prefix(c, "--help");
    add_if_prefix(c, "--version");
    return c;
  }
  ci = find_command(words[0]);
  if (!ci)
    return c;
  if (ci->cmd == DRAY_CMD_HELP) {
    if (nwords == 2)
      for (i = 0; commands[i].name; i++)
        add_if_prefix(c, commands[i].name);
    return c;
  }
  /* -f given before the cursor: the compose file for image names. */
  for (i = 1; i < nwords - 1; i++) {
    if (strcmp(words[i], "-f") == 0 || strcmp(words[i], "--file") == 0)
      c->compose_file = words[i + 1] && i + 1 < nwords - 1 ? words[i + 1] : NULL;
    else if (strncmp(words[i], "--file=", 7) == 0)
      c->compose_file = words[i] + 7;
  }
  /* bash splits "--opt=VAL" at "=": "--opt" "=" "VAL", or "--opt" "=" while empty. */
  if (nwords >= 3 && strcmp(cur, "=") == 0) {
    prev = words[nwords - 2];
    cur = "";
  } else if (nwords >= 4 && strcmp(words[nwords - 2], "=") == 0) {
    prev = words[nwords - 3];
  } else if (nwords >= 3) {
    prev = words[nwords - 2];
  }
  if (prev && (o = option_with_value(prev)) != NULL && accepts(ci, o->optch)) {
    complete_value(c, o, "", cur, result_pool);
    return c;
  }
  if (cur[0] == '-' && cur[1] == '-' && strchr(cur, '=')) {
    const char *eq = strchr(cur, '=');
    o = long_option(cur + 2, (apr_size_t)(eq - cur - 2));
    if (o && o->has_arg && accepts(ci, o->optch))
      complete_value(c, o, apr_pstrndup(result_pool, cur, (apr_size_t)(eq - cur + 1)), eq + 1,
                     result_pool);
    return c;
  }
  if (cur[0] == '-') {
    for (i = 0; ci->opts[i]; i++)
      add_if_prefix(c, apr_pstrcat(result_pool, "--", option_info(ci->opts[i])->name, NULL));
    return c;
  }
  if (ci->cmd == DRAY_CMD_REPORT)
    c->kind = DRAY_COMPLETE_FILES;
  else if (ci->cmd != DRAY_CMD_VERSION)
    c->kind = DRAY_COMPLETE_DIRS;
  return c;
}
