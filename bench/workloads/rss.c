/* Benchmark workload for peak RSS and the wrapper's overhead (any-command probe).
 * Usage: rss hold MIB MS      touch MIB MiB, keep it MS ms, free it
 *        rss spike MIB MS     map MIB MiB with every page populated and unmap it at once (prints how
 *                             long it lived, in ms), then live on MS ms at a small RSS: only a
 *                             high-water mark sees it
 *        rss compute MIB N    touch MIB MiB, then sum it N times (CPU-bound, few allocations) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  const char *mode = argv[1];
  size_t size = (size_t)atol(argv[2]) << 20;
  long arg = atol(argv[3]);
  double t0 = now_ms();
  if (!strcmp(mode, "spike")) {
    /* MAP_POPULATE faults every page in inside the kernel, several times faster than touching
     * them one by one: a larger spike fits in a few milliseconds. */
    void *spike = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (spike == MAP_FAILED) return 3;
    munmap(spike, size);
    printf("%.3f\n", now_ms() - t0);
    fflush(stdout);
    sleep_ms(arg);
    return 0;
  }
  /* Large: glibc maps it with mmap, and free() unmaps it, so RSS falls at once. */
  unsigned char *block = malloc(size);
  if (!block) return 3;
  memset(block, 1, size);
  if (!strcmp(mode, "hold")) {
    sleep_ms(arg);
  } else if (!strcmp(mode, "compute")) {
    unsigned long sum = 0;
    for (long pass = 0; pass < arg; pass++)
      for (size_t i = 0; i < size; i += 64) sum += block[i] * (unsigned long)(pass + 1);
    printf("%lu\n", sum);
  } else {
    return 2;
  }
  free(block);
  return 0;
}
