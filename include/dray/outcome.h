/* outcome.h — why an attempt (or a job) ended, as a type.
 *
 * Every module talks about the end of a build or a push in this enum; words
 * exist only at the edges (report, events, view) and come from one table
 * (after Subversion's svn_token.h). Whether an outcome is worth another
 * attempt is a property of the outcome, written once in that table; the
 * scheduler decides by the enum, never by a message.
 *
 * The classifiers turn what a peer said (an HTTP status, an engine's or a
 * registry's message, a dray_error_t chain) into an outcome. Both push
 * drivers call them, so the same message gives the same outcome whichever
 * driver saw it.
 */
#ifndef DRAY_OUTCOME_H
#define DRAY_OUTCOME_H

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_outcome_t {
  DRAY_OUTCOME_OK = 0,
  DRAY_OUTCOME_EXIT,          /* a child exited non-zero; nothing more specific known */
  DRAY_OUTCOME_STALLED,       /* no progress for --stall-timeout */
  DRAY_OUTCOME_RESET,         /* a connection was reset or cut mid-exchange */
  DRAY_OUTCOME_NETWORK,       /* no connection: refused, unreachable, DNS, timeout */
  DRAY_OUTCOME_SERVER_ERROR,  /* HTTP 5xx */
  DRAY_OUTCOME_RATE_LIMITED,  /* HTTP 429, toomanyrequests */
  DRAY_OUTCOME_AUTH,          /* credentials missing or refused (401, 403, denied) */
  DRAY_OUTCOME_NOT_FOUND,     /* the image or repository does not exist */
  DRAY_OUTCOME_REJECTED,      /* the request itself is wrong (other 4xx, bad reference) */
  DRAY_OUTCOME_PROTOCOL,      /* a peer answered something dray cannot use */
  DRAY_OUTCOME_VERIFY,        /* the registry does not serve what the push reported */
  DRAY_OUTCOME_CANCELLED,     /* stopped by a cancel (second Ctrl+C) */
  DRAY_OUTCOME_INTERRUPTED,   /* not started, or not finished, because of Ctrl+C */
  DRAY_OUTCOME_DEPENDENCY,    /* not built: an image it is built FROM failed */
  DRAY_OUTCOME_NOT_STARTED,   /* could not start: no such program, no log file */
  DRAY_OUTCOME_COUNT          /* not an outcome: the number of them */
} dray_outcome_t;

/* The word for OUTCOME ("ok", "stalled", "rate-limited", ...): static. */
const char *dray_outcome_word(dray_outcome_t outcome);

/* The outcome for WORD, or -1 if it names none. */
int dray_outcome_from_word(const char *word);

/* Whether another attempt may end differently. */
int dray_outcome_retryable(dray_outcome_t outcome);

/* An HTTP status: 2xx ok, 401/403 auth, 404 not-found, 429 rate-limited,
 * 5xx server-error, other 4xx rejected, anything else protocol. */
dray_outcome_t dray_outcome_from_http_status(long status);

/* A peer's message text (an engine's errorDetail, the last line of
 * "docker push", a registry's error body): the outcome its words name, or
 * FALLBACK when they name none. Matching ignores ASCII case. */
dray_outcome_t dray_outcome_from_message(const char *message, dray_outcome_t fallback);

/* A dray_error_t chain: by its codes (cancelled, auth, stalled, verify,
 * not found, a child's exit), else by HTTP_STATUS when not 0, else by the
 * codes of dray's own transport (DRAY_ERR_NET_*: reset, down, timeout),
 * else by the chain's text (what an engine or a CLI said), else FALLBACK. */
dray_outcome_t dray_outcome_from_error(const dray_error_t *err, long http_status,
                                       dray_outcome_t fallback, apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_OUTCOME_H */
