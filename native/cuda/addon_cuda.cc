// N-API bindings of the CUDA kernels (plain C++: no CUDA header here, only maskbox_cuda.h). The same
// file serves the real build (maskbox.node, kernels compiled by nvcc) and the emulated one
// (maskbox-emu.node, kernels compiled by g++ against emu/cuda_emu.h). Exported as `addon.cuda`:
//   cuda.status() -> { code, error, count, name, major, minor, emulated }   (sync, cheap)
//   cuda.nms / yoloNms / rleEncode / logitsToRle / dice (args)  -> Promise, same arguments and results as the cpu ops: the
// argument parsing is the cpu bindings' own (JsNmsWith / JsYoloNmsWith), only the kernel differs.
//   cuda.resize / letterbox / rleDecode / rleOverlap (args) -> Promise: the cpu ops' arguments (those of
// the kernel contract: rleDecode takes `runs` only), parsed here with the same checks (common.h, rleNapi.h).
// Each kernel synchronises its stream before returning, so the Promise resolves on finished work.
#include "cuda/addon_cuda.h"

#include <cmath>

#include "cpu/rleNapi.h"
#include "cuda/maskbox_cuda.h"

namespace maskbox::cpu {
Napi::Value JsNmsWith(const Napi::CallbackInfo& info, NmsKernel kernel, const char* op);
Napi::Value JsYoloNmsWith(const Napi::CallbackInfo& info, YoloNmsKernel kernel, const char* op);
Napi::Value JsRleEncodeWith(const Napi::CallbackInfo& info, RleRunsKernel kernel, const char* op);
Napi::Value JsLogitsToRleWith(const Napi::CallbackInfo& info, LogitsToRleKernel kernel, const char* op);
Napi::Value JsDiceWith(const Napi::CallbackInfo& info, DiceKernel kernel, const char* op);
}  // namespace maskbox::cpu

