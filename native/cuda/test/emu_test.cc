// Standalone test of the CUDA kernels on the CPU emulation (no Node: sanitizers need no LD_PRELOAD).
// Built and run by native/cuda/test/run.sh in three flavours: fibers (-O2), fibers with ASan+UBSan,
// and one OS thread per CUDA thread with TSan (small sizes). Each flavour:
//   1. compares every cuda:: kernel (nms, yoloNms, rleEncode, logitsToRle, dice, resize, letterbox,
//      rleDecode, rleOverlap, dbscan, baseline) with the CPU kernels (cpu::Nms, cpu::NmsNaive, cpu::YoloNms, ...) on seeded
//      random inputs (ties, boxes planted at the IoU threshold, NaN and empty boxes, limits), exactly
//      (bits for floats), under the forward, reverse and two random fiber schedules;
//   2. checks that launch-configuration errors come back from cudaGetLastError();
//   3. runs each deliberate bug in a child process (this binary with --bug NAME) and requires it to fail:
//      a missing __syncthreads, a divergent barrier, an out-of-bounds write, a warp reduction without
//      __syncwarp, a shuffle whose mask names a returned lane, a host pointer passed to a kernel.
// Built by nvcc instead (native/cuda/test/gpu-check.sh, MB_EMULATED == 0), the same comparisons run once on
// the real device, and the bugs are left to compute-sanitizer (`--bug NAME` under racecheck / memcheck).
// Usage: emu_test [--quick] | emu_test --bug NAME
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/letterbox.cc"  // its kernel templates are file-local: compiled into this test (MASKBOX_CORE_ONLY)
#include "cpu/baseline.h"
#include "cpu/dbscan.h"
#include "cpu/dbscanTies.h"
#include "cpu/logitsToRle.h"
#include "cpu/resize.h"
#include "cpu/nms.h"
#include "cpu/rle.h"
#include "cpu/yoloNms.h"
#include "cuda/cuda_compat.h"
#include "cuda/dbscan_math.h"
#include "cuda/maskbox_cuda.h"

extern char** environ;

namespace {

int failures = 0;
#define EXPECT(cond, ...)                                  \
  do {                                                     \
    if (!(cond)) {                                         \
      failures++;                                          \
      std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                   \
      std::fprintf(stderr, "\n");                          \
    }                                                      \
  } while (0)

bool quick = false;  // --quick (ASan): fewer and smaller cases
bool tiny = false;   // the OS-thread flavour (TSan): an OS thread per CUDA thread, so only a few small cases

struct Boxes {
  std::vector<float> boxes, scores;
  std::vector<int32_t> classes;
};

Boxes RandomBoxes(std::mt19937& g, size_t n, int ncls, bool ties, bool weird) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Boxes b;
  b.boxes.resize(4 * n);
  b.scores.resize(n);
  b.classes.resize(n);
  const float extent = 100.0f + 900.0f * u(g);
  for (size_t i = 0; i < n; i++) {
    float x = u(g) * extent, y = u(g) * extent, w = 2.0f + u(g) * 40.0f, h = 2.0f + u(g) * 40.0f;
    if (i > 0 && u(g) < 0.3f) {  // near-duplicates of an earlier box
      const size_t j = g() % i;
      x = b.boxes[4 * j] + (u(g) - 0.5f) * 4.0f;
      y = b.boxes[4 * j + 1] + (u(g) - 0.5f) * 4.0f;
      w = b.boxes[4 * j + 2] - b.boxes[4 * j];
      h = b.boxes[4 * j + 3] - b.boxes[4 * j + 1];
    }
    b.boxes[4 * i] = x;
    b.boxes[4 * i + 1] = y;
    b.boxes[4 * i + 2] = x + w;
    b.boxes[4 * i + 3] = y + h;
    b.scores[i] = ties ? std::floor(u(g) * 8.0f) / 8.0f : u(g);
    b.classes[i] = static_cast<int32_t>(g() % static_cast<unsigned>(ncls));
    if (weird) {
      const unsigned k = g() % 40;
      if (k == 0) b.boxes[4 * i + 2] = b.boxes[4 * i];               // zero width
      if (k == 1) b.boxes[4 * i + 1] = NAN;                           // NaN coordinate
      if (k == 2) b.scores[i] = NAN;                                  // NaN score
      if (k == 3) b.scores[i] = -0.0f;                                // -0 ties +0
      if (k == 4) b.boxes[4 * i + 3] = INFINITY;                      // infinite area
    }
  }
  // A pair planted exactly at the IoU threshold 0.5: [0,0,2,1] and [0,0,1,1]... IoU = 1/2.
  if (n >= 2) {
    const float a[4] = {0, 0, 2, 1}, c[4] = {0, 0, 1, 1};
    std::memcpy(&b.boxes[0], a, sizeof a);
    std::memcpy(&b.boxes[4], c, sizeof c);
    b.classes[1] = b.classes[0];
  }
  return b;
}

std::string Str(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 20; i++) s += std::to_string(v[i]) + " ";
  return s + (v.size() > 20 ? "..." : "") + "(" + std::to_string(v.size()) + ")";
}

