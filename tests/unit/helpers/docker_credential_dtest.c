/* docker_credential_dtest.c — the credential helper test_auth runs as
 * "docker-credential-dtest get". A program rather than a script because dray
 * runs helpers as executables (on Windows it does not run .cmd/.bat), so the
 * same test works on both systems.
 *
 * Reads the server key on stdin, appends it as a line to the file named by
 * DRAY_TEST_HELPER_CALLS (if set), and answers per key like a real helper;
 * two keys misbehave: "drip.example" prints a byte every 200 ms (never idle,
 * never done), "gate.example" answers only once the file named by
 * DRAY_TEST_HELPER_GATE exists. Both give up after 20 s, so that a test
 * that fails leaves nothing behind. */
/* MSVC: fopen/getenv are fine here. */
#define _CRT_SECURE_NO_WARNINGS
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

#define GIVE_UP_MS 20000

static void sleep_ms(int ms)
{
#ifdef _WIN32
  Sleep((DWORD)ms);
#else
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
#endif
}

static int file_exists(const char *path)
{
  FILE *f = path ? fopen(path, "r") : NULL;
  if (!f)
    return 0;
  fclose(f);
  return 1;
}

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
  } else if (strcmp(url, "drip.example") == 0) {
    for (int waited = 0; waited < GIVE_UP_MS; waited += 200) {
      putchar('.');
      fflush(stdout);
      sleep_ms(200);
    }
    return 4;
  } else if (strcmp(url, "gate.example") == 0) {
    const char *gate = getenv("DRAY_TEST_HELPER_GATE");
    int waited = 0;
    for (; waited < GIVE_UP_MS && !file_exists(gate); waited += 20)
      sleep_ms(20);
    if (waited >= GIVE_UP_MS)
      return 5;
    printf("{\"ServerURL\":\"%s\",\"Username\":\"bob\",\"Secret\":\"g4te\"}\n", url);
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
