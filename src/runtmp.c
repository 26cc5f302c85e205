/* runtmp.c — one private folder per run, locked while the run lives; the
 * folders of dead runs swept. */
#include "dray/runtmp.h"

#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "dray/file.h"
#include "dray/platform.h"
#include "dray/pools.h"

/* What the owner writes into its lock file once it holds the lock. */
#define OWNER_MARK "dray run\n"

/* Names tried before giving up (each a fresh 48-bit random name). */
#define NAME_TRIES 16

struct dray_runtmp_t {
  const char *parent;         /* as asked; NULL: the temporary folder */
  /* Everything below only under LOCK: spills are made from several
   * threads. POOL has an allocator of its own, so that using it there
   * never races the creator's pool. */
  apr_thread_mutex_t *lock;
  apr_pool_t *pool;
  const char *path;           /* the folder; NULL: not made yet */
  apr_file_t *lock_file;      /* open and locked while PATH exists */
};

/* Whether PATH itself (not a link's target) is a KIND owned by this user. */
static int is_mine(const char *path, dray_path_kind_t kind, apr_pool_t *scratch_pool)
{
  dray_path_kind_t is;
  int mine;
  return dray_platform_path_kind(&is, &mine, path, scratch_pool) == APR_SUCCESS && is == kind
         && mine;
}

/* Remove the run folder PATH if its run has ended: its lock file, with an
 * owner's mark, can be locked now. */
static void sweep_one(const char *path, apr_pool_t *scratch_pool)
{
  const char *lock_path = apr_pstrcat(scratch_pool, path, "/", DRAY_RUNTMP_LOCK_NAME, NULL);
  apr_file_t *f;
  apr_finfo_t fi;

  if (!is_mine(path, DRAY_PATH_DIR, scratch_pool)
      || !is_mine(lock_path, DRAY_PATH_FILE, scratch_pool)
      || apr_file_open(&f, lock_path, APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_BINARY,
                       APR_FPROT_OS_DEFAULT, scratch_pool) != APR_SUCCESS)
    return;
  if (apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK) != APR_SUCCESS) {
    apr_file_close(f); /* a live run's */
    return;
  }
  if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size == 0) {
    apr_file_close(f); /* no mark: its owner may be about to lock it */
    return;
  }
  /* A dead run's: a lock dies only with its run, and no run takes over
   * another's folder. Let go before the rest goes (Windows removes no
   * open file); a sweep of another dray racing this one removes the same
   * files, no others. */
  apr_file_close(f);
  dray_file_remove_tree(path, scratch_pool);
}

/* Remove the folders of dead runs from PARENT. */
static void sweep(const char *parent, apr_pool_t *scratch_pool)
{
  apr_pool_t *iterpool = dray_pool_create_sub(scratch_pool);
  apr_dir_t *dir;
  apr_finfo_t fi;
  apr_status_t rv;
  apr_size_t plen = strlen(DRAY_RUNTMP_PREFIX);

  if (apr_dir_open(&dir, parent, scratch_pool) != APR_SUCCESS) {
    apr_pool_destroy(iterpool);
    return;
  }
  while ((rv = apr_dir_read(&fi, APR_FINFO_NAME, dir)) == APR_SUCCESS || rv == APR_INCOMPLETE) {
    if (!fi.name || strncmp(fi.name, DRAY_RUNTMP_PREFIX, plen) != 0)
      continue;
    apr_pool_clear(iterpool);
    sweep_one(apr_pstrcat(iterpool, parent, "/", fi.name, NULL), iterpool);
  }
  apr_dir_close(dir);
  apr_pool_destroy(iterpool);
}

/* The pool's end: the lock let go (first: Windows removes no open file),
 * then the folder and what is left in it. */
static apr_status_t runtmp_remove(void *baton)
{
  dray_runtmp_t *rt = baton;
  if (!rt->path)
    return APR_SUCCESS;
  apr_file_close(rt->lock_file);
  rt->lock_file = NULL;
  dray_file_remove_tree(rt->path, rt->pool);
  rt->path = NULL;
  return APR_SUCCESS;
}