void TestNms(const char* sched) {
  std::mt19937 g(12345);
  const size_t sizes_full[] = {0, 1, 2, 5, 63, 64, 65, 200, 1000, 4000};
  const size_t sizes_quick[] = {0, 1, 2, 5, 63, 64, 65, 130, 300};
  const size_t sizes_tiny[] = {0, 5, 65};
  const size_t* sizes = tiny ? sizes_tiny : quick ? sizes_quick : sizes_full;
  const size_t nsizes = tiny ? std::size(sizes_tiny) : quick ? std::size(sizes_quick) : std::size(sizes_full);
  int cases = 0;
  for (size_t si = 0; si < nsizes; si++) {
    for (int variant = 0; variant < 6; variant += tiny ? 2 : 1) {
      const size_t n = sizes[si];
      const bool ties = variant & 1, weird = variant >= 2, with_classes = variant % 3 == 1;
      Boxes b = RandomBoxes(g, n, with_classes ? 3 : 1, ties, weird);
      maskbox::cpu::NmsOptions o;
      o.boxes = b.boxes.data();
      o.scores = b.scores.data();
      o.classes = with_classes ? b.classes.data() : nullptr;
      o.n = n;
      const double thrs[] = {0.5, 0.0, 1.0, 0.3, 0.7};
      o.iou_threshold = thrs[variant % 5];
      o.score_threshold = variant == 4 ? 0.25 : -INFINITY;
      o.max_candidates = variant == 5 ? n / 2 + 1 : SIZE_MAX;
      o.max_detections = variant == 3 ? 7 : SIZE_MAX;
      const std::vector<int32_t> want = maskbox::cpu::Nms(o);
      const std::vector<int32_t> got = maskbox::cuda::Nms(o);
      EXPECT(got == want, "[%s] nms n=%zu variant=%d thr=%g: cuda %s cpu %s", sched, n, variant, o.iou_threshold, Str(got).c_str(),
             Str(want).c_str());
      if (n <= 300) {
        const std::vector<int32_t> naive = maskbox::cpu::NmsNaive(o);
        EXPECT(got == naive, "[%s] nms n=%zu variant=%d: cuda differs from NmsNaive", sched, n, variant);
      }
      cases++;
    }
  }
  std::printf("  nms: %d cases [%s]\n", cases, sched);
}

// Float vectors equal bit for bit (NaN == NaN, -0 != +0).
bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), 4 * a.size()) == 0);
}

void TestYolo(const char* sched) {
  std::mt19937 g(777);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  int cases = 0;
  const size_t counts[] = {0, 1, tiny ? size_t(40) : size_t(100), tiny ? size_t(70) : quick ? size_t(600) : size_t(3000)};
  for (size_t count : counts) {
    if (tiny && count != 40) continue;
    for (int variant = 0; variant < 8; variant += tiny ? 2 : 1) {
      maskbox::cpu::YoloNmsOptions o;
      o.count = count;
      o.columns = variant & 1;
      o.has_objectness = variant & 2;
      o.num_classes = variant & 4 ? 5 : 1;
      const size_t width = 4 + (o.has_objectness ? 1 : 0) + o.num_classes;
      std::vector<float> pred(count * width);
      for (size_t r = 0; r < count; r++) {
        float v[64];
        v[0] = u(g) * 640.0f;
        v[1] = u(g) * 640.0f;
        v[2] = 4.0f + u(g) * 60.0f;
        v[3] = 4.0f + u(g) * 60.0f;
        for (size_t k = 4; k < width; k++) v[k] = std::floor(u(g) * 16.0f) / 16.0f;  // ties between classes
        if (r > 0 && u(g) < 0.4f) {  // duplicates of an earlier row's box
          const size_t q = g() % r;
          for (int k = 0; k < 4; k++) v[k] = o.columns ? pred[k * count + q] : pred[q * width + k];
        }
        for (size_t k = 0; k < width; k++) (o.columns ? pred[k * count + r] : pred[r * width + k]) = v[k];
      }
      std::vector<int32_t> filter = {0, 2, 9, -1};
      o.pred = pred.data();
      o.conf = variant == 3 ? 0.0 : 0.25;
      o.iou = variant == 5 ? 0.0 : 0.45;
      o.agnostic = variant == 6;
      o.has_class_filter = variant == 7;
      o.class_filter = filter.data();
      o.class_filter_length = filter.size();
      o.max_candidates = variant == 2 ? 50 : 30000;
      o.max_detections = variant == 4 ? 10 : 1000;
      const maskbox::cpu::YoloDetections want = maskbox::cpu::YoloNms(o);
      const maskbox::cpu::YoloDetections got = maskbox::cuda::YoloNms(o);
      const bool same = got.rows == want.rows && got.classes == want.classes && SameBits(got.scores, want.scores) &&
                        SameBits(got.boxes, want.boxes);
      EXPECT(same, "[%s] yoloNms count=%zu variant=%d: cuda rows %s cpu rows %s", sched, count, variant, Str(got.rows).c_str(),
             Str(want.rows).c_str());
      cases++;
    }
  }
  std::printf("  yoloNms: %d cases [%s]\n", cases, sched);
}

