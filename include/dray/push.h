/* push.h — pushing one image: drivers behind one interface, and the one call
 * that pushes an image (skip what the registry has, push each tag, verify).
 *
 * The CLI driver runs "docker push" (or "podman push") as a child; the Engine
 * API driver talks to the engine over libcurl. Both classify how a push ended
 * with outcome.h's classifiers, so the same message means the same outcome.
 */
#ifndef DRAY_PUSH_H
#define DRAY_PUSH_H

#include <apr_file_io.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "dray/cancel.h"
#include "dray/engine.h"
#include "dray/enginecmd.h"
#include "dray/error.h"
#include "dray/imageread.h"
#include "dray/outcome.h"
#include "dray/plan.h"
#include "dray/ref.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declared in registry.h and engine.h; only pointers are needed here. */
typedef struct dray_registry_t dray_registry_t;
typedef struct dray_engine_t dray_engine_t;

typedef struct dray_push_progress_t {
  apr_int64_t bytes_done;     /* bytes of layers uploaded so far */
  apr_int64_t bytes_total;    /* known total of layers being uploaded, 0 if unknown */
  int layers_done;
  int layers_total;
  int waiting;                /* every unfinished layer waits behind the engine's limit */
  int retries;                /* uploads this attempt had to try again so far (the
                                 engine's "Retrying in"): the link or the registry
                                 is failing some of them */
  const char *status;         /* a static word for the view ("pushing",
                                 "waiting", ...), or NULL */
} dray_push_progress_t;

/* Called from the pusher's thread; copy what you keep. */
typedef void (*dray_push_progress_fn)(void *baton, const dray_push_progress_t *progress);

typedef struct dray_push_request_t {
  const char *reference;      /* "repository:tag" */
  apr_file_t *log;            /* output is appended here, or NULL */
  dray_cancel_t *cancel;      /* or NULL */
  dray_push_progress_fn progress; /* or NULL */
  void *progress_baton;
  int stall_timeout;          /* seconds without progress before aborting; 0 = none */
  const char *manifest_list;  /* an image for several platforms: the local
                                 manifest list to push as REFERENCE (its first
                                 reference), or NULL. The podman CLI pushes it
                                 with "podman manifest push --all"; docker
                                 pushes an index as any image */
} dray_push_request_t;

typedef struct dray_push_result_t {
  const char *digest;         /* "sha256:..." the push reported, or NULL */
  apr_int64_t size;           /* manifest size, or -1 */
  dray_outcome_t outcome;     /* DRAY_OUTCOME_OK, or why it failed */
  apr_interval_time_t retry_after; /* on failure: wait at least this long before
                                 the next attempt (a registry's Retry-After; after a
                                 stall, the time the engine needs to drop the
                                 aborted uploads), or 0 */
  /* The registry driver's own account (the others leave them 0): */
  apr_int64_t bytes_sent;     /* request body bytes sent, resent ones included */
  int resumed;                /* uploads that went on from the registry's offset */
  apr_int64_t bytes_saved;    /* bytes those resumes did not send again */
} dray_push_result_t;

typedef struct dray_push_driver_t dray_push_driver_t;
struct dray_push_driver_t {
  const char *name;           /* "cli", "engine" or "registry" */
  /* Push REQ->reference. A failed push returns an error and sets
   * RESULT->outcome. */
  dray_error_t *(*push)(const dray_push_driver_t *driver,
                        const dray_push_request_t *req,
                        dray_push_result_t *result,
                        apr_pool_t *result_pool,
                        apr_pool_t *scratch_pool);
  /* What the driver would do to push REFERENCE, as one line for --dry-run:
   * "$ " and a command line, or an Engine API request. */
  const char *(*describe)(const dray_push_driver_t *driver, const char *reference,
                          apr_pool_t *result_pool);
  /* Optional (NULL: none): make REFERENCE, just built, ready for its push
   * where that costs no push slot (the registry driver reads the image
   * from the engine). A failure is only noted in LOG: the push does the
   * work itself then. */
  void (*prepare)(const dray_push_driver_t *driver, const char *reference,
                  dray_cancel_t *cancel, apr_file_t *log, apr_pool_t *scratch_pool);
  /* The same for the manifest list LIST pushed as REFERENCE, or NULL when
   * a list is pushed as any image. */
  const char *(*describe_list)(const dray_push_driver_t *driver, const char *list,
                               const char *reference, apr_pool_t *result_pool);
  void *baton;
};

/* DRIVER's describe of pushing IMAGE as REFERENCE (a manifest list's own,
 * when IMAGE is one and the driver pushes lists its own way). */
const char *dray_push_describe(const dray_push_driver_t *driver, const dray_image_t *image,
                               const char *reference, apr_pool_t *result_pool);

/* REF_S parsed for a push by a driver that names the tag itself (engine,
 * registry): a digest alone is refused. A failure is RESULT's too
 * (rejected). */
dray_error_t *dray_push_parse_reference(dray_ref_t **ref, dray_push_result_t *result,
                                        const char *ref_s, apr_pool_t *result_pool);

