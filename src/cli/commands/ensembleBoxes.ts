/** `maskbox ensemble boxes`: weighted boxes fusion of several detectors' outputs (COCO JSON or CSV). */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import { checkRegularFile, OutputGuard, readTextFile, writeFileAtomic } from '../../io/files.js';
import { fuseDetectionFiles, parseDetectionsFile } from '../../model/boxEnsemble.js';
import { numberFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';
import { checkOutputFile } from '../outputs.js';

const options = {
  out: { type: 'string' },
  weights: { type: 'string' },
  iou: { type: 'string' },
  skip: { type: 'string' },
  'conf-type': { type: 'string' },
  overwrite: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function parseWeights(value: string | undefined, n: number): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',');
  if (parts.length !== n)
    throw new InvalidArgumentError(
      'weights',
      `--weights needs ${n} comma-separated weights (one per input), got '${value}'`,
    );
  return parts.map((p) => numberFlag('weights', p, undefined, { above: 0 }));
}

/** `maskbox ensemble boxes a.json b.json --out fused.json [--weights 2,1] [--iou 0.55] [--skip 0]`. */
export const ensembleBoxesCommand: Command = {
  path: ['ensemble', 'boxes'],
  summary: "Fuse several detectors' boxes (COCO results JSON or detections CSV) by weighted boxes fusion",
  usage:
    'maskbox ensemble boxes a.json b.json [c.json ...] --out fused.json [--weights 2,1,1] [--iou 0.55]\n' +
    '    [--skip 0] [--conf-type avg|max] [--overwrite] [--json]\n' +
    "  Inputs: COCO results JSON arrays (matched by image_id, fused per category_id), or the lab's\n" +
    '  detections CSV (x_center,y_center,width,height,confidence,area; the combined layout with a leading\n' +
    '  image column is matched by image). All inputs in one format; the output has that format.\n' +
    '  --weights  one weight > 0 per input (default all 1); --iou  WBF IoU threshold (default 0.55);\n' +
    '  --skip  leave out boxes scoring below this (default 0); --conf-type  avg (default) or max.\n' +
    '  An image absent from an input counts as no detections from that model. --out must not be an input;\n' +
    '  an existing --out is replaced only with --overwrite, once the fusion is complete (atomic write).',
  async run(argv) {
    const { values: v, positionals } = parseFlags(() =>
      parseArgs({ args: argv, options, allowPositionals: true, strict: true }),
    );
    if (positionals.length < 2)
      throw new InvalidArgumentError(
        'inputs',
        `ensemble boxes needs at least 2 detection files, got ${positionals.length}`,
      );
    const out = requireFlag('out', v.out);
    const weights = parseWeights(v.weights, positionals.length);
    const iouThreshold = numberFlag('iou', v.iou, 0.55, { min: 0, max: 1 });
    const skipBoxThreshold = numberFlag('skip', v.skip, 0, { min: 0 });
    const confType = v['conf-type'] ?? 'avg';
    if (confType !== 'avg' && confType !== 'max')
      throw new InvalidArgumentError('conf-type', `Expected 'avg' or 'max' for --conf-type but received '${confType}'`);
    for (const p of positionals) await checkRegularFile(p, { argument: 'inputs' });
    const guard = new OutputGuard(v.overwrite ?? false);
    await guard.addInputs(positionals);
    await checkOutputFile(guard, out, 'out');
    const t0 = performance.now();
    const files = [];
    for (const p of positionals) files.push(parseDetectionsFile(await readTextFile(p, { argument: 'inputs' }), p));
    const r = await fuseDetectionFiles(files, positionals, { weights, iouThreshold, skipBoxThreshold, confType });
    await writeFileAtomic(out, r.text);
    const seconds = (performance.now() - t0) / 1000;
    const summary = {
      inputs: positionals,
      out,
      format: r.format,
      weights: weights ?? positionals.map(() => 1),
      images: r.images,
      boxesIn: r.boxesIn,
      boxesOut: r.boxesOut,
      seconds,
      backend: r.backend,
    };
    if (v.json) printJson(summary);
    else
      printTable(
        ['', 'value'],
        [
          ['inputs', positionals.length],
          ['format', r.format],
          ['weights', summary.weights.join(',')],
          ['images', r.images],
          ['boxes in', r.boxesIn],
          ['boxes out', r.boxesOut],
          ['out', out],
          ['seconds', seconds],
          ['backend', r.backend],
        ],
      );
    return 0;
  },
};
