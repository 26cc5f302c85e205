/* ignore.h — which folders discovery passes over: a .drayignore at a PATH
 * root, in gitignore's syntax, after the folders skipped by default.
 *
 * The syntax (gitignore(5)): one pattern a line; blank lines and "#"
 * comments; "!" re-includes what an earlier pattern excluded; a trailing "/"
 * matches folders only; a pattern with a "/" before its end is relative to
 * the root, one without matches a name at any depth; "*", "?" and "[...]"
 * within a name, "**" for any number of folders; "\" escapes. The last
 * pattern that matches decides. node_modules and vendor are skipped unless
 * the file re-includes them ("!vendor/") or a PATH names them.
 */
#ifndef DRAY_IGNORE_H
#define DRAY_IGNORE_H

#include <apr_pools.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_ignore_t dray_ignore_t;

/* The rules of ROOT: the defaults, then ROOT/.drayignore when there is one
 * (a problem reading it is an error naming it). */
dray_error_t *dray_ignore_load(dray_ignore_t **ignore, const char *root,
                               apr_pool_t *result_pool, apr_pool_t *scratch_pool);

/* The rules of TEXT (a .drayignore's lines) after the defaults. */
dray_ignore_t *dray_ignore_parse(const char *text, apr_pool_t *result_pool);

/* Whether REL ("a/b", relative to the root, "/" between names) is passed
 * over; IS_DIR: it is a folder. */
int dray_ignore_match(const dray_ignore_t *ignore, const char *rel, int is_dir,
                      apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_IGNORE_H */
