/* file.c — small files read whole. */
#include "dray/file.h"

#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "dray/platform.h"
#include "dray/pools.h"

int dray_file_is_regular(const char *path, apr_pool_t *scratch_pool)
{
  apr_finfo_t finfo;
  return apr_stat(&finfo, path, APR_FINFO_TYPE, scratch_pool) == APR_SUCCESS
         && finfo.filetype == APR_REG;
}

int dray_file_is_dir(const char *path, apr_pool_t *scratch_pool)
{
  apr_finfo_t finfo;
  return apr_stat(&finfo, path, APR_FINFO_TYPE, scratch_pool) == APR_SUCCESS
         && finfo.filetype == APR_DIR;
}

dray_error_t *dray_file_read(char **text, apr_size_t *len, int *missing,
                             const char *path, const char *what,
                             apr_pool_t *result_pool)
{
  apr_file_t *file;
  apr_finfo_t finfo;
  apr_status_t status;
  char errbuf[256];

  *text = NULL;
  *len = 0;
  if (missing)
    *missing = 0;
  status = apr_stat(&finfo, path, APR_FINFO_TYPE, result_pool);
  if (status == APR_SUCCESS && finfo.filetype != APR_REG)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: not a regular file", path);
  if (status == APR_SUCCESS)
    status = apr_file_open(&file, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                           APR_FPROT_OS_DEFAULT, result_pool);
  if (status == APR_SUCCESS) {
    status = apr_file_info_get(&finfo, APR_FINFO_SIZE, file);
    if (status == APR_SUCCESS && finfo.size > DRAY_FILE_MAX_SIZE) {
      apr_file_close(file);
      return dray_error_createf(DRAY_ERR_INPUT, NULL,
                                "%s: too large to be a%s%s (%" APR_OFF_T_FMT " bytes; at most "
                                "%d MiB)", path, what ? " " : " file", what ? what : "",
                                finfo.size, DRAY_FILE_MAX_SIZE / (1024 * 1024));
    }
    if (status == APR_SUCCESS) {
      *len = (apr_size_t)finfo.size;
      *text = apr_palloc(result_pool, *len + 1);
      status = apr_file_read_full(file, *text, *len, len);
      if (status == APR_EOF)
        status = APR_SUCCESS;
      (*text)[*len] = '\0';
    }
    apr_file_close(file);
  }
  if (status == APR_SUCCESS)
    return DRAY_NO_ERROR;
  *text = NULL;
  *len = 0;
  if (missing && (APR_STATUS_IS_ENOENT(status) || APR_STATUS_IS_ENOTDIR(status))) {
    *missing = 1;
    return DRAY_NO_ERROR;
  }
  return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: cannot read%s%s: %s", path,
                            what ? " " : "", what ? what : "",
                            apr_strerror(status, errbuf, sizeof(errbuf)));
}

const char *dray_file_read_line(const char *path, apr_pool_t *result_pool)
{
  char *text, *start, *end;
  apr_size_t len;
  dray_error_t *err = dray_file_read(&text, &len, NULL, path, NULL, result_pool);

  if (err) {
    dray_error_clear(err);
    return NULL;
  }
  for (start = text; *start == ' ' || *start == '\t' || *start == '\r' || *start == '\n'; start++)
    ;
  for (end = start; *end && *end != '\n' && *end != '\r'; end++)
    ;
  while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  *end = '\0';
  return *start ? start : NULL;
}

/* One component's verdict: COMPONENT is PATH itself (FINAL) or one of its
 * folders. */
static dray_error_t *check_one(const char *path, const char *component, int final,
                               int want_dir, const char *what, int *missing,
                               apr_pool_t *scratch_pool)
{
  dray_path_kind_t kind;
  int mine;
  apr_status_t st = dray_platform_path_kind(&kind, &mine, component, scratch_pool);
  const char *subject = final ? "" : apr_pstrcat(scratch_pool, " ", component, NULL);

  *missing = 0;
  if (st != APR_SUCCESS)
    return dray_error_wrap_apr(st, "%s %s: cannot look at %s", what, path, component);
  if (kind == DRAY_PATH_MISSING) {
    *missing = 1;
    return DRAY_NO_ERROR;
  }
  if (kind == DRAY_PATH_LINK)
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "%s %s:%s is a symbolic link; dray writes logs and reports "
                              "only where no link leads (remove it or choose another path)",
                              what, path, subject);
  if (!final && kind != DRAY_PATH_DIR)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s %s:%s is not a folder", what, path,
                              subject);
  if (final && want_dir && kind != DRAY_PATH_DIR)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s %s: not a folder", what, path);
  if (final && !want_dir && kind != DRAY_PATH_FILE)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s %s: not a regular file", what, path);
  if (!mine)
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "%s %s:%s belongs to another user; dray writes only in "
                              "folders and files of its own user", what, path, subject);
  return DRAY_NO_ERROR;
}

