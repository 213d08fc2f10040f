#include "common.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

namespace maskbox {

namespace {

const char* TypedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: break;  // newer kinds (Float16Array)
  }
  return "TypedArray";
}

std::string NumberText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

[[noreturn]] void ThrowNamed(Napi::Env env, bool range, const char* op, const char* name, const std::string& expected,
                             const std::string& received) {
  std::string msg = std::string("maskbox native ") + op + ": Expected " + expected + " for " + name + " but received " +
                    received;
  Napi::Error err = range ? Napi::Error(Napi::RangeError::New(env, msg)) : Napi::Error(Napi::TypeError::New(env, msg));
  err.Set("code", Napi::String::New(env, "ERR_MASKBOX_NATIVE_ARGUMENT"));
  err.Set("argument", Napi::String::New(env, name));
  throw err;
}

}  // namespace

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return NumberText(v.As<Napi::Number>().DoubleValue()) + " of type number";
  if (v.IsBoolean()) return "boolean";
  if (v.IsString()) return "string";
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    return std::string(TypedArrayName(t.TypedArrayType())) + " of length " + std::to_string(t.ElementLength());
  }
  if (v.IsArray()) return "Array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsFunction()) return "function";
  return "object";
}

size_t CheckedMul(size_t a, size_t b) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) throw std::overflow_error("size overflow");
  return a * b;
}

// ---- Args ----

Args::Args(const Napi::CallbackInfo& info, const char* op) : env_(info.Env()), op_(op) {
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsArray() || info[0].IsTypedArray()) {
    ThrowNamed(env_, false, op_, "args", "an options object", info.Length() < 1 ? "nothing" : Describe(info[0]));
  }
  obj_ = info[0].As<Napi::Object>();
}

Napi::Value Args::Get(const char* name) const { return obj_.Get(name); }

void Args::TypeFail(const char* name, const std::string& expected, const std::string& received) const {
  ThrowNamed(env_, false, op_, name, expected, received);
}

void Args::RangeFail(const char* name, const std::string& expected, const std::string& received) const {
  ThrowNamed(env_, true, op_, name, expected, received);
}

template <typename T>
Napi::TypedArrayOf<T> Args::Typed(const char* name, napi_typedarray_type type, const char* type_name) const {
  Napi::Value v = Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    TypeFail(name, std::string("a ") + type_name, Describe(v));
  }
  auto a = v.As<Napi::TypedArrayOf<T>>();
  // A detached buffer (transferred / structuredClone'd away) has no memory behind it.
  if (a.ArrayBuffer().Data() == nullptr && a.ElementLength() != 0) {
    TypeFail(name, std::string("a ") + type_name + " whose buffer is not detached", "a detached buffer");
  }
  return a;
}

Napi::TypedArrayOf<float> Args::Float32(const char* name) const {
  return Typed<float>(name, napi_float32_array, "Float32Array");
}
Napi::TypedArrayOf<double> Args::Float64(const char* name) const {
  return Typed<double>(name, napi_float64_array, "Float64Array");
}
Napi::TypedArrayOf<int32_t> Args::Int32(const char* name) const {
  return Typed<int32_t>(name, napi_int32_array, "Int32Array");
}
Napi::TypedArrayOf<uint8_t> Args::Uint8(const char* name) const {
  return Typed<uint8_t>(name, napi_uint8_array, "Uint8Array");
}
Napi::TypedArrayOf<uint16_t> Args::Uint16(const char* name) const {
  return Typed<uint16_t>(name, napi_uint16_array, "Uint16Array");
}

bool Args::OptionalInt32(const char* name, Napi::TypedArrayOf<int32_t>* out) const {
  Napi::Value v = Get(name);
  if (v.IsNull() || v.IsUndefined()) return false;
  *out = Int32(name);
  return true;
}

bool Args::OptionalUint8(const char* name, Napi::TypedArrayOf<uint8_t>* out) const {
  Napi::Value v = Get(name);
  if (v.IsNull() || v.IsUndefined()) return false;
  *out = Uint8(name);
  return true;
}

double Args::Number(const char* name, double lo, double hi) const {
  Napi::Value v = Get(name);
  if (!v.IsNumber()) TypeFail(name, "a number", Describe(v));
  double x = v.As<Napi::Number>().DoubleValue();
  if (!(x >= lo && x <= hi)) RangeFail(name, "a number between " + NumberText(lo) + " and " + NumberText(hi), NumberText(x));
  return x;
}

int64_t Args::Integer(const char* name, int64_t lo, int64_t hi) const {
  Napi::Value v = Get(name);
  if (!v.IsNumber()) TypeFail(name, "an integer", Describe(v));
  double x = v.As<Napi::Number>().DoubleValue();
  if (!(x >= static_cast<double>(lo) && x <= static_cast<double>(hi)) || std::floor(x) != x) {
    RangeFail(name, "an integer between " + std::to_string(lo) + " and " + std::to_string(hi), NumberText(x));
  }
  return static_cast<int64_t>(x);
}

bool Args::Boolean(const char* name) const {
  Napi::Value v = Get(name);
  if (!v.IsBoolean()) TypeFail(name, "a boolean", Describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::string Args::String(const char* name) const {
  Napi::Value v = Get(name);
  if (!v.IsString()) TypeFail(name, "a string", Describe(v));
  return v.As<Napi::String>().Utf8Value();
}

void Args::Length(const char* name, size_t length, size_t expected, const char* what) const {
  if (length != expected) RangeFail(name, std::string(what) + " (length " + std::to_string(expected) + ")", "length " + std::to_string(length));
}

void Args::MultipleOf(const char* name, size_t length, size_t k, const char* what) const {
  if (length % k != 0) RangeFail(name, what, "length " + std::to_string(length));
}

// ---- Worker ----

Worker::Worker(Napi::Env env, const char* op)
    : Napi::AsyncWorker(env, op), op_(op), deferred_(Napi::Promise::Deferred::New(env)) {}

Worker::~Worker() = default;  // releases the held references (on the JS thread: N-API deletes workers there)

Napi::Promise Worker::Start(std::unique_ptr<Worker> worker) {
  Napi::Promise p = worker->deferred_.Promise();
  worker.release()->Queue();
  return p;
}

void Worker::Execute() {
  try {
    Run();
  } catch (const std::bad_alloc&) {
    SetError("out of memory");
  } catch (const std::exception& e) {
    SetError(e.what());
  } catch (...) {
    SetError("unknown native error");
  }
}

void Worker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  try {
    deferred_.Resolve(Result(env));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  } catch (const std::exception& e) {
    deferred_.Reject(Napi::Error::New(env, "maskbox native " + op_ + ": " + e.what()).Value());
  }
}

void Worker::OnError(const Napi::Error& error) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Napi::Error err = Napi::Error::New(env, "maskbox native " + op_ + ": " + error.Message());
  err.Set("code", Napi::String::New(env, "ERR_MASKBOX_NATIVE"));
  deferred_.Reject(err.Value());
}

Napi::TypedArrayOf<int32_t> ToInt32Array(Napi::Env env, const std::vector<int32_t>& v) {
  auto out = Napi::TypedArrayOf<int32_t>::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size() * sizeof(int32_t));
  return out;
}

Napi::TypedArrayOf<float> ToFloat32Array(Napi::Env env, const std::vector<float>& v) {
  auto out = Napi::TypedArrayOf<float>::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size() * sizeof(float));
  return out;
}

}  // namespace maskbox
