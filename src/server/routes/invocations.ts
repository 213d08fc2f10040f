/**
 * `POST /invocations`: what clients of `mlflow models serve` send to a pyfunc image model, answered the
 * way MLflow's scoring server answers a model that returns a pandas DataFrame.
 *
 * Request (JSON, `Content-Type: application/json`), images as base64 strings (standard or URL-safe):
 * - `{"inputs": "<b64>"}`, `{"inputs": ["<b64>", ...]}`, `{"inputs": {"image": [...]}}` or
 *   `{"inputs": [{"image": "<b64>"}, ...]}`
 * - `{"instances": [...]}` (the same forms as a list)
 * - `{"dataframe_split": {"columns": ["image", ...], "data": [["<b64>", ...], ...]}}` (the `image`
 *   column, or the only column)
 * - `{"dataframe_records": [{"image": "<b64>"}, ...]}`
 * - optional `"params": {"conf": 0.4, "iou": 0.45, "max_det": 1000}` (MLflow 2.6+ inference params)
 * Answer: `{"predictions": [row, ...]}`, one row per detection in input order then NMS order, each row
 * `{"image": <input index>, "x_center", "y_center", "width", "height", "confidence", "area", "class"}`
 * — the lab's CSV columns with the same integer rule (DataFrame `to_dict(orient="records")`, as MLflow
 * serialises a DataFrame result).
 */
import type { FastifyInstance } from 'fastify';
import { detectionsToRows } from '../../io/detectionsCsv.js';
import { compute, findModel, type ServerContext } from '../context.js';
import { HttpError } from '../httpError.js';
import { decodeBase64, decodeUpload } from '../input.js';
import { detectParams } from '../params.js';
import { invocationsBodyDoc } from './schemas.js';

/** Most images in one /invocations request. */
export const MAX_INVOCATION_IMAGES = 64;

const bad = (message: string) => new HttpError(400, 'ERR_BAD_INVOCATION', message);

function imageOf(v: unknown, where: string): unknown {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if ('image' in o) return o.image;
    const keys = Object.keys(o);
    if (keys.length === 1) return o[keys[0]!];
  }
  if (Array.isArray(v) && v.length === 1) return v[0];
  throw bad(`${where}: expected a base64 string or an object with an 'image' field`);
}

/**
 * The base64 strings of an MLflow request body, in order.
 * @throws HttpError 400 saying what is wrong with the body
 */
export function invocationImages(body: unknown): string[] {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw bad('expected a JSON object with one of inputs, instances, dataframe_split, dataframe_records');
  const b = body as Record<string, unknown>;
  const keys = ['inputs', 'instances', 'dataframe_split', 'dataframe_records'].filter((k) => k in b);
  if (keys.length !== 1)
    throw bad(`expected exactly one of inputs, instances, dataframe_split, dataframe_records (found ${keys.length})`);
  const key = keys[0]!;
  const v = b[key];
  let list: unknown[];
  if (key === 'dataframe_split') {
    const df = v as { columns?: unknown; data?: unknown };
    if (!df || typeof df !== 'object' || !Array.isArray(df.data))
      throw bad('dataframe_split: expected {columns, data}');
    const cols = Array.isArray(df.columns) ? df.columns : ['image'];
    const col = cols.length === 1 ? 0 : cols.indexOf('image');
    if (col < 0) throw bad("dataframe_split: no 'image' column");
    list = df.data.map((row, i) => {
      if (!Array.isArray(row)) throw bad(`dataframe_split.data[${i}]: expected a row array`);
      return row[col];
    });
  } else if (key === 'inputs' && typeof v === 'string') {
    list = [v];
  } else if (key === 'inputs' && v && typeof v === 'object' && !Array.isArray(v)) {
    const col = imageOf(v, 'inputs');
    list = Array.isArray(col) ? col : [col];
  } else if (Array.isArray(v)) {
    list = v.map((x, i) => imageOf(x, `${key}[${i}]`));
  } else {
    throw bad(`${key}: expected a list of base64 images`);
  }
  if (list.length === 0) throw bad(`${key}: no images`);
  if (list.length > MAX_INVOCATION_IMAGES) throw bad(`${key}: ${list.length} images; at most ${MAX_INVOCATION_IMAGES}`);
  return list.map((x, i) => {
    if (typeof x !== 'string') throw bad(`${key}[${i}]: expected a base64 string`);
    return x;
  });
}

export function invocationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/invocations',
    {
      // Base64 makes a body 4/3 of the image; allow that for the largest image.
      bodyLimit: Math.ceil((ctx.options.maxUploadBytes * 4) / 3) + 65536,
      config: { work: true, body: invocationsBodyDoc },
      schema: {
        summary: 'MLflow scoring-server compatible predictions (pyfunc image model)',
        description:
          'Body: {"inputs"|"instances"|"dataframe_split"|"dataframe_records": base64 images, "params": {conf, iou, ' +
          'max_det}}. Answer: {"predictions": [{image, x_center, y_center, width, height, confidence, area, class}]}.',
        tags: ['mlflow'],
      },
    },
    async (req) => {
      if (!req.headers['content-type']?.toLowerCase().startsWith('application/json'))
        throw new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'send application/json (MLflow scoring format)');
      const body = req.body as Record<string, unknown>;
      const images = invocationImages(body);
      const params = body.params ?? {};
      if (typeof params !== 'object' || params === null || Array.isArray(params))
        throw bad('params: expected an object');
      const p = detectParams(params as Record<string, unknown>);
      const det = findModel(ctx.detectors, p.model, 'detector');
      const bytes = images.map((s, i) => decodeBase64(s, `image ${i}`));
      const predictions: Record<string, number>[] = [];
      for (let i = 0; i < bytes.length; i++) {
        const r = await compute(ctx, req, async () => {
          const image = await decodeUpload(bytes[i]!, `image ${i}`, ctx.options.maxPixels);
          return { image, run: await det.run(image, p) };
        });
        ctx.metrics.images.inc({ kind: 'detector' });
        const rows = detectionsToRows(r.run.boxes, r.run.scores, { width: r.image.width, height: r.image.height });
        rows.forEach((row, k) => predictions.push({ image: i, ...row, class: r.run.classes[k]! }));
      }
      return { predictions };
    },
  );
}
