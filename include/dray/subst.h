/* subst.h — "${VAR}" substitution, shared by compose interpolation and
 * Dockerfile ARG expansion.
 *
 * Both callers understand:
 *   $NAME  ${NAME}                 the value, or "" when unset
 *   ${NAME:-word}  ${NAME-word}    word when NAME is unset (":": or empty)
 *   ${NAME:+word}  ${NAME+word}    word when NAME is set (":": and not empty)
 *   ${NAME:?word}  ${NAME?word}    an error (DRAY_SUBST_REQUIRED) when unset
 * NAME is [A-Za-z_][A-Za-z0-9_]*; word may nest further substitutions, up
 * to DRAY_SUBST_MAX_DEPTH deep. A "$" not followed by a name or "{" is kept.
 * What differs is chosen with flags: "$$" (compose) and the shell's quotes
 * and escape character (Dockerfile, after BuildKit's shell lexer).
 */
#ifndef DRAY_SUBST_H
#define DRAY_SUBST_H

#include <apr_pools.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Nesting of "${NAME:-${…}}" beyond this is an error, not a deep recursion. */
#define DRAY_SUBST_MAX_DEPTH 32

/* "$$" is a literal "$" (compose files). */
#define DRAY_SUBST_DOLLAR_DOLLAR 0x1
/* Shell words (Dockerfiles): quotes are removed ('…' literal, "…" expanded)
 * and the escape character makes the next character literal. */
#define DRAY_SUBST_SHELL_WORDS 0x2

/* The value of NAME (NUL-terminated), or NULL when it is not set. Anything
 * allocated goes in SCRATCH_POOL. */
typedef const char *(*dray_subst_lookup_fn)(void *baton, const char *name,
                                            apr_pool_t *scratch_pool);

typedef struct dray_subst_options_t {
  unsigned flags;              /* DRAY_SUBST_* */
  char escape;                 /* with DRAY_SUBST_SHELL_WORDS: '\\' or '`' */
  dray_subst_lookup_fn lookup;
  void *baton;
} dray_subst_options_t;

typedef enum dray_subst_problem_t {
  DRAY_SUBST_OK = 0,
  DRAY_SUBST_NO_NAME,          /* "${" without a valid name: "${}", "${1x}" */
  DRAY_SUBST_UNTERMINATED,     /* "${NAME" or "${NAME:-word" without "}" */
  DRAY_SUBST_BAD_OPERATOR,     /* "${NAME%x}", "${NAME:}" */
  DRAY_SUBST_REQUIRED,         /* "${NAME?word}" with NAME unset */
  DRAY_SUBST_TOO_DEEP          /* nested deeper than DRAY_SUBST_MAX_DEPTH */
} dray_subst_problem_t;

/* What went wrong, for callers that word their own messages. */
typedef struct dray_subst_failure_t {
  dray_subst_problem_t problem;
  const char *name;            /* the variable, when one was read, else NULL */
  char op;                     /* '-', '+' or '?' when one was read, else 0 */
  int colon;                   /* a ":" came before the operator */
  const char *word;            /* DRAY_SUBST_REQUIRED: the expanded word */
} dray_subst_failure_t;

/* The length of the variable name that starts S[0..LEN), 0 if none. */
apr_size_t dray_subst_name_len(const char *s, apr_size_t len);

/* Expand S[0..LEN) into *RESULT (NUL-terminated, in RESULT_POOL). Time and
 * memory are linear in LEN plus the values inserted. On failure returns a
 * DRAY_ERR_INPUT error with a short reason ('bad substitution: missing "}"',
 * "NAME: word", …) and, if FAILURE is not NULL, fills it (in RESULT_POOL). */
dray_error_t *dray_subst_expand(const char **result,
                                dray_subst_failure_t *failure,
                                const char *s, apr_size_t len,
                                const dray_subst_options_t *opts,
                                apr_pool_t *result_pool,
                                apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_SUBST_H */