// Runs of the CPU code (ScanRuns, then TransposeRuns for column order) vs cuda::RleRuns.
void TestRle(const char* sched) {
  std::mt19937 g(99);
  int cases = 0;
  const uint32_t shapes[][3] = {{1, 1, 1}, {1, 1, 37}, {2, 5, 7}, {3, 31, 33}, {1, 64, 64}, {2, 100, 90}, {1, 1, 4096}};
  for (const auto& sh : shapes) {
    if (tiny && sh[1] * sh[2] > 1100) continue;
    for (int density = tiny ? 1 : 0; density < (tiny ? 3 : 4); density++) {
      const size_t C = sh[0], H = sh[1], W = sh[2], n = H * W;
      std::vector<uint8_t> m(C * n);
      const unsigned pct[] = {0, 3, 50, 97};
      for (auto& v : m) v = (g() % 100) < pct[density] ? static_cast<uint8_t>(1 + g() % 255) : 0;
      for (int col = 0; col < 2; col++) {
        const auto order = col ? maskbox::cpu::RleOrder::kCol : maskbox::cpu::RleOrder::kRow;
        const auto got = maskbox::cuda::RleRuns(m.data(), C, H, W, order);
        for (size_t c = 0; c < C; c++) {
          std::vector<uint32_t> want;
          if (col) {
            std::vector<uint8_t> t(n);
            maskbox::cpu::TransposeBytes(m.data() + c * n, H, W, t.data());
            maskbox::cpu::ScanRuns(t.data(), n, 0, &want);
          } else {
            maskbox::cpu::ScanRuns(m.data() + c * n, n, 0, &want);
          }
          EXPECT(got[c] == want, "[%s] rle %zux%zux%zu density %d col %d channel %zu: %zu vs %zu values", sched, C, H, W, density, col, c,
                 got[c].size(), want.size());
        }
        cases++;
      }
    }
  }
  std::printf("  rleEncode: %d cases [%s]\n", cases, sched);
}

void TestLogitsToRle(const char* sched) {
  std::mt19937 g(5);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  int cases = 0;
  const size_t shapes[][5] = {{1, 1, 1, 1, 1}, {2, 4, 4, 16, 16}, {3, 7, 5, 29, 40}, {1, 16, 16, 64, 64}, {2, 9, 12, 9, 12}, {1, 40, 30, 17, 13}};
  for (const auto& sh : shapes) {
    if (tiny && sh[3] * sh[4] > 1200) continue;
    maskbox::cpu::LogitsToRleOptions o;
    o.channels = sh[0];
    o.in_height = sh[1];
    o.in_width = sh[2];
    o.out_height = quick ? std::min<size_t>(sh[3], 40) : sh[3];
    o.out_width = sh[4];
    std::vector<float> d(o.channels * o.in_height * o.in_width);
    for (auto& v : d) v = nd(g);
    if (d.size() > 3) d[1] = 0.0f;  // exactly at the cutoff
    o.data = d.data();
    o.cutoff = 0.0f;
    const auto want = maskbox::cpu::LogitsToRle(o);
    const auto got = maskbox::cuda::LogitsToRle(o);
    bool same = want.size() == got.size();
    for (size_t c = 0; same && c < want.size(); c++) same = want[c].text == got[c].text && want[c].area == got[c].area;
    EXPECT(same, "[%s] logitsToRle %zux%zux%zu -> %zux%zu differs", sched, o.channels, o.in_height, o.in_width, o.out_height, o.out_width);
    cases++;
  }
  std::printf("  logitsToRle: %d cases [%s]\n", cases, sched);
}

void TestDice(const char* sched) {
  std::mt19937 g(31);
  int cases = 0;
  const size_t shapes[][3] = {{1, 1, 1}, {2, 3, 100}, {1, 2, 70001}, {3, 1, 0}};  // images, classes, pixels
  for (const auto& sh : shapes) {
    const size_t images = sh[0], classes = sh[1], pixels = tiny ? std::min<size_t>(sh[2], 2000) : sh[2];
    std::vector<std::vector<uint8_t>> p(images), t(images);
    std::vector<const uint8_t*> pp(images), tp(images);
    for (size_t i = 0; i < images; i++) {
      p[i].resize(classes * pixels);
      t[i].resize(classes * pixels);
      for (auto& v : p[i]) v = g() % 3 == 0 ? static_cast<uint8_t>(g()) : 0;
      for (auto& v : t[i]) v = g() % 2 == 0 ? 1 : 0;
      pp[i] = p[i].data();
      tp[i] = t[i].data();
    }
    std::vector<double> got(3 * images * classes, -1.0);
    maskbox::cuda::DiceCounts(pp.data(), tp.data(), images, classes, pixels, got.data());
    for (size_t i = 0; i < images; i++) {
      for (size_t c = 0; c < classes; c++) {
        const auto want = maskbox::cpu::CountOverlap(p[i].data() + c * pixels, t[i].data() + c * pixels, pixels);
        const double* k = &got[3 * (i * classes + c)];
        EXPECT(k[0] == double(want.inter) && k[1] == double(want.a) && k[2] == double(want.b),
               "[%s] dice image %zu class %zu: %g %g %g vs %g %g %g", sched, i, c, k[0], k[1], k[2], double(want.inter),
               double(want.a), double(want.b));
      }
    }
    cases++;
  }
  std::printf("  dice: %d cases [%s]\n", cases, sched);
}

void TestResize(const char* sched) {
  std::mt19937 g(17);
  std::normal_distribution<float> nd(0.0f, 50.0f);
  int cases = 0;
  const size_t shapes[][5] = {{1, 1, 1, 1, 1}, {3, 5, 7, 11, 13}, {2, 16, 16, 8, 8}, {1, 9, 12, 9, 12}, {3, 40, 30, 17, 64}, {1, 2, 3, 1, 300}};
  for (const auto& sh : shapes) {
    const size_t C = sh[0], h = sh[1], w = sh[2], H = sh[3], W = sh[4];
    if (tiny && C * H * W > 1200) continue;
    std::vector<float> in(C * h * w), want(C * H * W), got(C * H * W, -1.0f);
    for (auto& v : in) v = nd(g);
    const auto tx = maskbox::cpu::MakeTaps<float>(w, W), ty = maskbox::cpu::MakeTaps<float>(h, H);
    for (size_t c = 0; c < C; c++) maskbox::cpu::ResizeRows(in.data(), h, w, want.data(), H, W, tx, ty, c, 0, H);
    maskbox::cuda::Resize(in.data(), C, h, w, H, W, got.data());
    EXPECT(SameBits(got, want), "[%s] resize %zux%zux%zu -> %zux%zu differs", sched, C, h, w, H, W);
    cases++;
  }
  std::printf("  resize: %d cases [%s]\n", cases, sched);
}

