/**
 * The `metadata_props` of an ONNX model (ModelProto field 14: key/value strings), read from its bytes
 * without decoding the graph: onnxruntime-node does not expose them. Top-level fields are hopped over by
 * their length, so a large graph costs nothing. Malformed bytes give `{}` (onnxruntime reports the error).
 */

const METADATA_PROPS = 14;
const KEY = 1;
const VALUE = 2;

/** A varint at `p`: `[value, next offset]`, or null when it runs past `end` or past 2^53. */
function varint(b: Uint8Array, p: number, end: number): [number, number] | null {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (p >= end) return null;
    const byte = b[p++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return [v, p];
    mul *= 128;
  }
  return null;
}

/** Calls `each(field, start, end)` for every length-delimited field in `[p, end)`; false when malformed. */
function fields(b: Uint8Array, p: number, end: number, each: (field: number, s: number, e: number) => void): boolean {
  while (p < end) {
    const k = varint(b, p, end);
    if (!k) return false;
    const [key, q] = k;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const v = varint(b, q, end);
      if (!v) return false;
      p = v[1];
    } else if (wire === 1 || wire === 5) {
      p = q + (wire === 1 ? 8 : 4);
    } else if (wire === 2) {
      const len = varint(b, q, end);
      if (!len || len[1] + len[0] > end) return false;
      each(field, len[1], len[1] + len[0]);
      p = len[1] + len[0];
    } else {
      return false; // groups (3, 4) are not used by ONNX
    }
  }
  return p === end;
}

/**
 * Read an ONNX model's `metadata_props`.
 * @param bytes the `.onnx` file's bytes
 * @returns key -> value (later duplicates win); `{}` when there are none or the bytes are not ONNX
 * @example readOnnxMetadata(await readFile('m.onnx'))['maskbox.input_scale'] // '0.75'
 */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = new TextDecoder('utf-8', { fatal: false });
  const found: [string, string][] = [];
  const ok = fields(bytes, 0, bytes.length, (field, s, e) => {
    if (field !== METADATA_PROPS) return;
    let key: string | undefined;
    let value = '';
    const entryOk = fields(bytes, s, e, (f, a, z) => {
      if (f === KEY) key = text.decode(bytes.subarray(a, z));
      else if (f === VALUE) value = text.decode(bytes.subarray(a, z));
    });
    if (entryOk && key !== undefined) found.push([key, value]);
  });
  if (!ok) return out;
  for (const [k, v] of found) out[k] = v;
  return out;
}
