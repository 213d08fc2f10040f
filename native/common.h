// Shared helpers for every native op: argument checks that throw JS errors naming the argument, and
// the AsyncWorker base that runs an op off the JS thread and settles a Promise.
//
// An op file (native/cpu/<op>.cc) looks like this (see native/cpu/iou.cc, ~60 lines):
//
//   class IouWorker : public maskbox::Worker {
//    public:
//     using Worker::Worker;
//     maskbox::View<const float> a, b; maskbox::View<float> out;
//     void Run() override { ...pure C++ on a/b/out, throw std::runtime_error on failure... }
//   };
//   Napi::Value Iou(const Napi::CallbackInfo& info) {
//     maskbox::Args args(info, "iou");                 // info[0] must be an options object
//     auto w = std::make_unique<IouWorker>(info.Env(), "iou");
//     w->a = w->Hold(args.Float32("a"));               // checked, referenced until the worker is done
//     ...check every length; args.Fail(...) throws a TypeError/RangeError naming the argument...
//     return maskbox::Worker::Start(std::move(w));     // queues Run() on the libuv pool, returns a Promise
//   }
//
// Layout of an op file: the computation first, as plain C++ (declared in native/cpu/<op>.h when fuzz/
// or other ops call it), then the binding inside `#ifndef MASKBOX_CORE_ONLY` (fuzz/ builds without
// N-API), which is where this header is included.
//
// Rules (DESIGN "Kernel contracts", STYLE "Validate once"): TypeScript validates the public API and
// throws the typed errors users see; C++ still checks every length and range it relies on, so bad
// input is a JS exception, never a crash. Inputs are read in place (no copy). Outputs are either
// typed arrays allocated in JS and passed in, or copied into new JS arrays in Result() — never external
// buffers. Run() must not touch N-API (it runs on a worker thread).
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace maskbox {

/** A typed array's memory, read/written in place. Valid while the Worker that Held it is alive. */
template <typename T>
struct View {
  T* data = nullptr;
  size_t length = 0;
  T& operator[](size_t i) const { return data[i]; }
  bool empty() const { return length == 0; }
};

/**
 * Reads one op's arguments from a single options object (info[0]), in one place per op. Every getter
 * checks the type and throws a JS TypeError / RangeError whose message names the op and the
 * argument ("maskbox native nms: Expected a Float32Array for boxes but received number"), with
 * `code = 'ERR_MASKBOX_NATIVE_ARGUMENT'` and `argument` set.
 */
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op);

  Napi::Env Env() const { return env_; }
  const char* Op() const { return op_; }

  Napi::TypedArrayOf<float> Float32(const char* name) const;
  Napi::TypedArrayOf<double> Float64(const char* name) const;
  Napi::TypedArrayOf<int32_t> Int32(const char* name) const;
  Napi::TypedArrayOf<uint8_t> Uint8(const char* name) const;
  Napi::TypedArrayOf<uint16_t> Uint16(const char* name) const;
  /** null or undefined -> false (and `out` untouched); otherwise the typed array must match. */
  bool OptionalInt32(const char* name, Napi::TypedArrayOf<int32_t>* out) const;
  bool OptionalUint8(const char* name, Napi::TypedArrayOf<uint8_t>* out) const;

  /** A number in [lo, hi] (NaN rejected; -Infinity/Infinity allowed only if inside the range). */
  double Number(const char* name, double lo, double hi) const;
  /** An integer in [lo, hi] (a JS number with no fraction). */
  int64_t Integer(const char* name, int64_t lo, int64_t hi) const;
  bool Boolean(const char* name) const;
  std::string String(const char* name) const;

  /** Checks `length == expected`, else RangeError "Expected <what> for <name> but received length <n>". */
  void Length(const char* name, size_t length, size_t expected, const char* what) const;
  /** Checks `length % k == 0`. */
  void MultipleOf(const char* name, size_t length, size_t k, const char* what) const;

  /** Throw a TypeError (type mismatch) naming the argument. */
  [[noreturn]] void TypeFail(const char* name, const std::string& expected, const std::string& received) const;
  /** Throw a RangeError (bad length/value) naming the argument. */
  [[noreturn]] void RangeFail(const char* name, const std::string& expected, const std::string& received) const;

 private:
  Napi::Value Get(const char* name) const;
  template <typename T>
  Napi::TypedArrayOf<T> Typed(const char* name, napi_typedarray_type type, const char* type_name) const;

  Napi::Env env_;
  Napi::Object obj_;
  const char* op_;
};

/** Short description of a JS value for error messages ("number", "Float64Array of length 3"). */
std::string Describe(const Napi::Value& v);

/** a * b, throwing std::overflow_error past SIZE_MAX (shape products from JS). */
size_t CheckedMul(size_t a, size_t b);

/**
 * Base of every op's AsyncWorker. The subclass fills its fields from Args on the JS thread, then
 * Start() queues it: Run() executes on the libuv thread pool (may use pool::ParallelFor), and the
 * Promise resolves with Result() or rejects with an Error whose message names the op. Exceptions from
 * Run() (std::exception, including std::bad_alloc) become rejections, never crashes.
 */
class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, const char* op);
  ~Worker() override;

  /** Keep a JS object alive until the worker is destroyed; returns a view of its memory. */
  template <typename T>
  View<T> Hold(Napi::TypedArrayOf<T> array) {
    held_.push_back(Napi::Persistent(array.template As<Napi::Value>()));
    return View<T>{array.Data(), array.ElementLength()};
  }
  template <typename T>
  View<const T> HoldConst(Napi::TypedArrayOf<T> array) {
    View<T> v = Hold(array);
    return View<const T>{v.data, v.length};
  }

  /**
   * Queue the work and return the Promise: `return Worker::Start(std::move(w));` last in the binding.
   * Until then the unique_ptr owns the worker (an argument error thrown earlier frees it); once queued,
   * N-API deletes it after OnOK/OnError.
   */
  static Napi::Promise Start(std::unique_ptr<Worker> worker);

 protected:
  /** The computation; runs off the JS thread. Throw to reject. */
  virtual void Run() = 0;
  /** The resolved value, built on the JS thread (copy outputs into new JS arrays here). */
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

 private:
  void Execute() final;
  void OnOK() final;
  void OnError(const Napi::Error& error) final;

  std::string op_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> held_;
};

/** Copy a vector into a new JS Int32Array (the only way outputs of unknown size leave C++). */
Napi::TypedArrayOf<int32_t> ToInt32Array(Napi::Env env, const std::vector<int32_t>& v);
Napi::TypedArrayOf<float> ToFloat32Array(Napi::Env env, const std::vector<float>& v);

}  // namespace maskbox
