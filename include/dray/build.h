/* build.h — building one image through the engine's CLI.
 *
 * BuildKit over the Engine API needs a gRPC session no C client implements,
 * so builds run "docker build" (or "podman build") as a child process.
 */
#ifndef DRAY_BUILD_H
#define DRAY_BUILD_H

#include <apr_file_io.h>
#include <apr_pools.h>

#include "dray/buildspec.h"
#include "dray/cancel.h"
#include "dray/error.h"
#include "dray/outcome.h"
#include "dray/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_build_options_t {
  const char *engine_cmd;   /* "docker", "podman" or a path */
  dray_builder_t builder;   /* docker build, docker buildx build --load, podman build */
  const char *platform;     /* --platform, or NULL: an image's own platform wins */
  const char *network;      /* --network, or NULL: an image's build.network wins */
  int no_cache;             /* --no-cache */
  const char *const *env;   /* extra "K=V" for the child (DOCKER_HOST...), or NULL */
} dray_build_options_t;

typedef struct dray_build_result_t {
  const char *image_id;     /* "sha256:..." from --iidfile, or NULL */
  dray_outcome_t outcome;   /* on failure: exit, cancelled, not-started */
  int exit_code;
} dray_build_result_t;

/* The argv of the build of IMAGE (NULL-ended), writing the image id to
 * IIDFILE. An image for several platforms (dray_image_is_list) built by
 * podman is one manifest list named as its first reference ("--manifest
 * REF", no --tag): dray_build_image first removes a list of that name
 * (which "podman build --manifest" would add to), then checks that the list
 * holds one image per platform; the push sends the list to every reference.
 * docker buildx loads the list (--load: the engine needs the containerd
 * image store) under every tag, as any image. Command-line build args come first in image->build_args. The
 * image's compose build keys follow (buildspec.c), in the table's order; a
 * dockerfile_inline is read from dray_build_inline_path(IIDFILE). */
const char **dray_build_argv(const dray_image_t *image,
                             const dray_build_options_t *opts,
                             const char *iidfile,
                             apr_pool_t *result_pool);

/* Where the build of an image with dockerfile_inline finds the text:
 * beside IIDFILE ("Dockerfile.inline" when IIDFILE is NULL). */
const char *dray_build_inline_path(const char *iidfile, apr_pool_t *result_pool);

/* Why the output of "podman manifest inspect" (INSPECT_JSON, perhaps after
 * warning lines) is not a list of exactly one image per platform of
 * PLATFORMS ("linux/arm64" matches "linux/arm64/v8"), or NULL when it is. */
const char *dray_build_list_mismatch(const char *inspect_json,
                                     const apr_array_header_t *platforms,
                                     apr_pool_t *result_pool);

/* Build IMAGE, appending the output to LOG. A failed build returns an error
 * with the exit code and the engine's last line (the caller names the
 * image), with RESULT->outcome set. */
dray_error_t *dray_build_image(dray_build_result_t *result,
                               const dray_image_t *image,
                               const dray_build_options_t *opts,
                               apr_file_t *log,
                               const char *iidfile,
                               dray_cancel_t *cancel,
                               apr_pool_t *result_pool,
                               apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_BUILD_H */