// mode 0: default levels [0, max]; 1: pooled percentile stretch; 2: random per-channel levels, a degenerate
// channel (high <= low) among them.
template <typename T>
void LetterboxCase(const char* sched, std::mt19937& g, size_t w, size_t h, size_t channels, size_t nw, size_t nh, size_t ow, size_t oh,
                   int mode, int* cases) {
  const size_t max_value = sizeof(T) == 1 ? 255 : 65535;
  std::vector<T> img(w * h * channels);
  for (auto& v : img) v = static_cast<T>(g() % (max_value + 1) / (g() % 4 == 0 ? 7 : 1));
  maskbox::cuda::LetterboxParams p;
  p.data = img.data(), p.sixteen = sizeof(T) == 2, p.width = w, p.height = h, p.channels = channels, p.new_width = nw, p.new_height = nh;
  p.left = (ow - nw) / 2, p.top = (oh - nh) / 2, p.out_width = ow, p.out_height = oh, p.pad = 114.0 / 255;
  p.stretch = mode == 1, p.q_low = 2.0, p.q_high = 98.0;
  for (size_t c = 0; c < 3; c++) {
    p.level_low[c] = mode == 2 ? static_cast<double>(g() % (max_value + 1)) : 0.0;
    p.level_high[c] = mode == 2 ? static_cast<double>(g() % (max_value + 1)) : static_cast<double>(max_value);
  }
  if (mode == 2) p.level_high[1] = p.level_low[1];  // degenerate: range 1
  std::vector<float> want(3 * ow * oh), got(3 * ow * oh, -1.0f);
  double wl = 0, wh = 0, gl = -1, gh = -1;
  maskbox::cpu::Letterbox(img.data(), img.size(), p, want.data(), &wl, &wh);
  maskbox::cuda::Letterbox(p, got.data(), &gl, &gh);
  EXPECT(SameBits(got, want) && gl == wl && gh == wh, "[%s] letterbox %zux%zux%zu (%zu-bit, mode %d) -> %zux%zu in %zux%zu differs", sched, w,
         h, channels, sizeof(T) * 8, mode, nw, nh, ow, oh);
  (*cases)++;
}

void TestLetterbox(const char* sched) {
  std::mt19937 g(23);
  int cases = 0;
  const size_t shapes[][6] = {{1, 1, 1, 1, 1, 1}, {7, 5, 16, 11, 16, 16}, {33, 20, 32, 19, 32, 32}, {64, 48, 40, 30, 40, 40}, {3, 9, 5, 15, 8, 16}};
  const size_t chans[] = {1, 3, 4};
  for (const auto& sh : shapes) {
    if (tiny && sh[4] * sh[5] > 300) continue;
    for (size_t ch : chans) {
      for (int mode = 0; mode < 3; mode++) {
        LetterboxCase<uint8_t>(sched, g, sh[0], sh[1], ch, sh[2], sh[3], sh[4], sh[5], mode, &cases);
        if (!tiny) LetterboxCase<uint16_t>(sched, g, sh[0], sh[1], ch, sh[2], sh[3], sh[4], sh[5], mode, &cases);
      }
    }
  }
  std::printf("  letterbox: %d cases [%s]\n", cases, sched);
}

// Every pair of points (p, q) of [n * dims] that is a sqrt-tie (the inputs sklearn labels sequentially).
bool HasSqrtTie(const std::vector<double>& pts, size_t dims, double eps) {
  const size_t n = pts.size() / dims;
  const double r2 = eps * eps, bound = maskbox::cpu::SqrtTieBound(eps);
  for (size_t a = 0; a < n; a++)
    for (size_t b = a + 1; b < n; b++)
      if (maskbox::math::SqrtTie(maskbox::math::SqDistN(&pts[a * dims], &pts[b * dims], dims, 1), r2, bound)) return true;
  return false;
}

template <typename T>
void DbscanCase(const char* sched, const char* what, const std::vector<double>& pts, size_t dims, double eps, int64_t min_samples, int* cases) {
  maskbox::cpu::DbscanOptions o;
  o.n = pts.size() / dims, o.dims = dims, o.eps = eps, o.min_samples = min_samples;
  const std::vector<T> in(pts.begin(), pts.end());
  std::vector<int32_t> want(o.n, -7), got(o.n, -9);
  std::vector<uint8_t> want_core(o.n, 7), got_core(o.n, 9);
  const int32_t kw = maskbox::cpu::Dbscan(in.data(), o, want.data(), want_core.data());
  const double* p64 = nullptr;
  const float* p32 = nullptr;
  if constexpr (sizeof(T) == 4) p32 = in.data();
  else p64 = in.data();
  const int32_t kg = maskbox::cuda::Dbscan(p64, p32, o, got.data(), got_core.data());
  EXPECT(kg == kw && got == want && got_core == want_core, "[%s] dbscan %s (n=%zu, dims=%zu, eps=%g, min=%lld, %s): %d clusters, want %d; %s vs %s",
         sched, what, o.n, dims, eps, static_cast<long long>(min_samples), sizeof(T) == 4 ? "f32" : "f64", kg, kw, Str(got).c_str(),
         Str(want).c_str());
  (*cases)++;
}