namespace maskbox::cuda {
namespace {

Napi::Value JsStatus(const Napi::CallbackInfo& info) {
  const DeviceStatus st = Probe();
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", st.code);
  o.Set("error", st.error);
  o.Set("count", st.count);
  o.Set("name", st.name);
  o.Set("major", st.major);
  o.Set("minor", st.minor);
  o.Set("emulated", st.emulated);
  return o;
}

Napi::Value JsNms(const Napi::CallbackInfo& info) { return cpu::JsNmsWith(info, Nms, "cuda nms"); }
Napi::Value JsYoloNms(const Napi::CallbackInfo& info) { return cpu::JsYoloNmsWith(info, YoloNms, "cuda yoloNms"); }
Napi::Value JsRleEncode(const Napi::CallbackInfo& info) { return cpu::JsRleEncodeWith(info, RleRuns, "cuda rleEncode"); }
Napi::Value JsDice(const Napi::CallbackInfo& info) { return cpu::JsDiceWith(info, DiceCounts, "cuda dice"); }
Napi::Value JsLogitsToRle(const Napi::CallbackInfo& info) { return cpu::JsLogitsToRleWith(info, LogitsToRle, "cuda logitsToRle"); }

/** Throws the "overlapping array" RangeError when [a, a + na) and [b, b + nb) share a byte. */
void NoOverlap(const Args& args, const void* a, size_t na, const void* b, size_t nb) {
  const char* pa = static_cast<const char*>(a);
  const char* pb = static_cast<const char*>(b);
  if (na && nb && pa < pb + nb && pb < pa + na) args.RangeFail("out", "an array that does not overlap data", "an overlapping array");
}

class ResizeWorker : public Worker {
 public:
  using Worker::Worker;
  View<const float> data;
  View<float> out;
  size_t channels = 0, h = 0, w = 0, H = 0, W = 0;
  void Run() override { Resize(data.data, channels, h, w, H, W, out.data); }
};

Napi::Value JsResize(const Napi::CallbackInfo& info) {
  Args args(info, "cuda resize");
  auto w = std::make_unique<ResizeWorker>(info.Env(), "cuda resize");
  auto data = args.Float32("data"), out = args.Float32("out");
  const int64_t kMax = INT32_MAX;
  w->channels = static_cast<size_t>(args.Integer("channels", 1, kMax));
  w->h = static_cast<size_t>(args.Integer("inHeight", 1, kMax));
  w->w = static_cast<size_t>(args.Integer("inWidth", 1, kMax));
  w->H = static_cast<size_t>(args.Integer("outHeight", 1, kMax));
  w->W = static_cast<size_t>(args.Integer("outWidth", 1, kMax));
  size_t n_in = 0, n_out = 0;
  try {
    n_in = CheckedMul(w->channels, CheckedMul(w->h, w->w));
    n_out = CheckedMul(w->channels, CheckedMul(w->H, w->W));
  } catch (const std::overflow_error&) {
    args.RangeFail("channels", "a shape whose element count fits in memory", "an overflowing shape");
  }
  args.Length("data", data.ElementLength(), n_in, "a Float32Array of length channels * inHeight * inWidth");
  args.Length("out", out.ElementLength(), n_out, "a Float32Array of length channels * outHeight * outWidth");
  NoOverlap(args, data.Data(), n_in * sizeof(float), out.Data(), n_out * sizeof(float));
  w->data = w->HoldConst(data);
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

class LetterboxWorker : public Worker {
 public:
  using Worker::Worker;
  LetterboxParams params;
  View<float> out;
  double low = 0, high = 0;
  void Run() override { Letterbox(params, out.data, &low, &high); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("low", low);
    o.Set("high", high);
    return o;
  }
};

Napi::Value JsLetterbox(const Napi::CallbackInfo& info) {
  Args args(info, "cuda letterbox");
  auto w = std::make_unique<LetterboxWorker>(info.Env(), "cuda letterbox");
  LetterboxParams& o = w->params;
  const int64_t kMax = INT32_MAX;
  const int64_t max_value = args.Integer("maxValue", 255, 65535);
  if (max_value != 255 && max_value != 65535) args.RangeFail("maxValue", "255 or 65535", std::to_string(max_value));
  o.width = static_cast<size_t>(args.Integer("width", 1, kMax));
  o.height = static_cast<size_t>(args.Integer("height", 1, kMax));
  o.channels = static_cast<size_t>(args.Integer("channels", 1, 4));
  if (o.channels == 2) args.RangeFail("channels", "1, 3 or 4", "2");
  o.new_width = static_cast<size_t>(args.Integer("newWidth", 1, kMax));
  o.new_height = static_cast<size_t>(args.Integer("newHeight", 1, kMax));
  o.out_width = static_cast<size_t>(args.Integer("outWidth", 1, kMax));
  o.out_height = static_cast<size_t>(args.Integer("outHeight", 1, kMax));
  if (o.new_width > o.out_width) args.RangeFail("newWidth", "at most outWidth", std::to_string(o.new_width));
  if (o.new_height > o.out_height) args.RangeFail("newHeight", "at most outHeight", std::to_string(o.new_height));
  o.left = static_cast<size_t>(args.Integer("left", 0, static_cast<int64_t>(o.out_width - o.new_width)));
  o.top = static_cast<size_t>(args.Integer("top", 0, static_cast<int64_t>(o.out_height - o.new_height)));
  o.pad = args.Number("pad", -INFINITY, INFINITY);
  o.stretch = args.Boolean("stretch");
  if (o.stretch) {
    o.q_low = args.Number("percentileLow", 0, 100);
    o.q_high = args.Number("percentileHigh", 0, 100);
    if (!(o.q_low < o.q_high)) args.RangeFail("percentileHigh", "a value above percentileLow", std::to_string(o.q_high));
  }
  size_t samples = 0, outputs = 0;
  try {
    samples = CheckedMul(CheckedMul(o.width, o.height), o.channels);
    outputs = CheckedMul(CheckedMul(o.out_width, o.out_height), 3);
  } catch (const std::overflow_error&) {
    args.RangeFail("width", "an image whose sample count fits in memory", "an overflowing size");
  }
  size_t in_bytes = 0;
  if (max_value == 255) {
    auto d = args.Uint8("data");
    args.Length("data", d.ElementLength(), samples, "a Uint8Array of width * height * channels samples");
    o.data = w->HoldConst(d).data;
    in_bytes = samples;
  } else {
    auto d = args.Uint16("data");
    args.Length("data", d.ElementLength(), samples, "a Uint16Array of width * height * channels samples");
    o.data = w->HoldConst(d).data;
    o.sixteen = true;
    in_bytes = samples * 2;
  }
  auto out = args.Float32("out");
  args.Length("out", out.ElementLength(), outputs, "a Float32Array of length 3 * outHeight * outWidth");
  NoOverlap(args, o.data, in_bytes, out.Data(), outputs * sizeof(float));
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

class RleDecodeWorker : public Worker {
 public:
  using Worker::Worker;
  std::vector<View<const uint32_t>> runs;
  cpu::Shape shape;
  cpu::RleOrder order = cpu::RleOrder::kRow;
  View<uint8_t> out;
  void Run() override {
    std::vector<const uint32_t*> lists(runs.size());
    std::vector<size_t> lengths(runs.size());
    for (size_t c = 0; c < runs.size(); c++) lists[c] = runs[c].data, lengths[c] = runs[c].length;
    RleDecode(lists.data(), lengths.data(), runs.size(), shape.height, shape.width, order, out.data);
  }
};

Napi::Value JsRleDecode(const Napi::CallbackInfo& info) {
  Args args(info, "cuda rleDecode");
  Napi::Object o = cpu::Options(info);
  auto w = std::make_unique<RleDecodeWorker>(info.Env(), "cuda rleDecode");
  w->shape = cpu::ReadShape(args);
  w->order = cpu::ReadOrder(args);
  w->runs = cpu::HoldArrays<uint32_t>(w.get(), args, o, "runs", napi_uint32_array, "Uint32Array", UINT32_MAX);
  auto out = args.Uint8("out");
  size_t expected = 0;
  try {
    expected = CheckedMul(w->runs.size(), w->shape.pixels);
  } catch (const std::overflow_error&) {
    args.RangeFail("out", "channels * height * width that fits in memory", std::to_string(w->runs.size()) + " channels");
  }
  args.Length("out", out.ElementLength(), expected, "a Uint8Array of length channels * height * width");
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

class RleOverlapWorker : public Worker {
 public:
  using Worker::Worker;
  std::vector<View<const uint32_t>> a, b;
  View<double> out;
  void Run() override {
    const size_t n = a.size();
    std::vector<const uint32_t*> pa(n), pb(n);
    std::vector<size_t> la(n), lb(n);
    for (size_t k = 0; k < n; k++) pa[k] = a[k].data, la[k] = a[k].length, pb[k] = b[k].data, lb[k] = b[k].length;
    RleOverlap(pa.data(), la.data(), pb.data(), lb.data(), n, out.data);
  }
};

void CheckEven(const Args& args, const std::vector<View<const uint32_t>>& lists, const char* name) {
  for (size_t k = 0; k < lists.size(); k++) {
    if (lists[k].length % 2 != 0) {
      args.RangeFail((std::string(name) + "[" + std::to_string(k) + "]").c_str(), "a Uint32Array of even length (start, length pairs)",
                     "length " + std::to_string(lists[k].length));
    }
  }
}

Napi::Value JsRleOverlap(const Napi::CallbackInfo& info) {
  Args args(info, "cuda rleOverlap");
  Napi::Object o = cpu::Options(info);
  auto w = std::make_unique<RleOverlapWorker>(info.Env(), "cuda rleOverlap");
  w->a = cpu::HoldArrays<uint32_t>(w.get(), args, o, "a", napi_uint32_array, "Uint32Array", UINT32_MAX / 3);
  w->b = cpu::HoldArrays<uint32_t>(w.get(), args, o, "b", napi_uint32_array, "Uint32Array", UINT32_MAX / 3);
  if (w->b.size() != w->a.size()) {
    args.RangeFail("b", "as many run lists as a (" + std::to_string(w->a.size()) + ")", std::to_string(w->b.size()));
  }
  CheckEven(args, w->a, "a");
  CheckEven(args, w->b, "b");
  auto out = cpu::Float64Value(args, o, "out");
  args.Length("out", out.ElementLength(), 3 * w->a.size(), "a Float64Array of length 3 * pairs");
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

}  // namespace

Napi::Object Exports(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("status", Napi::Function::New(env, JsStatus, "status"));
  Napi::Array ops = Napi::Array::New(env);
  uint32_t i = 0;
#define MASKBOX_CUDA_OP(name, fn)                              \
  o.Set(#name, Napi::Function::New(env, fn, "cuda_" #name)); \
  ops.Set(i++, #name);
  MASKBOX_CUDA_OP(nms, JsNms)
  MASKBOX_CUDA_OP(yoloNms, JsYoloNms)
  MASKBOX_CUDA_OP(rleEncode, JsRleEncode)
  MASKBOX_CUDA_OP(logitsToRle, JsLogitsToRle)
  MASKBOX_CUDA_OP(dice, JsDice)
  MASKBOX_CUDA_OP(resize, JsResize)
  MASKBOX_CUDA_OP(letterbox, JsLetterbox)
  MASKBOX_CUDA_OP(rleDecode, JsRleDecode)
  MASKBOX_CUDA_OP(rleOverlap, JsRleOverlap)
#undef MASKBOX_CUDA_OP
  o.Set("ops", ops);
  o.Set("emulated", MB_EMULATED_BUILD != 0);
  return o;
}

}  // namespace maskbox::cuda
