/* file.h — reading small files whole (compose files, Dockerfiles, .env,
 * --iidfile and --digestfile results), and asking what a path is. */
#ifndef DRAY_FILE_H
#define DRAY_FILE_H

#include <apr_pools.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether PATH is a regular file (after following links). Anything else,
 * and any failure to look (missing, no permission), is 0. */
int dray_file_is_regular(const char *path, apr_pool_t *scratch_pool);

/* Whether PATH is a folder (after following links); 0 otherwise. */
int dray_file_is_dir(const char *path, apr_pool_t *scratch_pool);

/* Read PATH into *TEXT (NUL-terminated, in RESULT_POOL) and *LEN. A folder or
 * other non-regular file is "PATH: not a regular file" (checked before
 * opening: Windows refuses to open a folder at all). With MISSING not NULL, a
 * file that does not exist (also: a path through something that is not a
 * folder) sets *MISSING and is no error. Other failures are
 * "PATH: cannot read[ WHAT]: reason". All errors are DRAY_ERR_INPUT. */
dray_error_t *dray_file_read(char **text, apr_size_t *len, int *missing,
                             const char *path, const char *what,
                             apr_pool_t *result_pool);

/* The first line of PATH without surrounding white space, or NULL when it
 * cannot be read or is empty. */
const char *dray_file_read_line(const char *path, apr_pool_t *result_pool);

/* Check, before anything is written, that dray may write PATH (the log
 * folder with WANT_DIR, the report without): PATH itself, if it exists, is
 * not a symbolic link, is a folder (WANT_DIR) or a regular file, and belongs
 * to the user running dray; so is every folder on a relative PATH (a
 * repository's committed ".dray -> ~" would redirect the default log
 * folder). WHAT names the option in messages ("--log-dir"). Problems are
 * DRAY_ERR_INPUT. */
dray_error_t *dray_file_check_output(const char *path, int want_dir, const char *what,
                                     apr_pool_t *scratch_pool);

/* Write LEN bytes of DATA to PATH as a whole: to a fresh PATH.tmp (a stale
 * one, even a link, is removed, not followed), created owner-only and never
 * through a symbolic link (dray_platform_open_private), then renamed over
 * PATH. WHAT names the file in errors ("report", "JUnit report"). */
dray_error_t *dray_file_write_private(const char *path, const char *data, apr_size_t len,
                                      const char *what, apr_pool_t *scratch_pool);

/* Remove PATH and everything below it, never following a link (a link is
 * removed, not what it points to). Best effort: what cannot be removed
 * stays, for cleanups that have no one to tell. */
void dray_file_remove_tree(const char *path, apr_pool_t *scratch_pool);

/* Caps on what dray reads whole: no real compose file, Dockerfile or .env
 * comes near; a larger one (a 64 GB sparse file) is refused with its name. */
#define DRAY_FILE_MAX_SIZE (16 * 1024 * 1024)

#ifdef __cplusplus
}
#endif
#endif /* DRAY_FILE_H */