/* A driver's failure: RESULT->outcome is OUTCOME; returns ERR. */
dray_error_t *dray_push_fail(dray_push_result_t *result, dray_outcome_t outcome,
                             dray_error_t *err);

/* Which driver pushes: --push-driver's words, as a type. */
typedef enum dray_push_driver_kind_t {
  DRAY_PUSH_DRIVER_AUTO = 0,
  DRAY_PUSH_DRIVER_ENGINE,    /* the Engine API pushes */
  DRAY_PUSH_DRIVER_CLI,       /* "docker push" / "podman push" */
  DRAY_PUSH_DRIVER_REGISTRY,  /* dray uploads the blobs (push_registry.h) */
  /* No word: what auto means for an engine on this machine: the Engine
   * API, and dray's registry client for what it failed (push_auto.h). */
  DRAY_PUSH_DRIVER_ENGINE_THEN_REGISTRY
} dray_push_driver_kind_t;

/* The kind WORD names ("auto", "engine", "cli", "registry"), or -1. */
int dray_push_driver_kind_from_word(const char *word);

/* The driver that pushes, the one place auto is decided. ASKED by name:
 * that one (whether it can be had is the caller's to say). Auto: the CLI
 * for podman (ENGINE_CMD) and for an engine not reachable over HTTP here
 * (EP NULL, npipe, ssh); for a local engine (dray_engine_is_local) whose
 * image store is not containerd's (STORE: unknown until the engine is
 * asked), the Engine API and, for an image whose engine push failed,
 * dray's registry client (push_auto.h: measured, the engine's push is the
 * cheaper; dray's own is the one that cannot hang); else (a remote
 * engine, which pushes from where the image is; containerd's store, whose
 * compressed exports were not measured here) the Engine API. */
dray_push_driver_kind_t dray_push_driver_choose(dray_push_driver_kind_t asked,
                                                dray_engine_cmd_kind_t engine_cmd,
                                                const dray_engine_endpoint_t *ep,
                                                dray_engine_image_store_t store);

/* The CLI driver: ENGINE_CMD push REF (podman: with --digestfile; a
 * manifest list: podman manifest push --all --digestfile F LIST
 * docker://REF), with ENV
 * ("K=V", NULL-ended, or NULL) added to the child's environment. */
dray_error_t *dray_push_cli_driver_create(dray_push_driver_t **driver,
                                          const char *engine_cmd,
                                          const char *const *env,
                                          apr_pool_t *result_pool);

/* Everything a pusher needs for one image; shared by every pusher thread. */
typedef struct dray_pusher_t {
  const dray_push_driver_t *driver;
  dray_registry_t *registry;  /* for verification and --skip-existing, or NULL */
  const dray_engine_t *engine;/* for RepoDigests (--skip-existing), or NULL */
  const dray_image_source_t *images; /* local image IDs (--skip-existing), or NULL */
  int verify;                 /* HEAD each pushed tag; the digest must match */
  int skip_existing;          /* no push for tags the registry already serves */
  int stall_timeout;          /* seconds, 0 = none */
} dray_pusher_t;

typedef struct dray_push_image_result_t {
  dray_outcome_t outcome;     /* DRAY_OUTCOME_OK, or why it failed */
  apr_interval_time_t retry_after;
  apr_array_header_t *tag_digests; /* const char *, one per tag, on success */
  int up_to_date;             /* every tag was already in the registry */
  int verified;               /* the registry serves every pushed digest */
  apr_int64_t bytes;          /* layer bytes uploaded */
  int resumed;                /* uploads resumed (registry driver), every tag */
  apr_int64_t bytes_saved;    /* bytes the resumes did not send again */
} dray_push_image_result_t;

/* IMAGE is built: let the driver make it ready for its push (see
 * dray_push_driver_t.prepare), unless it has no such step or the push may
 * well be skipped (skip_existing). */
void dray_push_prepare(const dray_pusher_t *pusher, const dray_image_t *image, apr_file_t *log,
                       dray_cancel_t *cancel, apr_pool_t *scratch_pool);

/* Push every tag of IMAGE, one after another (after the first, the layers
 * are there): with skip_existing, a tag the registry serves with a digest the
 * local image has is not pushed; with verify, a pushed tag counts only when
 * the registry serves the digest the push reported. Output goes to LOG (or
 * NULL); PROGRESS (or NULL) hears of each push's progress. A failure returns
 * an error naming the reference and sets RESULT->outcome. */
dray_error_t *dray_push_image(dray_push_image_result_t *result,
                              const dray_pusher_t *pusher,
                              const dray_image_t *image,
                              apr_file_t *log,
                              dray_cancel_t *cancel,
                              dray_push_progress_fn progress,
                              void *progress_baton,
                              apr_pool_t *result_pool,
                              apr_pool_t *scratch_pool);

/* Find "<tag>: digest: sha256:<hex> size: N" in LINE; on success returns the
 * digest in RESULT_POOL and sets *SIZE (if SIZE not NULL). */
const char *dray_push_parse_digest_line(const char *line, apr_int64_t *size,
                                        apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PUSH_H */