void TestDbscan(const char* sched) {
  std::mt19937 g(53);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int cases = 0;
  const size_t big = tiny ? 150 : quick ? 600 : 3000;
  const auto ints = [&](size_t n, int extent) {
    std::vector<double> p(2 * n);
    for (auto& v : p) v = static_cast<double>(g() % static_cast<unsigned>(extent));
    return p;
  };
  const auto blobs = [&](size_t n, size_t dims, double scale, double spread) {
    std::vector<double> p(n * dims);
    for (size_t i = 0; i < p.size(); i++) p[i] = (i % dims == 0 ? std::floor(u(g) * 4) * spread : 0) + u(g) * scale;
    return p;
  };
  DbscanCase<double>(sched, "empty", {}, 2, 1.0, 1, &cases);
  for (size_t n : {1, 5, 11}) DbscanCase<double>(sched, "n <= 11 (host brute force)", ints(n, 4), 2, 1.5, 2, &cases);
  for (double eps : {1.0, 1.5, 3.0}) {
    for (int64_t m : {1, 3, 6}) DbscanCase<double>(sched, "integer grid", ints(big, tiny ? 20 : 60), 2, eps, m, &cases);
  }
  DbscanCase<float>(sched, "integer grid", ints(big, 40), 2, 1.5, 4, &cases);
  DbscanCase<double>(sched, "float blobs", blobs(big, 2, 10, 100), 2, 0.4, 4, &cases);
  DbscanCase<float>(sched, "float blobs", blobs(big, 2, 10, 100), 2, 0.4, 4, &cases);
  DbscanCase<double>(sched, "1-D", blobs(big, 1, 30, 1e6), 1, 0.05, 3, &cases);
  DbscanCase<double>(sched, "3-D", blobs(big / 2, 3, 3, 50), 3, 0.5, 5, &cases);
  DbscanCase<double>(sched, "sparse in x", blobs(big / 3, 2, 1, 1e12), 2, 0.05, 2, &cases);
  std::vector<double> sparse = blobs(big / 3, 2, 1, 1e12);  // both axes ~2^26 cells: keys beyond 32 bits, two sorts
  for (size_t i = 1; i < sparse.size(); i += 2) sparse[i] += std::floor(u(g) * 4) * 1e12;
  {
    double b[4] = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (size_t i = 0; i < sparse.size(); i += 2) {
      b[0] = std::min(b[0], sparse[i]), b[1] = std::max(b[1], sparse[i]);
      b[2] = std::min(b[2], sparse[i + 1]), b[3] = std::max(b[3], sparse[i + 1]);
    }
    const maskbox::math::DbscanGrid sg = maskbox::math::MakeDbscanGrid(0.05, b[0], b[1], b[2], b[3]);
    EXPECT(static_cast<double>(sg.nx) * static_cast<double>(sg.ny) > 4294967296.0, "[%s] the two-sort case has 32-bit cell keys", sched);
  }
  DbscanCase<double>(sched, "sparse in x and y (two sorts)", sparse, 2, 0.05, 2, &cases);
  DbscanCase<double>(sched, "spread beyond a double", blobs(tiny ? 40 : 300, 2, 1, 1e300), 2, 0.2, 2, &cases);
  std::vector<double> dup(2 * (tiny ? 40 : 400));
  for (size_t i = 0; i < dup.size(); i++) dup[i] = i % 2 ? -2.0 : 1.5 + (i % 6 == 0 ? 1e-12 : 0);
  DbscanCase<double>(sched, "near-duplicates", dup, 2, 1e-9, 20, &cases);
  DbscanCase<double>(sched, "no core point", ints(big, 1000), 2, 1.0, 50, &cases);
  // eps = sqrt(13): integer pairs at (2, 3) apart are sqrt-ties (sklearn's one-way decisions, host code).
  std::vector<double> ties = ints(tiny ? 60 : 400, tiny ? 12 : 30);
  const double tie_eps = std::sqrt(13.0);
  EXPECT(HasSqrtTie(ties, 2, tie_eps), "[%s] the sqrt-tie case has no tie", sched);
  DbscanCase<double>(sched, "sqrt-ties", ties, 2, tie_eps, 3, &cases);
  std::printf("  dbscan: %d cases [%s]\n", cases, sched);
}

