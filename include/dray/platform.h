/* platform.h — the little that APR does not abstract.
 *
 * Implemented once in unix/platform_unix.c and once in win32/platform_win32.c.
 * Nothing outside those two files may use an OS #ifdef.
 *
 *  - interrupts: Ctrl+C / SIGINT / SIGTERM / SIGHUP (Unix: sigaction;
 *    Windows: SetConsoleCtrlHandler). The callback runs on an ordinary thread, never in
 *    signal context, so it may lock mutexes and push to an apr_queue.
 *  - children: spawned in their own process group (Unix) or process group +
 *    job object (Windows), so that the terminal's Ctrl+C reaches only dray and
 *    dray decides; a whole tree can be interrupted and then killed.
 *  - the console: is it a terminal, how wide, VT escapes on Windows.
 *
 * Every child dray starts goes through dray_platform_spawn (never
 * apr_proc_create, system() or popen()): only it puts the child in its own
 * group / job, so that interrupts and kills reach the whole tree.
 */
#ifndef DRAY_PLATFORM_H
#define DRAY_PLATFORM_H

#include <stdio.h>

#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Set up process-wide state once, before any thread starts: Unix ignores
 * SIGPIPE; Windows puts dray in a kill-on-close Job Object (so every
 * descendant dies with dray, however dray ends) and the console in UTF-8.
 * Problems that are not fatal are returned as a warning text in *WARNING
 * (or NULL). */
apr_status_t dray_platform_init(const char **warning, apr_pool_t *pool);

/* ---- interrupts ---------------------------------------------------------- */

/* What each kind means to a run: INT (and BREAK) drains first, a second one
 * cancels; TERM cancels at once; CLOSE cancels by force at once. */
typedef enum dray_interrupt_kind_t {
  DRAY_INTERRUPT_INT = 1,   /* Ctrl+C, SIGINT */
  DRAY_INTERRUPT_BREAK,     /* Ctrl+Break (Windows) */
  DRAY_INTERRUPT_TERM,      /* SIGTERM; also SIGHUP (the terminal or the ssh
                             * session went away: nobody is left to press
                             * Ctrl+C twice, so cancel, as ninja does). A
                             * SIGHUP that was ignored when interrupts started
                             * (nohup) stays ignored. */
  DRAY_INTERRUPT_CLOSE      /* console closing / logoff: seconds left, cancel now */
} dray_interrupt_kind_t;

/* Called once per interrupt, from a platform-owned thread. */
typedef void (*dray_interrupt_fn)(void *baton, dray_interrupt_kind_t kind);

/* Start delivering interrupts to FN. Until stopped, Ctrl+C does not kill dray.
 * Once only: a second start before the stop is APR_EEXIST.
 * On Windows Ctrl+C and Ctrl+Break both arrive (Ctrl+Break as
 * DRAY_INTERRUPT_BREAK); an interrupted run exits 130 on both systems. */
apr_status_t dray_platform_interrupts_start(dray_interrupt_fn fn, void *baton,
                                            apr_pool_t *pool);

/* Stop delivering; restores the handling that was in place before start.
 * Once it returns, FN is not running and is not called again, and no signal
 * arriving later touches anything dray_platform_interrupts_start set up
 * (on Unix: a handler still running on another thread is waited for before
 * the self-pipe is closed). Safe to call twice. */
void dray_platform_interrupts_stop(void);

/* ---- children ------------------------------------------------------------ */

typedef struct dray_platform_proc_t dray_platform_proc_t;

typedef struct dray_spawn_t {
  /* argv[0] is looked up on PATH (Windows also tries .exe). UTF-8. A name
   * without a folder part is searched on PATH only: on Windows not in the
   * current folder first (unlike CreateProcess), and only executables are
   * run, never a .bat/.cmd script (cmd.exe would re-parse its arguments). */
  const char *const *argv;
  /* Working directory, or NULL to inherit. */
  const char *cwd;
  /* Extra "NAME=VALUE" settings on top of dray's environment (a bare
   * "NAME" removes NAME), NULL-ended, or NULL for none. */
  const char *const *env;
  /* Non-zero: give the child a stdin pipe (returned in *STDIN_WRITE);
   * zero: stdin is the null device. */
  int want_stdin;
  /* Non-NULL: the child's stderr goes to this file, apart from its stdout
   * (whose bytes are then data, e.g. an archive); NULL: merged into the
   * output pipe. */
  apr_file_t *stderr_file;
} dray_spawn_t;

/* Start a child in its own process group / job, its stdout and stderr merged
 * (unless SPEC->stderr_file) into one pipe whose read end is returned in *OUTPUT_READ (blocking reads).
 * Pipe creation and spawning are serialized so that no child inherits another
 * child's pipe ends. On failure to start (e.g. program not found) returns an
 * error status and a message in *ERRMSG. Everything lives in POOL. */
apr_status_t dray_platform_spawn(dray_platform_proc_t **proc,
                                 apr_file_t **output_read,
                                 apr_file_t **stdin_write,
                                 const char **errmsg,
                                 const dray_spawn_t *spec,
                                 apr_pool_t *pool);

