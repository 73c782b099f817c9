/* rsswrap's account of the processes it reaps, with --probe-dir (see rsswrap.c's header): each
 * one's name, how it ended and the digests of the figure files it left, as the result's "exited". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rsswrap.h"

/* The processes seen dying (--probe-dir), as JSON objects joined by commas; bounded. */
#define MAX_EXITED 65536
static char *exited_json = NULL;
static size_t exited_len = 0, exited_cap = 0;
static long exited_count = 0, exited_dropped = 0;

/* The kernel's name of pid (comm: the executable's or script's base name, or what the process
   set with PR_SET_NAME), from /proc/PID/stat; a zombie keeps it. */
static void comm_of(pid_t pid, char *out, size_t cap) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  out[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return;
  buf[len] = 0;
  char *open_paren = strchr(buf, '(');
  char *close_paren = strrchr(buf, ')');
  if (!open_paren || !close_paren || close_paren <= open_paren) return;
  size_t n = (size_t)(close_paren - open_paren - 1);
  if (n >= cap) n = cap - 1;
  memcpy(out, open_paren + 1, n);
  out[n] = 0;
}

static int append_exited(const char *text) {
  size_t n = strlen(text);
  if (exited_len + n + 1 > exited_cap) {
    size_t cap = exited_cap ? exited_cap * 2 : 65536;
    while (cap < exited_len + n + 1) cap *= 2;
    char *grown = realloc(exited_json, cap);
    if (!grown) return -1;
    exited_json = grown;
    exited_cap = cap;
  }
  memcpy(exited_json + exited_len, text, n + 1);
  exited_len += n;
  return 0;
}

/* FNV-1a (32 bits) and the size of a file, or -1 if it cannot be read. The runner computes the
   same over what it reads later (process/exits.ts). */
static long long digest_file(int dirfd, const char *name, unsigned *hash) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  unsigned h = 2166136261u;
  long long size = 0;
  unsigned char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 16777619u;
    size += n;
  }
  close(fd);
  *hash = h;
  return size;
}

static void digest_one(int dirfd, const char *name, char *out, size_t cap, int *any) {
  unsigned hash;
  long long size = digest_file(dirfd, name, &hash);
  if (size < 0) return;
  size_t len = strlen(out);
  snprintf(out + len, cap - len, "%s\"%s\":[%u,%lld]", *any ? "," : "", name, hash, size);
  *any = 1;
}

/* Notes pid (dead, not yet reaped) in the "exited" list: its name, how it ended, whether we were
   stopping the tree, and the digests of the figure files it left in probe_dir (none is a fact too:
   a file that appears later is not its own). Only the processes we reap are seen here: the
   command and the orphans; the runner watches the rest (process/ledger.ts). */
void note_exited(const char *probe_dir, pid_t pid, const siginfo_t *info, int stopping) {
  char comm[64];
  comm_of(pid, comm, sizeof comm);
  static char files[8192];
  files[0] = 0;
  int any = 0;
  int dirfd = open(probe_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd >= 0) {
    static const char *suffixes[] = {"python", "malloc", "node", "pytest"};
    char name[96];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
      snprintf(name, sizeof name, "%ld.%s.json", (long)pid, suffixes[i]);
      digest_one(dirfd, name, files, sizeof files, &any);
    }
    if (strncmp(comm, "node", 4) == 0) {
      /* Worker threads: <pid>-<threadId>.node.json (only Node.js processes have them). */
      char prefix[32];
      int plen = snprintf(prefix, sizeof prefix, "%ld-", (long)pid);
      DIR *dir = fdopendir(dup(dirfd));
      if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL && strlen(files) + 200 < sizeof files) {
          size_t n = strlen(e->d_name);
          if (strncmp(e->d_name, prefix, (size_t)plen) == 0 && n > 10 && strcmp(e->d_name + n - 10, ".node.json") == 0)
            digest_one(dirfd, e->d_name, files, sizeof files, &any);
        }
        closedir(dir);
      }
    }
    close(dirfd);
  }
  if (exited_count >= MAX_EXITED) {
    exited_dropped++;
    return;
  }
  static char entry[sizeof files + 512];
  int signaled = info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED;
  snprintf(entry, sizeof entry, "%s{\"pid\":%ld,\"comm\":", exited_count ? "," : "", (long)pid);
  json_string(entry, sizeof entry, comm);
  size_t len = strlen(entry);
  snprintf(entry + len, sizeof entry - len, ",\"%s\":%d,\"stopped\":%s,\"files\":{%s}}",
           signaled ? "signal" : "exitCode", info->si_status, stopping ? "true" : "false", files);
  if (append_exited(entry) == 0) exited_count++;
  else exited_dropped++;
}

/* The result so far (json, ending before its closing brace) with "exitedDropped" and "exited"
   appended and closed: a new buffer, or json itself completed if memory ran out. */
char *with_exited(char *json, size_t cap) {
  size_t len = strlen(json);
  snprintf(json + len, cap - len, ",\"exitedDropped\":%ld,\"exited\":[", exited_dropped);
  size_t head = strlen(json);
  char *whole = append_exited("]}\n") == 0 ? malloc(head + exited_len + 1) : NULL;
  if (!whole) {
    snprintf(json + head, cap - head, "],\"exitedLost\":true}\n");
    return json;
  }
  memcpy(whole, json, head);
  memcpy(whole + head, exited_json, exited_len + 1);
  return whole;
}