void TestBaseline(const char* sched) {
  std::mt19937 g(59);
  int cases = 0;
  struct Shape {
    size_t w, h;
    int channels, passes;
    double eps;
    int64_t min;
  };
  const Shape shapes[] = {{1, 1, 3, 5, 3, 2},     {7, 5, 1, 1, 3, 2},     {40, 30, 3, 5, 3, 2}, {64, 48, 4, 3, 1.5, 3},
                          {33, 65, 3, 2, 3, 1},   {50, 40, 1, 1, std::sqrt(13.0), 3}, {128, 96, 3, 5, 3, 2}};
  for (const Shape& sh : shapes) {
    if (tiny && sh.w * sh.h > 1200) continue;
    for (int variant = 0; variant < 2; variant++) {
      // Blobs of bright pixels on a dark, noisy background (dense and sparse kept pixels).
      std::vector<uint8_t> img(sh.w * sh.h * size_t(sh.channels));
      for (auto& v : img) v = static_cast<uint8_t>(g() % (variant ? 40 : 8));
      for (int b = 0; b < 4; b++) {
        const size_t cx = g() % sh.w, cy = g() % sh.h, r = 1 + g() % 6;
        for (size_t y = 0; y < sh.h; y++)
          for (size_t x = 0; x < sh.w; x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
              for (int c = 0; c < sh.channels; c++) img[(y * sh.w + x) * size_t(sh.channels) + size_t(c)] = static_cast<uint8_t>(200 + g() % 56);
      }
      maskbox::cpu::BaselineOptions o;
      o.width = sh.w, o.height = sh.h, o.channels = sh.channels, o.passes = sh.passes, o.eps = sh.eps, o.min_samples = sh.min;
      o.unit = variant == 0, o.edges = variant == 1;
      const maskbox::cpu::BaselineOutput want = maskbox::cpu::Baseline(img.data(), o);
      const maskbox::cpu::BaselineOutput got = maskbox::cuda::Baseline(img.data(), o);
      EXPECT(SameBits(got.boxes, want.boxes) && got.sizes == want.sizes && got.points == want.points && got.labels == want.labels,
             "[%s] baseline %zux%zux%d passes %d eps %g: %zu boxes / %zu points, want %zu / %zu; labels %s vs %s", sched, sh.w, sh.h, sh.channels,
             sh.passes, sh.eps, got.sizes.size(), got.labels.size(), want.sizes.size(), want.labels.size(), Str(got.labels).c_str(),
             Str(want.labels).c_str());
      cases++;
    }
  }
  std::printf("  baseline: %d cases [%s]\n", cases, sched);
}

void TestRleDecodeOverlap(const char* sched) {
  std::mt19937 g(41);
  int cases = 0;
  const uint32_t shapes[][3] = {{1, 1, 1}, {2, 5, 7}, {3, 31, 33}, {1, 64, 64}, {2, 1, 300}, {4, 0, 5}};
  for (const auto& sh : shapes) {
    const size_t C = sh[0], H = sh[1], W = sh[2], n = H * W;
    if (tiny && n > 1100) continue;
    for (int col = 0; col < 2; col++) {
      const auto order = col ? maskbox::cpu::RleOrder::kCol : maskbox::cpu::RleOrder::kRow;
      std::vector<std::vector<uint32_t>> runs(C), other(C);
      for (size_t c = 0; c < C; c++) {
        for (auto* r : {&runs[c], &other[c]}) {  // random valid runs (some channels empty)
          for (size_t p = g() % 5; p < n; p += 1 + g() % 9) {
            const size_t len = std::min<size_t>(n - p, 1 + g() % (c == 1 ? 200 : 6));
            r->push_back(static_cast<uint32_t>(p));
            r->push_back(static_cast<uint32_t>(len));
            p += len;
          }
          if (c == 2) r->clear();
        }
      }
      std::vector<const uint32_t*> lists(C), others(C);
      std::vector<size_t> lengths(C), other_lengths(C);
      for (size_t c = 0; c < C; c++) lists[c] = runs[c].data(), lengths[c] = runs[c].size(), others[c] = other[c].data(), other_lengths[c] = other[c].size();
      std::vector<uint8_t> got(C * n, 7), want(C * n, 0);
      maskbox::cuda::RleDecode(lists.data(), lengths.data(), C, static_cast<uint32_t>(H), static_cast<uint32_t>(W), order, got.data());
      maskbox::cpu::DecodeScratch scratch;
      for (size_t c = 0; c < C; c++)
        maskbox::cpu::DecodeChannel(runs[c].data(), runs[c].size(), static_cast<uint32_t>(H), static_cast<uint32_t>(W), order, want.data() + c * n, &scratch);
      EXPECT(got == want, "[%s] rleDecode %zux%zux%zu col %d differs", sched, C, H, W, col);
      std::vector<double> ov(3 * C, -1.0);
      maskbox::cuda::RleOverlap(lists.data(), lengths.data(), others.data(), other_lengths.data(), C, ov.data());
      for (size_t c = 0; c < C; c++) {
        const double inter = double(maskbox::cpu::RunsIntersection(runs[c].data(), runs[c].size(), other[c].data(), other[c].size()));
        EXPECT(ov[3 * c] == inter && ov[3 * c + 1] == double(maskbox::cpu::RunsArea(runs[c].data(), runs[c].size())) &&
                   ov[3 * c + 2] == double(maskbox::cpu::RunsArea(other[c].data(), other[c].size())),
               "[%s] rleOverlap %zux%zux%zu channel %zu differs", sched, C, H, W, c);
      }
      cases++;
    }
  }
  // A run past the mask is rejected before any launch.
  const uint32_t bad[] = {3, 5};
  const uint32_t* bad_list = bad;
  const size_t bad_len = 2;
  std::vector<uint8_t> out(4);
  bool threw = false;
  try {
    maskbox::cuda::RleDecode(&bad_list, &bad_len, 1, 2, 2, maskbox::cpu::RleOrder::kRow, out.data());
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  EXPECT(threw, "[%s] rleDecode accepted a run past the mask", sched);
  std::printf("  rleDecode/rleOverlap: %d cases [%s]\n", cases, sched);
}

// ---------------------------------------------------------------- kernels for the harness checks
__global__ void Fill(int* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = i;
}

// Each thread stores its value, then reads its right neighbour's (correct: a barrier in between).
template <bool kSync>
__global__ void Neighbour(const int* in, int* out) {
  __shared__ int s[128];
  const unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * 128 + t];
  if (kSync) __syncthreads();
  out[blockIdx.x * 128 + t] = s[(t + 1) % 128];
}

// Warp sum in shared memory, the legacy "warp-synchronous" way; correct only with __syncwarp.
template <bool kSync>
__global__ void WarpSum(const int* in, int* out) {
  __shared__ int s[64];
  const unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * 32 + t];
  s[t + 32] = 0;
  __syncwarp();
  for (unsigned o = 16; o > 0; o >>= 1) {
    const int v = s[t] + s[t + o];
    if (kSync) __syncwarp();
    s[t] = v;
    if (kSync) __syncwarp();
  }
  if (t == 0) out[blockIdx.x] = s[0];
}

