/** `maskbox serve`: the HTTP API and the web page (src/server). */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidArgumentError, ModelError } from '../../errors.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../model/session.js';
import { defaultModelPath } from '../../pipeline/defaultModel.js';
import { createServer } from '../../server/app.js';
import { loadServedModel, ServedDetector, ServedSegmenter } from '../../server/models.js';
import { resolveServeOptions, SERVE_DEFAULTS } from '../../server/options.js';
import { numberFlag, parseFlags, type Command } from '../command.js';

const options = {
  host: { type: 'string' },
  port: { type: 'string' },
  model: { type: 'string', multiple: true },
  provider: { type: 'string' },
  token: { type: 'string' },
  cors: { type: 'string', multiple: true },
  'max-upload-mb': { type: 'string' },
  'max-pixels': { type: 'string' },
  concurrency: { type: 'string' },
  queue: { type: 'string' },
  timeout: { type: 'string' },
  'cache-entries': { type: 'string' },
  'cache-ttl': { type: 'string' },
  log: { type: 'boolean' },
} as const;

const D = SERVE_DEFAULTS;

/** `maskbox serve`. */
export const serveCommand: Command = {
  path: ['serve'],
  summary: 'HTTP API (detect, baseline, segment, MLflow /invocations, metrics) and the web page',
  usage:
    'maskbox serve [--port 8080] [--host 127.0.0.1] [--model M.onnx ...] [--token T] [--cors ORIGIN ...]\n' +
    '  --model M.onnx        detector or segmentation model, repeatable (default: the bundled vesicle detector)\n' +
    '  --provider cpu|cuda|webgpu  onnxruntime execution provider (default cpu)\n' +
    '  --token T             require "Authorization: Bearer T" (or set MASKBOX_TOKEN) on all but /v1/health, /docs and the page files\n' +
    '  --cors ORIGIN         allow cross-origin requests from ORIGIN ("*" for any); off by default\n' +
    `  --max-upload-mb N     largest upload (default ${D.maxUploadBytes / 1048576});  --max-pixels N (default ${D.maxPixels})\n` +
    `  --concurrency N       images computing at once (default ${D.concurrency}); --queue N more admitted (default ${D.queue}), then 503\n` +
    `  --timeout S           per-request limit in seconds, slow uploads included (default ${D.timeoutMs / 1000})\n` +
    `  --cache-entries N     raw outputs kept for slider changes (default ${D.cacheEntries}); --cache-ttl S (default ${D.cacheTtlMs / 1000})\n` +
    '  --log                 request log (JSON lines) on stdout\n' +
    '  Page at http://HOST:PORT/, API description at /docs. Binds to 127.0.0.1 unless --host says otherwise.',
  async run(argv) {
    const { values: v } = parseFlags(() => parseArgs({ args: argv, options, allowPositionals: false, strict: true }));
    const provider = (v.provider ?? 'cpu') as ExecutionProvider;
    if (!EXECUTION_PROVIDERS.includes(provider))
      throw new InvalidArgumentError(
        'provider',
        `Expected one of ${EXECUTION_PROVIDERS.join(', ')} for --provider but received '${v.provider}'`,
      );
    const token = v.token ?? (process.env.MASKBOX_TOKEN || undefined);
    const serveOptions = {
      host: v.host ?? D.host,
      port: numberFlag('port', v.port, D.port),
      maxUploadBytes: Math.round(numberFlag('max-upload-mb', v['max-upload-mb'], D.maxUploadBytes / 1048576) * 1048576),
      maxPixels: numberFlag('max-pixels', v['max-pixels'], D.maxPixels),
      concurrency: numberFlag('concurrency', v.concurrency, D.concurrency),
      queue: numberFlag('queue', v.queue, D.queue),
      timeoutMs: Math.round(numberFlag('timeout', v.timeout, D.timeoutMs / 1000) * 1000),
      cacheEntries: numberFlag('cache-entries', v['cache-entries'], D.cacheEntries),
      cacheTtlMs: Math.round(numberFlag('cache-ttl', v['cache-ttl'], D.cacheTtlMs / 1000) * 1000),
      token,
      cors: v.cors,
      log: v.log ?? false,
    };
    resolveServeOptions(serveOptions); // every setting checked before a model is loaded
    const detectors: ServedDetector[] = [];
    const segmenters: ServedSegmenter[] = [];
    if (!v.model || v.model.length === 0) {
      const path = defaultModelPath();
      if (!existsSync(path)) throw new ModelError(`the bundled model is missing (${path}); pass --model M.onnx`);
      detectors.push(await ServedDetector.load(path, { provider, classes: ['cluster'] }));
    } else {
      for (const path of v.model) {
        const m = await loadServedModel(path, { provider });
        if (m instanceof ServedDetector) detectors.push(m);
        else segmenters.push(m);
      }
    }
    const names = [...detectors, ...segmenters].map((m) => m.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new InvalidArgumentError('model', `two models are named '${dup}' (the file name without .onnx)`);
    const app = await createServer({ detectors, segmenters }, serveOptions);
    const address = await app.listen({ host: serveOptions.host, port: serveOptions.port });
    process.stderr.write(
      `maskbox serve: listening on ${address} (page /, API /v1, docs /docs); models: ${names.join(', ')}` +
        `${token ? '; bearer token required' : ''}\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await app.close();
    for (const m of [...detectors, ...segmenters]) await m.dispose();
    return 0;
  },
};