/* The child's process id, for display and logs. */
int dray_platform_proc_pid(const dray_platform_proc_t *proc);

typedef enum dray_proc_signal_t {
  DRAY_PROC_INTERRUPT = 1, /* ask the whole tree to stop: SIGINT to the group / CTRL_BREAK */
  DRAY_PROC_KILL           /* end the whole tree now: SIGKILL / TerminateJobObject */
} dray_proc_signal_t;

/* Signal the child's whole tree. Thread-safe against dray_platform_proc_wait:
 * once the child has been reaped this is a no-op (never hits a reused pid).
 * INTERRUPT may fail (Windows: GenerateConsoleCtrlEvent needs a console that
 * dray and the child share; none when dray runs without one, e.g. as a
 * service or with every stream redirected in CI): callers do not rely on it,
 * they wait a grace period and then KILL, which always works. */
apr_status_t dray_platform_proc_signal(dray_platform_proc_t *proc,
                                       dray_proc_signal_t how);

/* Non-zero once the child itself has exited (it is not reaped: wait still
 * has to be called). Lets a reader notice that what still holds the output
 * pipe is something the child left behind. */
int dray_platform_proc_exited(dray_platform_proc_t *proc);

/* Wait for the child to exit, then kill anything it left running in its
 * group / job, then reap it. *EXIT_CODE is its exit status, or 128+signal
 * when *SIGNALED is set. Called once per child, from one thread (signal may
 * run meanwhile from others). On Windows a tree ended by KILL reports
 * *SIGNALED = 1 and 137 (as SIGKILL), a child ended by Ctrl+C / Ctrl+Break
 * (STATUS_CONTROL_C_EXIT) *SIGNALED = 1 and 130 (as SIGINT). */
apr_status_t dray_platform_proc_wait(dray_platform_proc_t *proc,
                                     int *exit_code, int *signaled);

/* ---- files dray writes (logs, the report) ------------------------------ */

typedef enum dray_path_kind_t {
  DRAY_PATH_MISSING = 0,
  DRAY_PATH_FILE,   /* a regular file */
  DRAY_PATH_DIR,
  DRAY_PATH_LINK,   /* a symbolic link (Windows: any reparse point), not followed */
  DRAY_PATH_OTHER
} dray_path_kind_t;

/* What PATH itself is, a link at PATH not followed, and whether the user
 * running dray owns it (*MINE; Unix: the effective uid; Windows: not
 * checked, always 1). A missing PATH is APR_SUCCESS with DRAY_PATH_MISSING. */
apr_status_t dray_platform_path_kind(dray_path_kind_t *kind, int *mine, const char *path,
                                     apr_pool_t *pool);

/* Open PATH for writing without ever following a link at PATH (a link is an
 * error: Unix O_NOFOLLOW, ELOOP), creating it readable and writable by its
 * owner only. FLAGS: APR_FOPEN_TRUNCATE, APR_FOPEN_APPEND, APR_FOPEN_EXCL
 * (combinable). The file is closed with POOL if not before. */
apr_status_t dray_platform_open_private(apr_file_t **file, const char *path, apr_int32_t flags,
                                        apr_pool_t *pool);

/* ---- console and machine ------------------------------------------------ */

/* Non-zero when STREAM (stdout or stderr) is an interactive terminal that
 * understands cursor movement (on Windows: VT mode could be enabled). */
int dray_platform_is_terminal(FILE *stream);

/* Columns of the terminal behind STREAM, or 0 when unknown. */
int dray_platform_terminal_width(FILE *stream);

/* Number of logical processors (at least 1). */
int dray_platform_cpu_count(void);

/* Time all CPUs of the machine spent idle and in all, since boot, in any
 * one unit (Linux: /proc/stat ticks; Windows: GetSystemTimes). The share of
 * idle time between two samples is what --builders auto reads. */
apr_status_t dray_platform_cpu_times(apr_uint64_t *idle, apr_uint64_t *total);

/* The user's home folder (HOME / %USERPROFILE%), or NULL. */
const char *dray_platform_home_dir(apr_pool_t *pool);

/* The folder for the user's configuration of programs: $XDG_CONFIG_HOME
 * (when set and absolute), else ~/.config on Unix; %APPDATA% on Windows.
 * NULL when unknown. */
const char *dray_platform_user_config_dir(apr_pool_t *pool);

/* The engine address the docker CLI uses when nothing is configured:
 * "unix:///var/run/docker.sock" on Unix, "npipe:////./pipe/docker_engine"
 * on Windows (Docker Desktop; dray pushes through the CLI there). Static. */
const char *dray_platform_default_engine_host(void);

/* The folder for this user's machine-wide lock files (--global-slots),
 * created if missing, private to the user: Unix $XDG_RUNTIME_DIR/dray, else
 * TMPDIR/dray-UID (refused when someone else owns it or others may write
 * it); Windows %LOCALAPPDATA%\dray\locks. */
apr_status_t dray_platform_lock_dir(const char **dir, apr_pool_t *pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PLATFORM_H */
