/** Shared by the server tests: a served model set, a listening server, the CLI run in-process. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { defaultModelPath } from '../src/pipeline/defaultModel.js';
import { createServer } from '../src/server/app.js';
import { ServedDetector, ServedSegmenter } from '../src/server/models.js';
import type { ServeOptions } from '../src/server/options.js';
import { REPO } from './helpers.js';

export const SAMPLES = join(REPO, 'samples/cdv/images');
export const FIX = join(REPO, 'test/fixtures/models');
export const tmp = () => mkdtempSync(join(tmpdir(), 'maskbox-serve-'));

/** The bundled detector (and, with `seg`, the tiny segmentation fixture), loaded once per test file. */
export async function loadModels(seg = false): Promise<{ detectors: ServedDetector[]; segmenters: ServedSegmenter[] }> {
  const detectors = [await ServedDetector.load(defaultModelPath(), { classes: ['cluster'] })];
  const segmenters = seg ? [await ServedSegmenter.load(join(FIX, 'tiny_seg_fold0.onnx'))] : [];
  return { detectors, segmenters };
}

/** A server listening on 127.0.0.1 and a free port; `url` is its base URL. */
export async function listen(
  models: Awaited<ReturnType<typeof loadModels>>,
  options: ServeOptions = {},
): Promise<{ app: FastifyInstance; url: string; port: number }> {
  const app = await createServer(models, { port: 0, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { app, url: `http://127.0.0.1:${port}`, port };
}

/** Run the CLI in-process, capturing stdout and stderr (shared with the CLI tests). */
export { cli } from './cliRun.js';

/** A multipart form with the image file and string fields. */
export function form(
  bytes: Uint8Array,
  filename: string,
  fields: Record<string, string> = {},
  type = 'image/jpeg',
): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append('image', new Blob([bytes], { type }), filename);
  return f;
}
