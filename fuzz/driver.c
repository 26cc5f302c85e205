/* driver.c — a plain main for the fuzz harnesses, in every build: runs
 * LLVMFuzzerTestOneInput once on each file named, or on each file in each
 * folder named (not recursive). ctest runs it over the kept crash inputs
 * (fuzz/regress/NAME) and the seed corpus (fuzz/corpus/NAME), so an input
 * that once crashed a parser is tried again on every build, with or without
 * clang. Exit 0 when every input returned; a crash is the failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"

static int run_file(const char *path, apr_pool_t *pool)
{
  apr_file_t *f;
  apr_finfo_t fi;
  char *buf;
  apr_size_t len;

  if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_FPROT_OS_DEFAULT, pool)
          != APR_SUCCESS
      || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
    fprintf(stderr, "driver: cannot read %s\n", path);
    return 1;
  }
  len = (apr_size_t)fi.size;
  buf = malloc(len ? len : 1); /* exactly LEN bytes: ASan sees any overread */
  if (!buf || apr_file_read_full(f, buf, len, &len) != APR_SUCCESS) {
    fprintf(stderr, "driver: cannot read %s\n", path);
    free(buf);
    apr_file_close(f);
    return 1;
  }
  apr_file_close(f);
  LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
  free(buf);
  return 0;
}

int main(int argc, char **argv)
{
  apr_pool_t *pool;
  int i, n = 0, bad = 0;

  apr_initialize();
  apr_pool_create(&pool, NULL);
  for (i = 1; i < argc; i++) {
    apr_dir_t *dir;
    apr_finfo_t fi;
    if (apr_dir_open(&dir, argv[i], pool) != APR_SUCCESS) {
      bad |= run_file(argv[i], pool);
      n++;
      continue;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS) {
      if (fi.filetype != APR_REG || fi.name[0] == '.')
        continue;
      bad |= run_file(apr_pstrcat(pool, argv[i], "/", fi.name, NULL), pool);
      n++;
    }
    apr_dir_close(dir);
  }
  printf("%d inputs run\n", n);
  apr_terminate();
  return bad || n == 0;
}
