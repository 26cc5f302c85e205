/* docker_credential_dtest.c — the credential helper test_auth runs as
 * "docker-credential-dtest get". A program rather than a script because dray
 * runs helpers as executables (on Windows it does not run .cmd/.bat), so the
 * same test works on both systems.
 *
 * Reads the server key on stdin, appends it as a line to the file named by
 * DRAY_TEST_HELPER_CALLS (if set), and answers per key like a real helper. */
/* MSVC: fopen/getenv are fine here. */
#define _CRT_SECURE_NO_WARNINGS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
  char url[512];
  size_t n = fread(url, 1, sizeof(url) - 1, stdin);
  const char *calls = getenv("DRAY_TEST_HELPER_CALLS");

  url[n] = '\0';
  while (n > 0 && (url[n - 1] == '\n' || url[n - 1] == '\r'))
    url[--n] = '\0';
  if (argc != 2 || strcmp(argv[1], "get") != 0) {
    fprintf(stderr, "usage: docker-credential-dtest get\n");
    return 2;
  }
  if (calls) {
    FILE *f = fopen(calls, "a");
    if (f) {
      fprintf(f, "%s\n", url);
      fclose(f);
    }
  }
  if (strcmp(url, "reg.example:5000") == 0) {
    printf("{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}\n", url);
  } else if (strcmp(url, "tok.example") == 0) {
    fprintf(stderr, "warning on the shared pipe\n");
    fflush(stderr);
    printf("{\"ServerURL\":\"%s\",\"Username\":\"<token>\",\"Secret\":\"tok123\"}", url);
  } else if (strcmp(url, "fail.example") == 0) {
    printf("boom s3cret\n");
    return 3;
  } else if (strcmp(url, "junk.example") == 0) {
    printf("not json s3cret\n");
  } else {
    printf("credentials not found in native keychain\n");
    return 1;
  }
  return 0;
}
