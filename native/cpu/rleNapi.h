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

/**
 * A JS string from UTF-8 that may hold lone surrogates in their 3-byte form (WTF-8, as the parsers'
 * messages quote input code units), decoded to UTF-16 so those units reach JS unchanged.
 */
inline Napi::String FromWtf8(Napi::Env env, const std::string& s) {
  std::u16string u;
  u.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    const size_t len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
    for (size_t k = 1; ok && k < len; k++) {
      const uint8_t c = static_cast<uint8_t>(s[i + k]);
      ok = (c & 0xc0) == 0x80;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (!ok || cp > 0x10ffff) {
      u.push_back(0xfffd);
      i++;
      continue;
    }
    if (cp >= 0x10000) {
      u.push_back(static_cast<char16_t>(0xd800 + ((cp - 0x10000) >> 10)));
      u.push_back(static_cast<char16_t>(0xdc00 + ((cp - 0x10000) & 0x3ff)));
    } else {
      u.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return Napi::String::New(env, u);
}

/** JS strings from ASCII text (RLE and COCO strings): created as Latin-1, which skips UTF-8 decoding. */
inline Napi::Array ToAsciiStringArray(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) {
    napi_value str;
    NAPI_THROW_IF_FAILED(env, napi_create_string_latin1(env, v[i].data(), v[i].size(), &str), Napi::Array());
    a.Set(static_cast<uint32_t>(i), Napi::Value(env, str));
  }
  return a;
}

}  // namespace maskbox::cpu
