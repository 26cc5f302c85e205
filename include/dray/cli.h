/* cli.h — the command line: subcommands, options, help text. */
#ifndef DRAY_CLI_H
#define DRAY_CLI_H

#include <stdio.h>

#include <apr_pools.h>
#include <apr_tables.h>

#include "dray/error.h"
#include "dray/view.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_command_t {
  DRAY_CMD_NONE = 0,
  DRAY_CMD_RUN,
  DRAY_CMD_BUILD,
  DRAY_CMD_PUSH,
  DRAY_CMD_PLAN,
  DRAY_CMD_VERSION,
  DRAY_CMD_HELP
} dray_command_t;

typedef struct dray_cli_t {
  dray_command_t command;
  const char *command_name;
  int help;                          /* --help given: print help for command */
  apr_array_header_t *paths;         /* const char * */
  const char *compose_file;
  const char *registry;
  apr_array_header_t *tags;
  apr_array_header_t *build_args;
  apr_array_header_t *only;
  apr_array_header_t *skip;
  int builders;                      /* -1 = not given */
  int pushers;                       /* -1 = not given */
  int builders_max;                  /* -1 = not given */
  int pushers_max;                   /* -1 = not given */
  int retries;                       /* -1 = not given */
  int build_retries;                 /* -1 = not given */
  double retry_delay;                /* seconds; < 0 = not given */
  int stall_timeout;                 /* -1 = not given */
  const char *global_slots;          /* --global-slots NAME, or NULL */
  int global_slot_count;             /* its N */
  const char *engine_cmd;
  const char *engine_host;           /* --engine-host, or NULL */
  const char *context;               /* --context, or NULL */
  const char *push_driver;           /* "auto", "engine" or "cli" */
  apr_array_header_t *insecure;      /* --insecure-registry hosts */
  int skip_existing;
  int no_verify;
  int events_json;                   /* --events json */
  const char *platform;
  const char *network;
  int no_cache;
  const char *log_dir;
  const char *report;
  int dry_run;
  int quiet;
  int verbose;
  dray_view_mode_t progress;
} dray_cli_t;

/* Parse ARGV (argv[0] is the program). Usage errors come back as
 * DRAY_ERR_USAGE naming the option. */
dray_error_t *dray_cli_parse(dray_cli_t **cli, int argc, const char *const *argv,
                             apr_pool_t *result_pool);

/* Print the help of COMMAND (DRAY_CMD_NONE: the overview) to OUT. */
void dray_cli_print_help(FILE *out, dray_command_t command);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_CLI_H */