/* A new, empty, owner-only folder in PARENT with a random name. */
static dray_error_t *make_folder(const char **path, const char *parent, apr_pool_t *pool)
{
  int i;
  for (i = 0; i < NAME_TRIES; i++) {
    unsigned char r[6];
    const char *p;
    apr_status_t rv = apr_generate_random_bytes(r, sizeof(r));
    if (rv)
      return dray_error_wrap_apr(rv, "cannot name a temporary folder");
    p = apr_psprintf(pool, "%s/" DRAY_RUNTMP_PREFIX "%02x%02x%02x%02x%02x%02x", parent, r[0],
                     r[1], r[2], r[3], r[4], r[5]);
    rv = apr_dir_make(p, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE, pool);
    if (rv == APR_SUCCESS) {
      *path = p;
      return DRAY_NO_ERROR;
    }
    if (!APR_STATUS_IS_EEXIST(rv))
      return dray_error_wrap_apr(rv, "cannot create a temporary folder in %s", parent);
  }
  return dray_error_createf(APR_EEXIST, NULL, "cannot create a temporary folder in %s: every "
                            "name tried exists", parent);
}

/* Make the run folder and take its lock: under RT->LOCK. */
static dray_error_t *make_run_folder(dray_runtmp_t *rt)
{
  const char *parent = rt->parent, *path = NULL, *lock_path;
  apr_pool_t *scratch = dray_pool_create_sub(rt->pool);
  apr_file_t *f = NULL;
  dray_error_t *err;
  apr_status_t rv;

  if (!parent && (rv = apr_temp_dir_get(&parent, scratch)) != APR_SUCCESS) {
    apr_pool_destroy(scratch);
    return dray_error_create(rv, NULL, "no folder for temporary files (set TMPDIR)");
  }
  sweep(parent, scratch);
  if ((err = make_folder(&path, parent, rt->pool)) != DRAY_NO_ERROR) {
    apr_pool_destroy(scratch);
    return err;
  }
  lock_path = apr_pstrcat(scratch, path, "/", DRAY_RUNTMP_LOCK_NAME, NULL);
  rv = dray_platform_open_private(&f, lock_path, APR_FOPEN_EXCL, rt->pool);
  /* Blocking: a sweep holds an unmarked lock only for a moment. */
  if (rv == APR_SUCCESS)
    rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE);
  if (rv == APR_SUCCESS)
    rv = apr_file_write_full(f, OWNER_MARK, strlen(OWNER_MARK), NULL);
  if (rv == APR_SUCCESS)
    rv = apr_file_flush(f);
  if (rv != APR_SUCCESS) {
    err = dray_error_wrap_apr(rv, "cannot lock the temporary folder %s", path);
    if (f)
      apr_file_close(f);
    dray_file_remove_tree(path, scratch);
    apr_pool_destroy(scratch);
    return err;
  }
  apr_pool_destroy(scratch);
  rt->lock_file = f;
  rt->path = path;
  /* Registered after the lock file's own cleanup, so run before it. */
  apr_pool_cleanup_register(rt->pool, rt, runtmp_remove, apr_pool_cleanup_null);
  return DRAY_NO_ERROR;
}

dray_error_t *dray_runtmp_create(dray_runtmp_t **runtmp, const char *parent,
                                 apr_pool_t *result_pool)
{
  dray_runtmp_t *rt = apr_pcalloc(result_pool, sizeof(*rt));
  rt->parent = parent ? apr_pstrdup(result_pool, parent) : NULL;
  DRAY_APR_ERR(dray_pool_create_threadsafe(&rt->pool, result_pool),
               "cannot set up the temporary folder");
  DRAY_APR_ERR(apr_thread_mutex_create(&rt->lock, APR_THREAD_MUTEX_DEFAULT, rt->pool),
               "cannot set up the temporary folder");
  *runtmp = rt;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_runtmp_path(const char **path, dray_runtmp_t *rt)
{
  dray_error_t *err = DRAY_NO_ERROR;
  apr_thread_mutex_lock(rt->lock);
  if (!rt->path)
    err = make_run_folder(rt);
  *path = rt->path;
  apr_thread_mutex_unlock(rt->lock);
  return err;
}
