/**
 * What the page takes from maskbox: the same post-processing, CSV writer and RLE decoder the server and
 * the CLI run. The ops dispatch through the backend registry; `wire.ts` registers the backends the page
 * has. (When `src/browser.ts` — js + webgpu — is on main, `wire.ts` becomes one re-export of it.)
 */
export { postprocessRaw, type RawMeta, type RawOutput } from '../src/server/raw.js';
export { formatDetectionsCsv, detectionsToRows, resultCsvName } from '../src/io/detectionsCsv.js';
export { decodeRle } from '../src/ops/rle.js';
export { startBackends } from './wire.js';
