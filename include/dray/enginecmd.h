/* enginecmd.h — the client program dray runs to build (and, with the CLI
 * push driver, to push): docker, podman, or a path to either.
 *
 * Which one it is decides what can push its images: podman keeps its own
 * image store, which only its CLI can push.
 */
#ifndef DRAY_ENGINECMD_H
#define DRAY_ENGINECMD_H

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

#ifdef __cplusplus
}
#endif
#endif /* DRAY_ENGINECMD_H */