__global__ void DivergentBarrier(int* out) {
  const unsigned t = threadIdx.x;
  if (t % 2) {
    __syncthreads();
    out[t] = 1;
  } else {
    __syncthreads();
    out[t] = 2;
  }
}

__global__ void EarlyReturnBarrier(int* out) {
  const unsigned t = threadIdx.x;
  if (t >= 16) return;
  __syncthreads();
  out[t] = 1;
}

__global__ void ShuffleReturnedLane(int* out) {
  const unsigned t = threadIdx.x;
  if (t >= 16) return;
  out[t] = __shfl_down_sync(0xffffffffu, static_cast<int>(t), 1);
}

__global__ void OutOfBounds(int* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = i;  // no `if (i < n)`: the last block writes past the end
  (void)n;
}

template <typename T>
T* DeviceCopy(const std::vector<T>& h) {
  T* d = nullptr;
  cudaMalloc(&d, h.size() * sizeof(T));
  cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice);
  return d;
}

// Returns true when the kernel's result is right.
bool RunNeighbour(bool sync) {
  const int blocks = 4;
  std::vector<int> in(blocks * 128), out(blocks * 128);
  for (size_t i = 0; i < in.size(); i++) in[i] = static_cast<int>(i * 7 + 3);
  int* din = DeviceCopy(in);
  int* dout = DeviceCopy(out);
  if (sync) {
    LAUNCH((Neighbour<true>), blocks, 128, 0, nullptr, din, dout);
  } else {
    LAUNCH((Neighbour<false>), blocks, 128, 0, nullptr, din, dout);
  }
  cudaMemcpy(out.data(), dout, out.size() * sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(din);
  cudaFree(dout);
  for (int b = 0; b < blocks; b++)
    for (int t = 0; t < 128; t++)
      if (out[b * 128 + t] != in[b * 128 + (t + 1) % 128]) return false;
  return true;
}

bool RunWarpSum(bool sync) {
  const int blocks = 3;
  std::vector<int> in(blocks * 32), out(blocks);
  for (size_t i = 0; i < in.size(); i++) in[i] = static_cast<int>(i % 13) + 1;
  int* din = DeviceCopy(in);
  int* dout = DeviceCopy(out);
  if (sync) {
    LAUNCH((WarpSum<true>), blocks, 32, 0, nullptr, din, dout);
  } else {
    LAUNCH((WarpSum<false>), blocks, 32, 0, nullptr, din, dout);
  }
  cudaMemcpy(out.data(), dout, out.size() * sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(din);
  cudaFree(dout);
  for (int b = 0; b < blocks; b++) {
    int want = 0;
    for (int t = 0; t < 32; t++) want += in[b * 32 + t];
    if (out[b] != want) return false;
  }
  return true;
}

void TestHarness() {
  EXPECT(RunNeighbour(true), "Neighbour with __syncthreads gave a wrong result");
  EXPECT(RunWarpSum(true), "WarpSum with __syncwarp gave a wrong result");
  int* d = nullptr;
  cudaMalloc(&d, 64 * sizeof(int));
  cudaGetLastError();
  LAUNCH(Fill, 1, 2048, 0, nullptr, d, 64);
  EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "a 2048-thread block was not refused");
  LAUNCH(Fill, 0, 64, 0, nullptr, d, 64);
  EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "an empty grid was not refused");
  LAUNCH(Fill, dim3(1, 70000), 64, 0, nullptr, d, 64);
  EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "grid.y > 65535 was not refused");
  LAUNCH(Fill, 1, 64, 64 * 1024, nullptr, d, 64);
  EXPECT(cudaGetLastError() == cudaErrorInvalidValue, "64 KiB of dynamic shared memory was not refused");
  LAUNCH(Fill, 1, 64, 0, nullptr, d, 64);
  EXPECT(cudaGetLastError() == cudaSuccess, "a valid launch failed");
  std::vector<int> h(64);
  cudaMemcpy(h.data(), d, 64 * sizeof(int), cudaMemcpyDeviceToHost);
  for (int i = 0; i < 64; i++) EXPECT(h[i] == i, "Fill wrote %d at %d", h[i], i);
  cudaFree(d);
  maskbox::cuda::DeviceStatus st = maskbox::cuda::Probe();
  EXPECT(st.code == 0 && st.count >= 1 && st.emulated == bool(MB_EMULATED), "Probe: code %d count %d emulated %d", st.code, st.count,
         int(st.emulated));
}

// ---------------------------------------------------------------- deliberate bugs (child process)
int RunBug(const std::string& bug) {
  if (bug == "missing-syncthreads") {
    if (!RunNeighbour(false)) {
      std::fprintf(stderr, "wrong result: a thread read its neighbour's slot before it was written\n");
      return 1;
    }
    return 0;
  }
  if (bug == "warp-without-syncwarp") {
    if (!RunWarpSum(false)) {
      std::fprintf(stderr, "wrong result: the warp reduction read partial sums not yet written\n");
      return 1;
    }
    return 0;
  }
  int* d = nullptr;
  cudaMalloc(&d, 100 * sizeof(int));
  if (bug == "divergent-barrier") LAUNCH(DivergentBarrier, 1, 64, 0, nullptr, d);
  if (bug == "barrier-after-return") LAUNCH(EarlyReturnBarrier, 1, 64, 0, nullptr, d);
  if (bug == "shuffle-returned-lane") LAUNCH(ShuffleReturnedLane, 1, 32, 0, nullptr, d);
  if (bug == "out-of-bounds-write") LAUNCH(OutOfBounds, 4, 32, 0, nullptr, d, 100);
  if (bug == "host-pointer") {
    std::vector<int> h(100);
    LAUNCH(Fill, 1, 100, 0, nullptr, h.data(), 100);
  }
  if (bug == "memcpy-overlong") {
    std::vector<int> h(200);
    cudaMemcpy(h.data(), d, 200 * sizeof(int), cudaMemcpyDeviceToHost);
  }
  cudaFree(d);
  return 0;  // not caught
}

