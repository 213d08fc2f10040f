// N-API glue shared by the run-length bindings (rleEncode/rleDecode/rleOverlap.cc, dice.cc, readFloor.cc):
// reading arrays of typed arrays, shapes, orders and optional strings from an op's options object, and
// copying outputs into new JS values. Only the bindings include it (fuzz/ never sees N-API).
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "cpu/rle.h"

namespace maskbox::cpu {

/** The options object itself (construct Args first: it checks that info[0] is one). */
inline Napi::Object Options(const Napi::CallbackInfo& info) { return info[0].As<Napi::Object>(); }

/** A typed array of element type T named `name` (e.g. "runs[3]"), with Args' checks and messages. */
template <typename T>
Napi::TypedArrayOf<T> TypedValue(const Args& args, Napi::Value v, const std::string& name, napi_typedarray_type type,
                                 const char* type_name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    args.TypeFail(name.c_str(), std::string("a ") + type_name, Describe(v));
  }
  auto a = v.As<Napi::TypedArrayOf<T>>();
  if (a.ArrayBuffer().Data() == nullptr && a.ElementLength() != 0) {
    args.TypeFail(name.c_str(), std::string("a ") + type_name + " whose buffer is not detached", "a detached buffer");
  }
  return a;
}

/** A JS Array named `name` (at most `max` elements). */
inline Napi::Array ArrayValue(const Args& args, const Napi::Object& o, const char* name, size_t max) {
  Napi::Value v = o.Get(name);
  if (!v.IsArray()) args.TypeFail(name, "an Array", Describe(v));
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > max) args.RangeFail(name, "an Array of at most " + std::to_string(max) + " elements", Describe(v));
  return a;
}

/** Every element of the Array `name`, a Uint32Array (napi_uint32_array) or Uint8Array, held by `w`. */
template <typename T>
std::vector<View<const T>> HoldArrays(Worker* w, const Args& args, const Napi::Object& o, const char* name,
                                      napi_typedarray_type type, const char* type_name, size_t max) {
  Napi::Array a = ArrayValue(args, o, name, max);
  std::vector<View<const T>> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    const std::string el = std::string(name) + "[" + std::to_string(i) + "]";
    out[i] = w->HoldConst(TypedValue<T>(args, a.Get(i), el, type, type_name));
  }
  return out;
}

/** Every element of the Array `name` as a string, in UTF-16 code units (what JS indexes). */
inline std::vector<std::u16string> StringArray(const Args& args, const Napi::Object& o, const char* name) {
  Napi::Array a = ArrayValue(args, o, name, UINT32_MAX);
  std::vector<std::u16string> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) args.TypeFail((std::string(name) + "[" + std::to_string(i) + "]").c_str(), "a string", Describe(v));
    out[i] = v.As<Napi::String>().Utf16Value();
  }
  return out;
}

/** A Float64Array `name`. */
inline Napi::TypedArrayOf<double> Float64Value(const Args& args, const Napi::Object& o, const char* name) {
  return TypedValue<double>(args, o.Get(name), name, napi_float64_array, "Float64Array");
}

struct Shape {
  uint32_t height = 0, width = 0;
  size_t pixels = 0;
};

/** `height` and `width`, integers with height * width <= 2^32 - 1 (the JS ops' limit). */
inline Shape ReadShape(const Args& args) {
  Shape s;
  s.height = static_cast<uint32_t>(args.Integer("height", 0, UINT32_MAX));
  s.width = static_cast<uint32_t>(args.Integer("width", 0, UINT32_MAX));
  s.pixels = static_cast<size_t>(uint64_t{s.height} * s.width);
  if (uint64_t{s.height} * s.width > UINT32_MAX) {
    args.RangeFail("height", "height * width <= 4294967295", std::to_string(s.height) + " x " + std::to_string(s.width));
  }
  return s;
}

/** `order`: 'row' or 'col'. */
inline RleOrder ReadOrder(const Args& args) {
  const std::string order = args.String("order");
  if (order == "row") return RleOrder::kRow;
  if (order == "col") return RleOrder::kCol;
  args.RangeFail("order", "'row' or 'col'", "'" + order + "'");
}

/** An optional string option (undefined or null -> `fallback`). */
inline std::string OptionalString(const Args& args, const Napi::Object& o, const char* name, const char* fallback) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return args.String(name);
}

inline Napi::Array ToUint32Arrays(Napi::Env env, const std::vector<std::vector<uint32_t>>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) {
    auto t = Napi::TypedArrayOf<uint32_t>::New(env, v[i].size());
    if (!v[i].empty()) std::memcpy(t.Data(), v[i].data(), v[i].size() * sizeof(uint32_t));
    a.Set(static_cast<uint32_t>(i), t);
  }
  return a;
}

inline Napi::Array ToStringArray(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, v[i]));
  return a;
}

}  // namespace maskbox::cpu
