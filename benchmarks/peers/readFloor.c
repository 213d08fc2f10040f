/*
 * The memory floor for benchmarks/rle.bench.ts: plain C, not a maskbox op. Maps a file (the benchmark
 * writes its mask bytes to /dev/shm), then on each stdin line runs one pass over every byte on
 * `threads` POSIX threads and prints "<wall ms> <process CPU ms>":
 *   sum   add up the bytes as 64-bit words (4 accumulators; the cheapest way to read them all)
 *   copy  memcpy them into a second buffer of the same size (read + write)
 * Built by the benchmark itself: cc -O2 -pthread benchmarks/peers/readFloor.c (see harness.ts, cFloor).
 * Usage: readFloor <file> <threads>
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const uint8_t* src;
static uint8_t* dst;
static size_t len;
static int threads;
static volatile uint64_t sink;

struct job {
  int id, copy;
  uint64_t sum;
};

static void* work(void* p) {
  struct job* j = p;
  size_t words = len / 8, per = (words + threads - 1) / threads;
  size_t b = per * j->id, e = b + per;
  if (e > words) e = words;
  if (b > e) b = e;
  if (j->copy) {
    memcpy(dst + 8 * b, src + 8 * b, 8 * (e - b));
    return NULL;
  }
  const uint64_t* w = (const uint64_t*)src;
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  size_t i = b;
  for (; i + 4 <= e; i += 4) {
    a0 += w[i];
    a1 += w[i + 1];
    a2 += w[i + 2];
    a3 += w[i + 3];
  }
  for (; i < e; i++) a0 += w[i];
  j->sum = a0 + a1 + a2 + a3;
  return NULL;
}

static double ms(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc != 3) return fprintf(stderr, "usage: readFloor <file> <threads>\n"), 2;
  threads = atoi(argv[2]);
  if (threads < 1 || threads > 256) return fprintf(stderr, "threads: 1..256\n"), 2;
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return perror(argv[1]), 1;
  len = (size_t)st.st_size;
  src = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (src == MAP_FAILED) return perror("mmap"), 1;
  dst = malloc(len);
  if (!dst) return fprintf(stderr, "out of memory\n"), 1;
  memset(dst, 1, len); /* back every page before timing */
  char line[64];
  pthread_t tid[256];
  struct job jobs[256];
  while (fgets(line, sizeof line, stdin)) {
    int copy = strncmp(line, "copy", 4) == 0;
    double w0 = ms(CLOCK_MONOTONIC), c0 = ms(CLOCK_PROCESS_CPUTIME_ID);
    for (int t = 0; t < threads; t++) {
      jobs[t] = (struct job){t, copy, 0};
      pthread_create(&tid[t], NULL, work, &jobs[t]);
    }
    uint64_t s = 0;
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL), s += jobs[t].sum;
    sink += s;
    printf("%.6f %.6f\n", ms(CLOCK_MONOTONIC) - w0, ms(CLOCK_PROCESS_CPUTIME_ID) - c0);
    fflush(stdout);
  }
  return 0;
}
