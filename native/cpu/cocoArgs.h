// Argument getters shared by the COCO bindings (cocoEval.cc, cocoEvalPrepare.cc): typed arrays read from
// nested option objects, checked as Args' getters (common.h) check top-level ones, and offset checks.
// Binding code only: include after common.h, inside `#ifndef MASKBOX_CORE_ONLY`.
#pragma once

#include <cmath>
#include <string>

#include "common.h"

namespace maskbox::cpu {

/** A typed array property of `obj` (named `name` in errors), checked like Args' getters. */
template <typename T>
Napi::TypedArrayOf<T> TypedProp(const Args& args, Napi::Object obj, const char* key, const std::string& name,
                                napi_typedarray_type type, const char* type_name) {
  Napi::Value v = obj.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    args.TypeFail(name.c_str(), std::string("a ") + type_name, Describe(v));
  auto a = v.As<Napi::TypedArrayOf<T>>();
  if (a.ArrayBuffer().Data() == nullptr && a.ElementLength() != 0)
    args.TypeFail(name.c_str(), std::string("a ") + type_name + " whose buffer is not detached", "a detached buffer");
  return a;
}

inline Napi::TypedArrayOf<double> F64(const Args& a, Napi::Object o, const char* key, const std::string& name) {
  return TypedProp<double>(a, o, key, name, napi_float64_array, "Float64Array");
}
inline Napi::TypedArrayOf<int32_t> I32(const Args& a, Napi::Object o, const char* key, const std::string& name) {
  return TypedProp<int32_t>(a, o, key, name, napi_int32_array, "Int32Array");
}
inline Napi::TypedArrayOf<uint32_t> U32(const Args& a, Napi::Object o, const char* key, const std::string& name) {
  return TypedProp<uint32_t>(a, o, key, name, napi_uint32_array, "Uint32Array");
}
inline Napi::TypedArrayOf<uint8_t> U8(const Args& a, Napi::Object o, const char* key, const std::string& name) {
  return TypedProp<uint8_t>(a, o, key, name, napi_uint8_array, "Uint8Array");
}

/** Offsets `start` [n + 1]: start[0] == 0, non-decreasing, start[n] == total (or <= total with `at_most`). */
template <typename I>
void CheckOffsets(const Args& args, const char* name, const I* start, size_t n, size_t total, bool at_most) {
  if (start[0] != 0) args.RangeFail(name, "offsets starting at 0", "start " + std::to_string(start[0]));
  for (size_t i = 0; i < n; i++) {
    if (!(start[i + 1] >= start[i]))
      args.RangeFail(name, "non-decreasing offsets", "a decrease at index " + std::to_string(i + 1));
  }
  const double last = static_cast<double>(start[n]);
  if (at_most ? !(last <= static_cast<double>(total)) : last != static_cast<double>(total))
    args.RangeFail(name, std::string("offsets ending at ") + (at_most ? "most " : "") + std::to_string(total),
                   std::to_string(start[n]));
}

inline void CheckFinite(const Args& args, const char* name, const double* v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!std::isfinite(v[i])) args.RangeFail(name, "finite numbers", "a non-finite value at index " + std::to_string(i));
}

}  // namespace maskbox::cpu
