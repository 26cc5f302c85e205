/* runtmp.h — the run's private folder for temporary files.
 *
 * A dray process puts its temporary files (the registry driver's spills:
 * imageread.h) in one folder of its own, "dray-run-XXXXXXXXXXXX" in the
 * temporary folder (TMPDIR; TEMP on Windows), made owner-only when the
 * first file is needed and removed with its pool. A dray that never gets
 * there (killed with SIGKILL, a power cut) leaves the folder behind; so the
 * folder holds a file "lock", locked (apr_file_lock, exclusive) for the
 * owner's whole life, and the system drops that lock when the owner ends
 * however it ends. Before making its own folder, a run sweeps: every other
 * run folder of this user whose lock it can take at once belongs to a dead
 * run, and is removed. Folders of live runs, of other users, links and
 * anything else are left alone.
 *
 * The lock marks its owner by what it holds: the owner writes a line into
 * the lock file once it holds the lock. A sweep that takes the lock of an
 * empty file leaves that folder (its owner may be between creating the file
 * and locking it), so a run killed in that instant leaves a folder no one
 * removes: a few bytes, against never removing a live run's files.
 *
 * One per process: apr_file_lock is flock() or LockFileEx here, both per
 * open file, so a sweep leaves this process's own other folders alone too;
 * where APR locks with fcntl() (per process) it would not.
 */
#ifndef DRAY_RUNTMP_H
#define DRAY_RUNTMP_H

#include <apr_pools.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run folders are named this and 12 hex digits. */
#define DRAY_RUNTMP_PREFIX "dray-run-"

/* Inside a run folder: the file its owner keeps locked. */
#define DRAY_RUNTMP_LOCK_NAME "lock"

typedef struct dray_runtmp_t dray_runtmp_t;

/* A run folder to be made in PARENT (NULL: the temporary folder) when
 * dray_runtmp_path first asks for it, and removed, with what is in it, when
 * RESULT_POOL is destroyed. Nothing is made or swept yet. */
dray_error_t *dray_runtmp_create(dray_runtmp_t **runtmp, const char *parent,
                                 apr_pool_t *result_pool);

/* The run folder's path (valid as long as RUNTMP), made now if this is the
 * first call, after the sweep of PARENT. Thread-safe. After an error (no
 * temporary folder, no room) nothing is left made: the next call tries
 * again. */
dray_error_t *dray_runtmp_path(const char **path, dray_runtmp_t *runtmp);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_RUNTMP_H */