dray_error_t *dray_file_check_output(const char *path, int want_dir, const char *what,
                                     apr_pool_t *scratch_pool)
{
  const char *root, *rest = path;
  int missing = 0;

  /* Every folder of a relative path, from the current folder down: the
   * part a repository can shape. An absolute path is the user's choice. */
  if (apr_filepath_root(&root, &rest, 0, scratch_pool) == APR_ERELATIVE) {
    apr_size_t i, len = strlen(path);
    for (i = 1; i < len; i++) {
      if ((path[i] == '/' || path[i] == '\\') && path[i - 1] != '/' && path[i - 1] != '\\') {
        DRAY_ERR(check_one(path, apr_pstrmemdup(scratch_pool, path, i), 0, want_dir, what,
                           &missing, scratch_pool));
        if (missing)
          return DRAY_NO_ERROR;
      }
    }
  }
  return check_one(path, path, 1, want_dir, what, &missing, scratch_pool);
}

dray_error_t *dray_file_write_private(const char *path, const char *data, apr_size_t len,
                                      const char *what, apr_pool_t *scratch_pool)
{
  const char *tmp = apr_pstrcat(scratch_pool, path, ".tmp", NULL);
  apr_file_t *f;
  apr_status_t st;

  /* A fresh temp file, never through a link (a stale PATH.tmp, even a link
   * a repository committed, is removed, not followed), owner-only: reports
   * hold build arguments and log tails. rename() replaces PATH itself. */
  st = apr_file_remove(tmp, scratch_pool);
  if (st == APR_SUCCESS || APR_STATUS_IS_ENOENT(st))
    st = dray_platform_open_private(&f, tmp, APR_FOPEN_EXCL, scratch_pool);
  if (st == APR_SUCCESS) {
    st = apr_file_write_full(f, data, len, NULL);
    if (st == APR_SUCCESS)
      st = apr_file_close(f);
    else
      apr_file_close(f);
  }
  if (st != APR_SUCCESS)
    return dray_error_wrap_apr(st, "cannot write %s %s", what, tmp);
  st = apr_file_rename(tmp, path, scratch_pool);
  if (st != APR_SUCCESS)
    return dray_error_wrap_apr(st, "cannot write %s %s", what, path);
  return DRAY_NO_ERROR;
}

/* Whether PATH itself is a folder (a link to one is not). */
static int is_dir_itself(const char *path, apr_pool_t *scratch_pool)
{
  dray_path_kind_t kind;
  int mine;
  return dray_platform_path_kind(&kind, &mine, path, scratch_pool) == APR_SUCCESS
         && kind == DRAY_PATH_DIR;
}

void dray_file_remove_tree(const char *path, apr_pool_t *scratch_pool)
{
  apr_pool_t *iterpool = dray_pool_create_sub(scratch_pool);
  apr_dir_t *dir;
  apr_finfo_t fi;
  apr_status_t rv;

  if (apr_dir_open(&dir, path, iterpool) == APR_SUCCESS) {
    /* APR_INCOMPLETE is an entry too (APR_FINFO_NAME is always there). */
    while ((rv = apr_dir_read(&fi, APR_FINFO_NAME, dir)) == APR_SUCCESS || rv == APR_INCOMPLETE) {
      const char *child;
      if (!fi.name || strcmp(fi.name, ".") == 0 || strcmp(fi.name, "..") == 0)
        continue;
      child = apr_pstrcat(iterpool, path, "/", fi.name, NULL);
      if (is_dir_itself(child, iterpool))
        dray_file_remove_tree(child, iterpool);
      else
        apr_file_remove(child, iterpool);
    }
    apr_dir_close(dir);
  }
  apr_dir_remove(path, iterpool);
  apr_pool_destroy(iterpool);
}
