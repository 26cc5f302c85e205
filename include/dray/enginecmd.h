/* enginecmd.h — the client program dray runs to build (and, with the CLI
 * push driver, to push): docker, podman, or a path to either.
 *
 * Which one it is decides what can push its images: podman keeps its own
 * image store, which only its CLI can push.
 */
#ifndef DRAY_ENGINECMD_H
#define DRAY_ENGINECMD_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_engine_cmd_kind_t {
  DRAY_ENGINE_CMD_DOCKER = 0,   /* docker, or anything that speaks its CLI */
  DRAY_ENGINE_CMD_PODMAN
} dray_engine_cmd_kind_t;

/* The kind of ENGINE_CMD ("podman", "/usr/bin/podman", "C:\\x\\podman.exe"):
 * by the file name, either separator. */
dray_engine_cmd_kind_t dray_engine_cmd_kind(const char *engine_cmd);

/* Whether ENGINE_CMD (a docker client) answers "docker buildx version"
 * within a few seconds: then builds go through "docker buildx build --load",
 * which can do what plain "docker build" cannot (buildspec.h). ENV: extra
 * "K=V" for the child, or NULL. Podman: 0. */
int dray_engine_cmd_has_buildx(const char *engine_cmd, const char *const *env,
                               apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_ENGINECMD_H */
