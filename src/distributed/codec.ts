/**
 * Results as JSON, exactly: typed arrays keep their type (a Float32Array comes back as a Float32Array
 * with the same values), and every number round-trips (JSON prints the shortest decimal that reads back
 * to the same double). A result rebuilt from a part file formats to the same bytes as the original.
 */

const TYPED = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
} as const;
type TypedName = keyof typeof TYPED;

function replacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedName;
    if (name in TYPED) return { $typed: name, v: Array.from(value as unknown as ArrayLike<number>) };
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$typed' in value) {
    const { $typed, v } = value as { $typed: string; v: number[] };
    const ctor = TYPED[$typed as TypedName];
    if (ctor && Array.isArray(v)) return ctor.from(v);
  }
  return value;
}

/** Serialize a result (objects, arrays, typed arrays, numbers, strings). */
export function encodeResult(value: unknown): string {
  return JSON.stringify(value, replacer);
}

/** Read back what {@link encodeResult} wrote. */
export function decodeResult<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
