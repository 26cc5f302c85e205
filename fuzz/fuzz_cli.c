/* fuzz_cli.c — the command line: the input split on NUL bytes into argv
 * (after "dray"). */
#include "fuzz.h"

#include "dray/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  char *text = dray_fuzz_text(data, size, pool);
  const char **argv = apr_palloc(pool, sizeof(*argv) * (size + 3));
  int argc = 0;
  size_t i, start = 0;
  dray_cli_t *cli = NULL;
  dray_error_t *err;

  argv[argc++] = "dray";
  for (i = 0; i <= size; i++)
    if (i == size || text[i] == '\0') {
      if (i > start || i < size)
        argv[argc++] = text + start;
      start = i + 1;
    }
  argv[argc] = NULL;
  err = dray_cli_parse(&cli, argc, argv, pool);
  dray_error_clear(err);
  apr_pool_destroy(pool);
  return 0;
}