// Runs this binary with --bug NAME; the child must fail, and its stderr must contain `expect`.
#if MB_EMULATED  // (the nvcc build leaves the bugs to compute-sanitizer)
void ExpectCaught(const char* self, const char* bug, const std::vector<const char*>& expect) {
  char tmpl[] = "/tmp/mbemu-bug-XXXXXX";
  const int fd = mkstemp(tmpl);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  char* argv[] = {const_cast<char*>(self), const_cast<char*>("--bug"), const_cast<char*>(bug), nullptr};
  pid_t pid;
  int status = 0;
  if (posix_spawn(&pid, self, &fa, nullptr, argv, environ) != 0) {
    EXPECT(false, "could not start %s --bug %s", self, bug);
    return;
  }
  waitpid(pid, &status, 0);
  posix_spawn_file_actions_destroy(&fa);
  std::string text;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t r; (r = read(fd, buf, sizeof buf)) > 0;) text.append(buf, size_t(r));
  close(fd);
  unlink(tmpl);
  const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  bool matched = false;
  for (const char* e : expect) matched = matched || text.find(e) != std::string::npos;
  std::string first = text.substr(0, text.find('\n'));
  for (const std::string& line : {std::string("WARNING: ThreadSanitizer: data race"), std::string("mbemu: "), std::string("ERROR: "), std::string("wrong result")}) {
    const size_t p = text.find(line);
    if (p != std::string::npos) {
      first = text.substr(p, text.find('\n', p) - p);
      break;
    }
  }
  EXPECT(failed && matched, "deliberate bug '%s' was not caught (exit %d): %s", bug, status, text.substr(0, 600).c_str());
  if (failed && matched) std::printf("  caught %-24s %s\n", bug, first.substr(0, 150).c_str());
}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up in CI logs as they happen
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--bug") == 0 && i + 1 < argc) return RunBug(argv[i + 1]);
  }
#if !MB_EMULATED
  // Built by nvcc (native/cuda/test/gpu-check.sh): the same comparisons once, on the real device.
  const char* flavour = "device";
  struct S {
    int k;
    uint64_t seed;
    const char* name;
  } scheds[] = {{0, 0, "device"}};
#elif defined(MBEMU_OS_THREADS)
  quick = tiny = true;  // an OS thread per CUDA thread: keep it small
  const char* flavour = "os-threads";
  struct S {
    mbemu::Sched k;
    uint64_t seed;
    const char* name;
  } scheds[] = {{mbemu::Sched::Forward, 1, "threads"}};
#else
  const char* flavour = "fibers";
  struct S {
    mbemu::Sched k;
    uint64_t seed;
    const char* name;
  } scheds[] = {{mbemu::Sched::Forward, 1, "forward"}, {mbemu::Sched::Reverse, 1, "reverse"},
                {mbemu::Sched::Random, 1, "random:1"}, {mbemu::Sched::Random, 2, "random:2"}};
#endif
  std::printf("emu_test (%s%s)\n", flavour, tiny ? ", tiny" : quick ? ", quick" : "");
  for (const S& s : scheds) {
#if MB_EMULATED
    mbemu::SetSchedule(s.k, s.seed);
#endif
    TestHarness();
    TestNms(s.name);
    TestYolo(s.name);
    TestRle(s.name);
    TestLogitsToRle(s.name);
    TestDice(s.name);
    TestResize(s.name);
    TestLetterbox(s.name);
    TestRleDecodeOverlap(s.name);
    TestDbscan(s.name);
    TestBaseline(s.name);
#if MB_EMULATED
    if (quick && s.k == mbemu::Sched::Reverse) break;  // quick: forward and reverse only
#endif
  }
#if MB_EMULATED  // on a GPU the deliberate bugs are compute-sanitizer's to find (gpu-check.sh runs them under racecheck)
  const char* self = "/proc/self/exe";
  char path[4096];
  const ssize_t len = readlink(self, path, sizeof path - 1);
  if (len > 0) {
    path[len] = 0;
    self = path;
  }
  ExpectCaught(self, "missing-syncthreads", {"wrong result", "data race"});
  ExpectCaught(self, "warp-without-syncwarp", {"wrong result", "data race"});
  ExpectCaught(self, "divergent-barrier", {"divergent __syncthreads"});
  ExpectCaught(self, "barrier-after-return", {"__syncthreads reached after thread"});
  ExpectCaught(self, "shuffle-returned-lane", {"has returned"});
  ExpectCaught(self, "out-of-bounds-write", {"write past the end", "heap-buffer-overflow"});
  ExpectCaught(self, "host-pointer", {"host pointer passed"});
  ExpectCaught(self, "memcpy-overlong", {"reads past the end"});
#endif
  if (failures) {
    std::printf("emu_test: %d FAILURES\n", failures);
    return 1;
  }
  std::printf("emu_test: all passed\n");
  return 0;
}
