/* upload.h — putting blobs and manifests into a registry over the OCI
 * distribution API, in a way that a hung or cut connection cannot stop.
 *
 * A blob: HEAD first (the registry may have it); a cross-repository mount
 * when the caller knows a repository of the same registry holding it (a
 * refused mount, 202, becomes the upload session); otherwise POST an upload
 * session, PATCH the bytes in chunks with Content-Range, PUT ?digest=. When
 * a request fails midway (reset, no progress for the stall timeout, 5xx,
 * 416), the session's offset is asked (GET on the upload URL: Range) and
 * the upload goes on from there, reading the source again from that offset;
 * a session the registry no longer knows (404) is started again. Every
 * request has a connect timeout and a no-progress watchdog (the stall
 * timeout), so nothing waits forever and nothing already sent is sent again.
 *
 * How long an upload keeps trying: while it makes progress. Progress is
 * getting further than the upload ever got: a step done for the first time
 * (authorized, HEAD answered, a session opened) or bytes the registry
 * confirms beyond any it confirmed before (going round again, a restarted
 * session or fresh authorization, is none). A failed request is tried
 * again, with backoff, while the failures since the last progress (the
 * streak) are fewer than DRAY_RETRY_STREAK (backoff.h: 3) and the streak
 * has lasted less than the stall timeout (dray_streak_again: the one rule,
 * also the registry client's). Then the upload fails with the last
 * request's error, the push attempt ends with its outcome (network, reset,
 * stalled, server-error, ...), and the scheduler's policy (--retries)
 * decides the rest. So: nothing listening or every connection reset ends
 * an attempt within a second or two; a registry that hangs every request,
 * after two stall timeouts; a flaky registry is carried through its
 * failures as long as each short streak ends in progress. The authorize
 * callback is one of the upload's requests: it must not retry itself
 * (dray_registry_push_auth does not).
 */
#ifndef DRAY_UPLOAD_H
#define DRAY_UPLOAD_H

#include <apr_file_io.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "dray/cancel.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Small enough that a cut-off chunk costs little, large enough that the
 * per-request cost does not show. */
#define DRAY_UPLOAD_CHUNK (8 * 1024 * 1024)
/* The watchdog when the caller has no stall timeout. */
#define DRAY_UPLOAD_STALL_SEC 30

/* Where a blob's bytes come from: any offset, any number of times. */
typedef struct dray_blob_source_t {
  /* Start (again) at byte OFFSET; what it opens lives in POOL. */
  dray_error_t *(*open)(void *baton, apr_int64_t offset, apr_pool_t *pool);
  /* Up to LEN bytes into BUF; *GOT 0 at the end. */
  dray_error_t *(*read)(void *baton, char *buf, apr_size_t len, apr_size_t *got);
  void *baton;
} dray_blob_source_t;

/* A blob source over bytes in memory (a config). */
void dray_blob_source_memory(dray_blob_source_t *source, const char *data, apr_size_t len,
                             apr_pool_t *result_pool);

/* One repository of one registry, as the uploads see it. */
typedef struct dray_upload_target_t {
  const char *base_url;       /* "https://host[:port]" */
  const char *repo;           /* "library/x" */
  /* Sets *AUTHORIZATION (an Authorization header value, a secret: never
   * logged; NULL: none needed) for the requests that follow, in
   * RESULT_POOL. Called before the first request, and again after a 401
   * with REFUSED set (what it gave was refused: nothing cached may be
   * given again) and CHALLENGE the 401's WWW-Authenticate values, one a
   * line (NULL: none); it is one request of the upload's: one try, its
   * failures in the upload's streak. NULL: no authorization. */
  dray_error_t *(*authorize)(void *baton, int refused, const char *challenge,
                             const char **authorization, apr_pool_t *result_pool);
  void *authorize_baton;
  dray_cancel_t *cancel;      /* or NULL */
  int stall_timeout;          /* seconds without progress per request; 0: DRAY_UPLOAD_STALL_SEC */
  apr_int64_t chunk_size;     /* bytes per PATCH; 0: DRAY_UPLOAD_CHUNK */
  int failures;               /* failed requests in a row that end the upload
                                 (the streak's limit); 0: DRAY_RETRY_STREAK */
  apr_interval_time_t retry_base; /* first backoff; 0: 250 ms */
  apr_file_t *log;            /* each request is noted here, or NULL */
  volatile apr_uint64_t *sent; /* blob bytes handed to requests are added here
                                  (atomically: several uploads may share it), or NULL */
  volatile apr_uint32_t *retries; /* each request tried again adds one here
                                     (atomically), or NULL */
} dray_upload_target_t;

typedef enum dray_upload_how_t {
  DRAY_UPLOAD_EXISTED = 0,    /* the registry had it in this repository */
  DRAY_UPLOAD_MOUNTED,        /* mounted from another repository */
  DRAY_UPLOAD_SENT            /* its bytes were sent */
} dray_upload_how_t;

typedef struct dray_upload_stats_t {
  dray_upload_how_t how;
  apr_int64_t bytes_sent;     /* request body bytes that left, resent ones included */
  int resumes;                /* times the upload went on from the registry's offset */
  apr_int64_t bytes_saved;    /* bytes those resumes did not send again */
  int restarts;               /* sessions the registry forgot, started again */
  int mount_refused;          /* a mount was asked for and refused */
  int retries;                /* requests tried again */
  long http_status;           /* the last failing answer's status, or 0 */
  apr_interval_time_t retry_after; /* its Retry-After, or 0 */
} dray_upload_stats_t;

/* Make the registry hold blob DIGEST of SIZE bytes in T's repository,
 * mounting it from repository MOUNT_FROM (or NULL) when it can, reading
 * SOURCE otherwise. STATS (zeroed here) says how. A failure is an error
 * naming the blob and the registry: DRAY_ERR_STALLED, DRAY_ERR_HTTP (with
 * STATS->http_status), DRAY_ERR_AUTH, DRAY_ERR_CANCELLED, DRAY_ERR_PROTOCOL
 * (the registry computed another digest), or the source's. */
dray_error_t *dray_upload_blob(dray_upload_stats_t *stats,
                               const dray_upload_target_t *t,
                               const char *digest,
                               apr_int64_t size,
                               const char *mount_from,
                               const dray_blob_source_t *source,
                               apr_pool_t *scratch_pool);

/* PUT manifest BODY (LEN bytes, MEDIA_TYPE, digest DIGEST) as TAG. The
 * registry's Docker-Content-Digest, when it sends one, must be DIGEST. */
dray_error_t *dray_upload_manifest(dray_upload_stats_t *stats,
                                   const dray_upload_target_t *t,
                                   const char *tag,
                                   const char *media_type,
                                   const char *body,
                                   apr_size_t len,
                                   const char *digest,
                                   apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_UPLOAD_H */
