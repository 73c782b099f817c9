/* rsswrap: runs a command as a child subreaper and records the largest ru_maxrss of any process
 * in its tree (orphans included), the command's exit status and its wall time, as JSON.
 *
 * Usage: rsswrap <result-file> -- <argv...>
 *
 * Why a wrapper: Node cannot read a child's rusage, and polling /proc misses short spikes. The
 * kernel keeps every process's high-water RSS and hands it to whoever reaps it; as a subreaper
 * we reap every descendant, so no process and no spike is missed.
 *
 * The command runs in a process group of its own (its pid), so that whoever started us can kill
 * the workload's group while we survive to reap it and write the result. SIGTERM, SIGINT and
 * SIGHUP sent to us are forwarded to that group; if our parent dies we forward SIGTERM too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t workload_pgid = 0;
static volatile sig_atomic_t forwarded_mask = 0;

static void forward(int sig) {
  int saved = errno;
  pid_t pgid = (pid_t)workload_pgid;
  if (pgid > 0) kill(-pgid, sig);
  forwarded_mask |= 1 << sig;
  errno = saved;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ru_maxrss is in KiB on Linux. */
static long long maxrss_bytes(const struct rusage *ru) { return (long long)ru->ru_maxrss * 1024LL; }

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Writes to <path>.<pid>.tmp then renames, so a reader never sees half a file. */
static int write_result(const char *path, const char *json) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32);
  if (!tmp) return -1;
  snprintf(tmp, plen + 32, "%s.%ld.tmp", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    free(tmp);
    return -1;
  }
  int rc = write_all(fd, json, strlen(json));
  if (close(fd) != 0) rc = -1;
  if (rc == 0) rc = rename(tmp, path);
  if (rc != 0) unlink(tmp);
  free(tmp);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: rsswrap <result-file> -- <command> [args...]\n");
    return 125;
  }
  const char *result_path = argv[1];
  char **command = argv + 3;

  /* Handlers first: a SIGTERM that arrives early must not kill us and orphan the workload. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  int forwarded[] = {SIGTERM, SIGINT, SIGHUP};
  sigset_t block, saved_mask;
  sigemptyset(&block);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
    sigaction(forwarded[i], &sa, NULL);
    sigaddset(&block, forwarded[i]);
  }

  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    /* Still useful without it (direct child and its waited-for descendants are counted). */
    fprintf(stderr, "rsswrap: PR_SET_CHILD_SUBREAPER failed: %s\n", strerror(errno));
  }
  /* If the runner dies, the workload should not run on unattended: SIGTERM is forwarded. */
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  if (getppid() != parent) forwarded_mask |= 1 << SIGTERM;

  /* Block the forwarded signals until the workload's group exists, so none is lost. */
  sigprocmask(SIG_BLOCK, &block, &saved_mask);
  double start = now_seconds();
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "rsswrap: fork failed: %s\n", strerror(errno));
    return 125;
  }
  if (child == 0) {
    setpgid(0, 0);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaction(forwarded[i], &dfl, NULL);
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
    /* The runner passes the workload's LD_PRELOAD under another name, so that the wrapper itself
       runs without the malloc probe: restore it for the workload. */
    const char *preload = getenv("MEMBUDGET_PRELOAD");
    if (preload) {
      setenv("LD_PRELOAD", preload, 1);
      unsetenv("MEMBUDGET_PRELOAD");
    }
    execvp(command[0], command);
    int err = errno;
    fprintf(stderr, "rsswrap: cannot run %s: %s\n", command[0], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
  }
  /* Both sides call setpgid: whichever runs first wins the race, the other gets EACCES/ESRCH. */
  setpgid(child, child);
  workload_pgid = child;
  if (forwarded_mask & (1 << SIGTERM)) kill(-child, SIGTERM);
  sigprocmask(SIG_SETMASK, &saved_mask, NULL);

  long long max_rss = 0;
  long max_rss_pid = 0;
  long reaped = 0;
  int child_status = 0;
  int child_seen = 0;
  double wall = 0;
  for (;;) {
    int status;
    struct rusage ru;
    pid_t pid = wait4(-1, &status, __WALL, &ru);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: no descendant left anywhere (orphans are reparented to us before reaping) */
    }
    if (!WIFEXITED(status) && !WIFSIGNALED(status)) continue;
    reaped++;
    /* ru covers the process and the descendants it reaped itself: each is a single process's peak. */
    long long rss = maxrss_bytes(&ru);
    if (rss > max_rss) {
      max_rss = rss;
      max_rss_pid = (long)pid;
    }
    if (pid == child) {
      wall = now_seconds() - start;
      child_status = status;
      child_seen = 1;
    }
  }

  char json[512];
  char exit_code[16] = "null";
  char signal_no[16] = "null";
  int rc = 125;
  if (child_seen && WIFEXITED(child_status)) {
    rc = WEXITSTATUS(child_status);
    snprintf(exit_code, sizeof exit_code, "%d", rc);
  } else if (child_seen && WIFSIGNALED(child_status)) {
    rc = 128 + WTERMSIG(child_status);
    snprintf(signal_no, sizeof signal_no, "%d", WTERMSIG(child_status));
  }
  snprintf(json, sizeof json,
           "{\"version\":1,\"pid\":%ld,\"exitCode\":%s,\"signal\":%s,\"coreDumped\":%s,"
           "\"maxRss\":%lld,\"maxRssPid\":%ld,\"reaped\":%ld,\"wallTime\":%.6f,"
           "\"forwardedSignals\":%d}\n",
           (long)child, exit_code, signal_no,
           child_seen && WIFSIGNALED(child_status) && WCOREDUMP(child_status) ? "true" : "false", max_rss,
           max_rss_pid, reaped, wall, (int)forwarded_mask);
  if (write_result(result_path, json) != 0) {
    fprintf(stderr, "rsswrap: cannot write %s: %s\n", result_path, strerror(errno));
  }
  /* Exit like a shell would report the command, so a caller without the file still learns it. */
  return rc;
}
