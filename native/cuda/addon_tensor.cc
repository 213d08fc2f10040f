// N-API bindings of device tensors (maskbox_cuda.h `Tensor`): device-resident chaining for the cuda
// backend (src/backends/cuda/tensor.ts wraps them as DeviceTensors of location 'cuda'). A tensor crosses
// to JS as a type-tagged External owning a shared_ptr: the device memory is freed by `tensorDispose` or,
// failing that, when the External is garbage-collected; a call in flight holds its own reference, so a
// dispose during it cannot free memory a kernel is using.
//   cuda.upload({ data: Float32Array }) -> Promise<External>
//   cuda.tensorRead({ tensor, out: Float32Array [length] }) -> Promise<void>;  cuda.tensorDispose(tensor) (sync)
//   cuda.tensorLength(tensor) -> number (sync; 0 after dispose)
//   cuda.letterboxToDevice(letterbox args without `out`) -> Promise<{ low, high, tensor }>
//   cuda.nmsOnDevice({ boxes: External [4n], scores: External [n], classes?, iouThreshold, scoreThreshold,
//                      maxCandidates, maxDetections }) -> Promise<Int32Array>
#include "cuda/addon_tensor.h"

#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "cuda/maskbox_cuda.h"

namespace maskbox::cpu {
size_t ReadLetterboxParams(const Args& args, Worker* w, LetterboxParams* params);
void ReadNmsLimits(const Args& args, NmsOptions* o);
}  // namespace maskbox::cpu

