// A driver for the fuzz targets where libFuzzer is unavailable (gcc): replays the files given on the
// command line, or runs N pseudo-random inputs of random sizes (`fuzz_x -runs=N -seed=S -max_len=L`).
// It finds far less than libFuzzer's coverage-guided search; it keeps the targets compiling and running
// under ASan/UBSan on machines without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  unsigned long runs = 20000, seed = 1, max_len = 4096;
  std::vector<const char*> files;
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], "-runs=", 6) == 0) runs = std::strtoul(argv[i] + 6, nullptr, 10);
    else if (std::strncmp(argv[i], "-seed=", 6) == 0) seed = std::strtoul(argv[i] + 6, nullptr, 10);
    else if (std::strncmp(argv[i], "-max_len=", 9) == 0) max_len = std::strtoul(argv[i] + 9, nullptr, 10);
    else files.push_back(argv[i]);
  }
  for (const char* f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  if (!files.empty()) return 0;
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&]() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  std::vector<uint8_t> buf(max_len);
  for (unsigned long r = 0; r < runs; r++) {
    const size_t len = next() % (max_len + 1);
    for (size_t i = 0; i < len; i++) buf[i] = static_cast<uint8_t>(next() >> 32);
    LLVMFuzzerTestOneInput(buf.data(), len);
  }
  std::printf("%lu random inputs, no findings\n", runs);
  return 0;
}
