/* error.h — error objects with a message chain (after Subversion's svn_error_t).
 *
 * Deep code never prints and never exits: it returns a dray_error_t that names
 * what failed (image, file and line, HTTP status), wrapping the cause. The top
 * level prints the chain once and decides the exit code.
 */
#ifndef DRAY_ERROR_H
#define DRAY_ERROR_H

#include <apr_general.h>
#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dray's own status codes, in APR's user error space. */
#define DRAY_ERR_BASE        (APR_OS_START_USERERR + 7000)
#define DRAY_ERR_USAGE       (DRAY_ERR_BASE + 1) /* bad command line: exit 2 */
#define DRAY_ERR_INPUT       (DRAY_ERR_BASE + 2) /* bad input files: exit 2 */
#define DRAY_ERR_CHILD       (DRAY_ERR_BASE + 3) /* a child exited non-zero */
#define DRAY_ERR_CANCELLED   (DRAY_ERR_BASE + 4) /* stopped by an interrupt */
#define DRAY_ERR_HTTP        (DRAY_ERR_BASE + 5) /* an HTTP exchange failed */
#define DRAY_ERR_PROTOCOL    (DRAY_ERR_BASE + 6) /* a peer said something we cannot use */
#define DRAY_ERR_AUTH        (DRAY_ERR_BASE + 7) /* credentials refused or missing */
#define DRAY_ERR_STALLED     (DRAY_ERR_BASE + 8) /* no progress for too long */
#define DRAY_ERR_VERIFY      (DRAY_ERR_BASE + 9) /* registry does not serve what we pushed */
#define DRAY_ERR_NOT_FOUND   (DRAY_ERR_BASE + 10)
/* How a transfer failed, as its transport (curl) says: tags in the chain
 * under a DRAY_ERR_HTTP error (they carry no message of their own). */
#define DRAY_ERR_NET_DOWN    (DRAY_ERR_BASE + 11) /* no connection: refused, unreachable, unresolved */
#define DRAY_ERR_NET_RESET   (DRAY_ERR_BASE + 12) /* the connection broke during the exchange */
#define DRAY_ERR_NET_TIMEOUT (DRAY_ERR_BASE + 13) /* the transport's own time limit */

typedef struct dray_error_t {
  apr_status_t apr_err;          /* APR or DRAY_ERR_* code */
  const char *message;           /* this link's message, may be NULL */
  struct dray_error_t *child;    /* the cause, or NULL */
  apr_pool_t *pool;              /* owns the whole chain */
  struct dray_error_t *tail;     /* private to error.c: a link of this chain
                                    at or before its end (NULL: unknown), so
                                    that composing n errors is O(n) */
} dray_error_t;

#define DRAY_NO_ERROR ((dray_error_t *)0)

/* Create a new error with a printf-style message; CHILD (may be NULL) becomes
 * its cause and is owned by the new error afterwards. */
dray_error_t *dray_error_createf(apr_status_t apr_err, dray_error_t *child,
                                 const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

dray_error_t *dray_error_create(apr_status_t apr_err, dray_error_t *child,
                                const char *message);

/* An error for an APR status, with the APR message appended. */
dray_error_t *dray_error_wrap_apr(apr_status_t status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Add context on top of CHILD (which is consumed); keeps CHILD's code. */
dray_error_t *dray_error_quick_wrapf(dray_error_t *child, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Append ERR2 to the end of ERR1's chain (both consumed). Used to collect
 * several independent problems (input errors) into one error. */
dray_error_t *dray_error_compose(dray_error_t *err1, dray_error_t *err2);

/* Whether CODE appears anywhere in the chain. */
int dray_error_has(const dray_error_t *err, apr_status_t code);

/* The whole chain as one string "outer: inner: root", in RESULT_POOL. */
const char *dray_error_format(const dray_error_t *err, apr_pool_t *result_pool);

/* Print every link on its own line, prefixed with PREFIX, to stderr. */
void dray_error_print(const dray_error_t *err, const char *prefix);

void dray_error_clear(dray_error_t *err);

/* Return the error from the enclosing function if EXPR fails. */
#define DRAY_ERR(expr)                       \
  do {                                       \
    dray_error_t *dray__err = (expr);        \
    if (dray__err)                           \
      return dray__err;                      \
  } while (0)

/* Turn an APR status into an error with context; returns from the caller. */
#define DRAY_APR_ERR(expr, ...)                              \
  do {                                                       \
    apr_status_t dray__st = (expr);                          \
    if (dray__st != APR_SUCCESS)                             \
      return dray_error_wrap_apr(dray__st, __VA_ARGS__);     \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif /* DRAY_ERROR_H */
