/* rsswrap: runs a command as a child subreaper and records the largest ru_maxrss of any process
 * in its tree (orphans included), the command's exit status and its wall time, as JSON.
 *
 * Usage: rsswrap <result-file> [--grace-ms=N] [--fifos=DIR] [--probe-dir=DIR] -- <argv...>
 *
 * With --fifos, the command's stdout and stderr are named pipes DIR/out and DIR/err, made here:
 * once they exist we write "R" to fd 3 (a pipe from the runner) and close it; the runner opens
 * their read ends, which lets our opens for writing return; they become our own stdout and stderr,
 * which the command inherits. (The runner reads a FIFO into one reused buffer, which it cannot do
 * with a pipe it was handed by spawn; making them here spares it a mkfifo process per run.) If
 * they cannot be made, fd 3 gets "E" and the reason, and we exit 125.
 *
 * Why a wrapper: Node cannot read a child's rusage, and polling /proc misses short spikes. The
 * kernel keeps every process's high-water RSS and hands it to whoever reaps it; as a subreaper
 * we reap every descendant, so no process and no spike is missed.
 *
 * The command runs in a process group of its own (its pid), so that whoever started us can kill
 * the workload's group while we survive to reap it and write the result. SIGTERM, SIGINT and
 * SIGHUP sent to us are forwarded to that group; if our parent dies we forward SIGTERM too.
 *
 * Nothing outlives the measurement: once the command itself exits, whatever it left behind
 * (background jobs, double-forked or setsid daemons, all reparented to us) has SETTLE_MS to end on
 * its own (an orphan finishing its work is still measured), then is named in the result and
 * stopped, SIGTERM then SIGKILL after the grace. The same happens to the whole subtree,
 * whatever group or session it is in, when we are told to stop or our parent dies.
 *
 * With --probe-dir (the probes' $MEMBUDGET_OUT_DIR), every process is looked at as it dies, before
 * it is reaped: its name (comm, still readable from a zombie) and a digest of each figure file it
 * left there (<pid>.python.json, .malloc.json, .node.json, <pid>-<thread>.node.json, .pytest.json).
 * The result lists them ("exited"), so that the runner can tell a Python or Node.js process that
 * left no figures (started with a cleared environment, or killed first) and a file that was
 * deleted or rewritten after its process was gone: the workload's own code cannot hide a process
 * from the one that reaps it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rsswrap.h"

static volatile sig_atomic_t workload_pgid = 0;
static volatile sig_atomic_t forwarded_mask = 0;

/* How many leftover processes the result names, and how much of each command line. */
#define MAX_NAMED 16
#define COMMAND_CHARS 200
/* The subtree is walked through /proc; a fork bomb past this many is killed in rounds. */
#define MAX_TREE 4096
/* How long what the command left may go on before it is stopped: an orphan finishing its work
   ends within this; a daemon does not. */
#define SETTLE_MS 1000

/* Set while the output FIFOs are being opened (open_fifos): a signal then means stop, at once. */
static volatile sig_atomic_t in_handshake = 0;

static void forward(int sig) {
  if (in_handshake) _exit(125);
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

/* The pids of every live (not zombie) descendant of ours, found through /proc's parent links. */
static size_t descendants(pid_t root, pid_t *out, size_t cap) {
  static pid_t pids[MAX_TREE * 4];
  static pid_t ppids[MAX_TREE * 4];
  size_t n = 0;
  DIR *dir = opendir("/proc");
  if (!dir) return 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL && n < sizeof pids / sizeof pids[0]) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) continue;
    buf[len] = 0;
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse from the last ')'. */
    char *close_paren = strrchr(buf, ')');
    char state;
    long ppid;
    if (!close_paren || sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2) continue;
    if (state == 'Z' || state == 'X') continue;
    pids[n] = (pid_t)atol(e->d_name);
    ppids[n] = (pid_t)ppid;
    n++;
  }
  closedir(dir);
  size_t found = 0;
  /* Breadth first from root: out[] doubles as the queue. */
  pid_t parent = root;
  size_t next = 0;
  for (;;) {
    for (size_t i = 0; i < n && found < cap; i++)
      if (ppids[i] == parent) out[found++] = pids[i];
    if (next >= found) break;
    parent = out[next++];
  }
  return found;
}

static void signal_tree(pid_t root, int sig) {
  static pid_t tree[MAX_TREE];
  size_t n = descendants(root, tree, MAX_TREE);
  for (size_t i = 0; i < n; i++) kill(tree[i], sig);
}