namespace maskbox::cuda {
namespace {

// Distinguishes maskbox's tensors from any other External handed in.
constexpr napi_type_tag kTensorTag = {0x6d61736b626f7863ull, 0x7564615f74656e73ull};

struct Holder {
  std::shared_ptr<Tensor> tensor;
};

Napi::Value Wrap(Napi::Env env, std::shared_ptr<Tensor> t) {
  auto ext = Napi::External<Holder>::New(env, new Holder{std::move(t)}, [](Napi::Env, Holder* h) { delete h; });
  ext.TypeTag(&kTensorTag);
  return ext;
}

/** Whether `v` is one of this addon's tensor handles (a disposed one included). */
bool IsTensor(const Napi::Value& v) { return v.IsExternal() && v.As<Napi::External<Holder>>().CheckTypeTag(&kTensorTag); }

/** The tensor behind `v`, or a TypeError naming the argument; a disposed tensor is a RangeError. */
std::shared_ptr<Tensor> Unwrap(const Args& args, const char* name, const Napi::Value& v) {
  if (!IsTensor(v)) args.TypeFail(name, "a cuda device tensor", Describe(v));
  Holder* h = v.As<Napi::External<Holder>>().Data();
  if (!h->tensor) args.RangeFail(name, "a live device tensor", "a disposed one");
  return h->tensor;
}

/** The tensor in the options object's field `name` (Args has checked that info[0] is an object). */
std::shared_ptr<Tensor> ArgTensor(const Args& args, const Napi::CallbackInfo& info, const char* name) {
  return Unwrap(args, name, info[0].As<Napi::Object>().Get(name));
}

class UploadWorker : public Worker {
 public:
  using Worker::Worker;
  View<const float> data;
  std::shared_ptr<Tensor> tensor;
  void Run() override {
    tensor = std::make_shared<Tensor>(data.length);
    UploadTensor(*tensor, data.data, data.length);
  }
  Napi::Value Result(Napi::Env env) override { return Wrap(env, tensor); }
};

Napi::Value JsUpload(const Napi::CallbackInfo& info) {
  Args args(info, "cuda upload");
  auto w = std::make_unique<UploadWorker>(info.Env(), "cuda upload");
  w->data = w->HoldConst(args.Float32("data"));
  return Worker::Start(std::move(w));
}

class ReadWorker : public Worker {
 public:
  using Worker::Worker;
  std::shared_ptr<Tensor> tensor;
  View<float> out;
  void Run() override { DownloadTensor(*tensor, out.data, out.length); }
};

Napi::Value JsTensorRead(const Napi::CallbackInfo& info) {
  Args args(info, "cuda tensorRead");
  auto w = std::make_unique<ReadWorker>(info.Env(), "cuda tensorRead");
  w->tensor = ArgTensor(args, info, "tensor");
  auto out = args.Float32("out");
  args.Length("out", out.ElementLength(), w->tensor->length(), "a Float32Array of the tensor's length");
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

/** The holder passed as the only argument (dispose and length take the tensor itself, not an options object). */
Holder* HolderArg(const Napi::CallbackInfo& info, const char* op) {
  const Napi::Value v = info[0];
  if (!IsTensor(v)) {
    Napi::TypeError err = Napi::TypeError::New(info.Env(), std::string("maskbox native ") + op + ": Expected a cuda device tensor but received " + Describe(v));
    err.Set("code", Napi::String::New(info.Env(), "ERR_MASKBOX_NATIVE_ARGUMENT"));
    err.Set("argument", Napi::String::New(info.Env(), "tensor"));
    throw err;
  }
  return v.As<Napi::External<Holder>>().Data();
}

Napi::Value JsTensorDispose(const Napi::CallbackInfo& info) {
  HolderArg(info, "cuda tensorDispose")->tensor.reset();  // idempotent; in-flight calls keep their reference
  return info.Env().Undefined();
}

Napi::Value JsTensorLength(const Napi::CallbackInfo& info) {
  const auto& t = HolderArg(info, "cuda tensorLength")->tensor;
  return Napi::Number::New(info.Env(), t ? static_cast<double>(t->length()) : 0);
}

class LetterboxWorker : public Worker {
 public:
  using Worker::Worker;
  LetterboxParams params;
  std::shared_ptr<Tensor> tensor;
  double low = 0, high = 0;
  void Run() override {
    tensor = std::make_shared<Tensor>(3 * params.out_width * params.out_height);
    LetterboxToDevice(params, *tensor, &low, &high);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("low", low);
    o.Set("high", high);
    o.Set("tensor", Wrap(env, tensor));
    return o;
  }
};

Napi::Value JsLetterboxToDevice(const Napi::CallbackInfo& info) {
  Args args(info, "cuda letterboxToDevice");
  auto w = std::make_unique<LetterboxWorker>(info.Env(), "cuda letterboxToDevice");
  cpu::ReadLetterboxParams(args, w.get(), &w->params);
  return Worker::Start(std::move(w));
}

class NmsWorker : public Worker {
 public:
  using Worker::Worker;
  std::shared_ptr<Tensor> boxes, scores;
  View<const int32_t> classes;
  cpu::NmsOptions options;
  std::vector<int32_t> keep;
  void Run() override {
    options.classes = classes.data;
    keep = NmsOnDevice(options, *boxes, *scores);
  }
  Napi::Value Result(Napi::Env env) override { return ToInt32Array(env, keep); }
};

Napi::Value JsNmsOnDevice(const Napi::CallbackInfo& info) {
  Args args(info, "cuda nmsOnDevice");
  auto w = std::make_unique<NmsWorker>(info.Env(), "cuda nmsOnDevice");
  w->scores = ArgTensor(args, info, "scores");
  w->boxes = ArgTensor(args, info, "boxes");
  const size_t n = w->scores->length();
  if (n > size_t(INT32_MAX)) args.RangeFail("scores", "at most 2^31-1 boxes", std::to_string(n) + " scores");
  if (w->boxes->length() != 4 * n)
    args.RangeFail("boxes", "a device tensor of 4 values per score (" + std::to_string(4 * n) + ")", std::to_string(w->boxes->length()) + " values");
  Napi::TypedArrayOf<int32_t> classes;
  if (args.OptionalInt32("classes", &classes)) {
    args.Length("classes", classes.ElementLength(), n, "one class per box");
    w->classes = w->HoldConst(classes);
  }
  w->options.n = n;
  cpu::ReadNmsLimits(args, &w->options);
  return Worker::Start(std::move(w));
}

}  // namespace

void ExportTensors(Napi::Env env, Napi::Object o) {
  o.Set("upload", Napi::Function::New(env, JsUpload, "cuda_upload"));
  o.Set("tensorRead", Napi::Function::New(env, JsTensorRead, "cuda_tensorRead"));
  o.Set("tensorDispose", Napi::Function::New(env, JsTensorDispose, "cuda_tensorDispose"));
  o.Set("tensorLength", Napi::Function::New(env, JsTensorLength, "cuda_tensorLength"));
  o.Set("letterboxToDevice", Napi::Function::New(env, JsLetterboxToDevice, "cuda_letterboxToDevice"));
  o.Set("nmsOnDevice", Napi::Function::New(env, JsNmsOnDevice, "cuda_nmsOnDevice"));
}

}  // namespace maskbox::cuda
