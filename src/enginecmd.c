/* enginecmd.c — which client program is the engine command. */
#include "dray/enginecmd.h"

#include <string.h>

#include <apr_time.h>

#include "dray/child.h"

dray_engine_cmd_kind_t dray_engine_cmd_kind(const char *engine_cmd)
{
  const char *base = engine_cmd, *p;
  for (p = engine_cmd; *p; p++) /* both separators: Windows paths too */
    if (*p == '/' || *p == '\\')
      base = p + 1;
  return strncmp(base, "podman", 6) == 0 ? DRAY_ENGINE_CMD_PODMAN : DRAY_ENGINE_CMD_DOCKER;
}

int dray_engine_cmd_has_buildx(const char *engine_cmd, const char *const *env,
                               apr_pool_t *scratch_pool)
{
  const char *argv[] = {engine_cmd, "buildx", "version", NULL};
  dray_child_spec_t spec;
  dray_child_result_t result;
  dray_error_t *err;

  if (dray_engine_cmd_kind(engine_cmd) == DRAY_ENGINE_CMD_PODMAN)
    return 0;
  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.env = env;
  spec.deadline = apr_time_from_sec(10); /* a plugin that hangs is none */
  err = dray_child_run(&result, &spec, scratch_pool, scratch_pool);
  if (err) {
    dray_error_clear(err);
    return 0;
  }
  return result.exit_code == 0;
}