/* Appends s to the JSON buffer as a string literal (quotes, backslashes and controls escaped). */
void json_string(char *out, size_t cap, const char *s) {
  size_t len = strlen(out);
  if (len + 2 >= cap) return;
  out[len++] = '"';
  for (; *s && len + 8 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[len++] = '\\';
      out[len++] = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      len += (size_t)snprintf(out + len, cap - len, "\\u%04x", c);
    } else {
      out[len++] = (char)c;
    }
  }
  out[len++] = '"';
  out[len] = 0;
}

/* The command line of pid, arguments joined by spaces, cut to COMMAND_CHARS. */
static void command_of(pid_t pid, char *out, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
  out[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t len = read(fd, out, cap - 1);
  close(fd);
  if (len <= 0) {
    out[0] = 0;
    return;
  }
  out[len] = 0;
  while (len > 0 && out[len - 1] == 0) len--;
  for (ssize_t i = 0; i < len; i++)
    if (out[i] == 0) out[i] = ' ';
  out[len] = 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Makes DIR/out and DIR/err (see the top), tells the runner on fd 3, and puts them on fds 1 and 2. */
static int open_fifos(const char *dir) {
  char out[4096], err[4096];
  if (snprintf(out, sizeof out, "%s/out", dir) >= (int)sizeof out ||
      snprintf(err, sizeof err, "%s/err", dir) >= (int)sizeof err) {
    write_all(3, "Efifo directory path too long", 29);
    return -1;
  }
  if (mkfifo(out, 0600) != 0 || mkfifo(err, 0600) != 0) {
    char why[512];
    int n = snprintf(why, sizeof why, "Ecannot make the output pipes in %s: %s", dir, strerror(errno));
    write_all(3, why, n > 0 && n < (int)sizeof why ? (size_t)n : sizeof why - 1);
    return -1;
  }
  /* A signal from here on, before the workload exists, ends us (forward); one that came before
     is seen here. No runner on fd 3 means no reader will ever come: do not wait for one. */
  in_handshake = 1;
  if (forwarded_mask != 0 || write_all(3, "R", 1) != 0) return -1;
  close(3);
  const char *paths[2] = {out, err};
  for (int i = 0; i < 2; i++) {
    /* Blocks until the runner has opened the read end. */
    int fd;
    do fd = open(paths[i], O_WRONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0 || dup2(fd, i + 1) < 0) return -1;
    close(fd);
  }
  in_handshake = 0;
  unlink(out);
  unlink(err);
  return 0;
}

int main(int argc, char **argv) {
  long grace_ms = 5000;
  const char *fifo_dir = NULL;
  const char *probe_dir = NULL;
  int dash = 2;
  for (; dash < argc && strncmp(argv[dash], "--", 2) == 0 && argv[dash][2] != '\0'; dash++) {
    if (strncmp(argv[dash], "--grace-ms=", 11) == 0) grace_ms = atol(argv[dash] + 11);
    else if (strncmp(argv[dash], "--fifos=", 8) == 0) fifo_dir = argv[dash] + 8;
    else if (strncmp(argv[dash], "--probe-dir=", 12) == 0) probe_dir = argv[dash] + 12;
    else break;
  }
  if (argc < dash + 2 || strcmp(argv[dash], "--") != 0) {
    fprintf(stderr, "usage: rsswrap <result-file> [--grace-ms=N] [--fifos=DIR] [--probe-dir=DIR] -- <command> [args...]\n");
    return 125;
  }
  const char *result_path = argv[1];
  char **command = argv + dash + 1;

  /* Handlers first: a SIGTERM that arrives early must not kill us and orphan the workload. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  /* No SA_RESTART: a forwarded signal must wake the wait below, to escalate if the workload stays. */
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  int forwarded[] = {SIGTERM, SIGINT, SIGHUP};
  sigset_t block, saved_mask;
  sigemptyset(&block);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
    sigaction(forwarded[i], &sa, NULL);
    sigaddset(&block, forwarded[i]);
  }

  /* Still useful without it (the direct child and its waited-for descendants are counted), but
     orphans are not: the result says so, and so does stderr once it reaches the runner (with
     --fifos it is /dev/null until they are open). */
  char not_subreaper[128] = "";
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    snprintf(not_subreaper, sizeof not_subreaper, "%s", strerror(errno));
  }
  /* If the runner dies, the workload should not run on unattended: SIGTERM is forwarded. */
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  if (getppid() != parent) forwarded_mask |= 1 << SIGTERM;

  if (fifo_dir && open_fifos(fifo_dir) != 0) return 125;
  if (not_subreaper[0]) fprintf(stderr, "rsswrap: PR_SET_CHILD_SUBREAPER failed: %s\n", not_subreaper);

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
    /* The workload gets stdin, stdout and stderr, and nothing else membudget's own parent left
       open without close-on-exec (a runner's pipes, sockets, files). */
    long closed = -1;
#ifdef SYS_close_range
    closed = syscall(SYS_close_range, 3, ~0U, 0);
#endif
    if (closed != 0) {
      DIR *fds = opendir("/proc/self/fd");
      if (fds) {
        struct dirent *e;
        while ((e = readdir(fds)) != NULL) {
          int fd = atoi(e->d_name);
          if (fd >= 3 && fd != dirfd(fds)) close(fd);
        }
        closedir(fds);
      }
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
  pid_t self = getpid();
  /* Stopping the subtree: when SIGTERM went to all of it, and whether SIGKILL follows now. */
  double terminating_since = 0;
  int killing = 0;
  long leftover_count = 0;
  pid_t named[MAX_NAMED];
  char named_command[MAX_NAMED][COMMAND_CHARS + 1];
  size_t named_n = 0;
  for (;;) {
    /* Told to stop (a signal, or our parent died and PR_SET_PDEATHSIG said so): the whole subtree
       goes, not only the group that forward() reached. */
    if (!terminating_since && (forwarded_mask || getppid() != parent)) {
      terminating_since = now_seconds();
      signal_tree(self, SIGTERM);
    }
    /* The command is done and what it left had its time: name what is still running, stop it. */
    if (child_seen && !terminating_since && now_seconds() - start - wall >= SETTLE_MS / 1000.0) {
      static pid_t left[MAX_TREE];
      size_t n = descendants(self, left, MAX_TREE);
      leftover_count = (long)n;
      for (size_t i = 0; i < n && named_n < MAX_NAMED; i++) {
        named[named_n] = left[i];
        command_of(left[i], named_command[named_n], sizeof named_command[named_n]);
        named_n++;
      }
      terminating_since = now_seconds();
      signal_tree(self, SIGTERM);
    }
    if (terminating_since && !killing && now_seconds() - terminating_since >= grace_ms / 1000.0) killing = 1;
    if (killing) signal_tree(self, SIGKILL);

    int status;
    struct rusage ru;
    /* Block while the command runs and nothing is being stopped; poll otherwise. */
    int polling = child_seen || terminating_since;
    /* First see who died without reaping it: a zombie still has its name, and its figure files
       are final (note_exited). */
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT | __WALL | (polling ? WNOHANG : 0)) < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: no descendant left anywhere (orphans are reparented to us before reaping) */
    }
    if (info.si_pid == 0) {
      sleep_ms(10);
      continue;
    }
    if (probe_dir) note_exited(probe_dir, info.si_pid, &info, terminating_since != 0);
    pid_t pid;
    do pid = wait4(info.si_pid, &status, __WALL, &ru);
    while (pid < 0 && errno == EINTR);
    if (pid <= 0) continue;
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

  static char json[MAX_NAMED * (COMMAND_CHARS * 6 + 64) + 1024];
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
           "\"forwardedSignals\":%d,\"leftoverCount\":%ld,\"leftoversKilled\":%s,\"leftovers\":[",
           (long)child, exit_code, signal_no,
           child_seen && WIFSIGNALED(child_status) && WCOREDUMP(child_status) ? "true" : "false", max_rss,
           max_rss_pid, reaped, wall, (int)forwarded_mask, leftover_count, killing ? "true" : "false");
  for (size_t i = 0; i < named_n; i++) {
    size_t len = strlen(json);
    snprintf(json + len, sizeof json - len, "%s{\"pid\":%ld,\"command\":", i ? "," : "", (long)named[i]);
    json_string(json, sizeof json, named_command[i]);
    len = strlen(json);
    snprintf(json + len, sizeof json - len, "}");
  }
  size_t len = strlen(json);
  snprintf(json + len, sizeof json - len, "]");
  if (not_subreaper[0]) {
    len = strlen(json);
    snprintf(json + len, sizeof json - len, ",\"notSubreaper\":");
    json_string(json, sizeof json, not_subreaper);
  }
  len = strlen(json);
  char *whole = json;
  if (probe_dir) whole = with_exited(json, sizeof json);
  else snprintf(json + len, sizeof json - len, "}\n");
  if (write_result(result_path, whole) != 0) {
    fprintf(stderr, "rsswrap: cannot write %s: %s\n", result_path, strerror(errno));
  }
  /* Exit like a shell would report the command, so a caller without the file still learns it. */
  return rc;
}
