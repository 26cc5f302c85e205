/* enginecmd.c — which client program is the engine command. */
#include "dray/enginecmd.h"

#include <string.h>

dray_engine_cmd_kind_t dray_engine_cmd_kind(const char *engine_cmd)
{
  const char *base = engine_cmd, *p;
  for (p = engine_cmd; *p; p++) /* both separators: Windows paths too */
    if (*p == '/' || *p == '\\')
      base = p + 1;
  return strncmp(base, "podman", 6) == 0 ? DRAY_ENGINE_CMD_PODMAN : DRAY_ENGINE_CMD_DOCKER;
}
