/* fake_push_client.c — plays "docker push" for test_push's CLI driver cases:
 * prints $FAKE_PUSH_OUTPUT ('|' separates lines) and exits with
 * $FAKE_PUSH_EXIT. A program rather than a script so that the same test
 * runs on Windows. A fake client, because the test is of how dray reads a
 * client's words, not of docker. */
#define _CRT_SECURE_NO_WARNINGS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
  const char *out = getenv("FAKE_PUSH_OUTPUT");
  const char *code = getenv("FAKE_PUSH_EXIT");
  if (argc < 3 || strcmp(argv[1], "push") != 0) {
    fprintf(stderr, "usage: fake_push_client push REF\n");
    return 2;
  }
  for (; out && *out; out++)
    putchar(*out == '|' ? '\n' : *out);
  putchar('\n');
  fflush(stdout);
  return code ? atoi(code) : 0;
}
