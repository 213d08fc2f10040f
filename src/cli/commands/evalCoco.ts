/** `maskbox eval coco`: pycocotools-compatible COCO evaluation (bbox or segm) of a results file. */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import { readCocoGroundTruth, readCocoResults } from '../../io/cocoJson.js';
import { cocoEval, cocoPerClass, type CocoSummaryMode } from '../../ops/cocoEval.js';
import { parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';

const options = {
  gt: { type: 'string' },
  dt: { type: 'string' },
  'iou-type': { type: 'string' },
  'max-dets': { type: 'string' },
  summary: { type: 'string' },
  'class-agnostic': { type: 'boolean' },
  'per-class': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function maxDetsFlag(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  const out = parts.map(Number);
  if (parts.some((s) => !/^\d+$/.test(s)) || out.some((x) => x < 1)) {
    throw new InvalidArgumentError(
      'max-dets',
      `Expected positive integers like 1,10,100 for --max-dets but received '${value}'`,
    );
  }
  return out;
}

export const evalCocoCommand: Command = {
  path: ['eval', 'coco'],
  summary: 'COCO mAP of a results JSON (pycocotools COCOeval, bbox or segm)',
  usage:
    'maskbox eval coco --gt GT.json --dt RESULTS.json [--iou-type bbox|segm] [--max-dets 1,10,100]\n' +
    '    [--summary pycocotools|largest] [--class-agnostic] [--per-class] [--json]\n' +
    '  Prints the 12 COCOeval stats (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl).\n' +
    '  --summary pycocotools (default) reproduces summarize() exactly (AP at maxDets 100, the rest at maxDets[2]);\n' +
    '  largest uses the largest --max-dets everywhere "100" appears.',
  async run(argv) {
    const { values: v } = parseFlags(() => parseArgs({ args: argv, options, strict: true }));
    const gtPath = requireFlag('gt', v.gt);
    const dtPath = requireFlag('dt', v.dt);
    const iouType = v['iou-type'] ?? 'bbox';
    if (iouType !== 'bbox' && iouType !== 'segm') {
      throw new InvalidArgumentError('iou-type', `Expected bbox or segm for --iou-type but received '${iouType}'`);
    }
    const summary = (v.summary ?? 'pycocotools') as CocoSummaryMode;
    if (summary !== 'pycocotools' && summary !== 'largest') {
      throw new InvalidArgumentError(
        'summary',
        `Expected pycocotools or largest for --summary but received '${summary}'`,
      );
    }
    const maxDets = maxDetsFlag(v['max-dets']);
    const gt = await readCocoGroundTruth(gtPath);
    const dt = await readCocoResults(dtPath, gt);
    const r = await cocoEval(gt, dt, {
      iouType,
      summary,
      useCats: !v['class-agnostic'],
      ...(maxDets ? { maxDets } : {}),
    });
    const perClass = v['per-class'] ? cocoPerClass(r) : null;
    if (v.json) {
      printJson({
        gt: gtPath,
        dt: dtPath,
        iouType,
        stats: r.stats,
        statSpecs: r.statSpecs,
        summary,
        maxDets: r.params.maxDets,
        useCats: r.params.useCats,
        images: r.params.imgIds.length,
        categories: r.dims.K,
        detections: dt.detections.length,
        ignoredDetections: r.ignoredDetections,
        ...(perClass ? { perClass: perClass.map(({ precision50: _, ...c }) => c) } : {}),
        backend: r.backend,
      });
      return 0;
    }
    const iouAll = `${r.params.iouThrs[0]!.toFixed(2)}:${r.params.iouThrs[r.params.iouThrs.length - 1]!.toFixed(2)}`;
    if (perClass) {
      printTable(
        ['category', 'id', 'AP', 'AP50', 'AP75', 'AR'],
        perClass.map((c) => [c.name, c.categoryId, c.AP, c.AP50, c.AP75, c.AR]),
      );
      process.stdout.write('\n');
    }
    printTable(
      ['stat', 'IoU', 'area', 'maxDets', 'value'],
      r.statSpecs.map((s) => [
        s.name,
        s.iouThr === null ? iouAll : s.iouThr.toFixed(2),
        s.area,
        s.maxDets,
        r.stats[s.name].toFixed(4),
      ]),
    );
    process.stdout.write(
      `\n${iouType}: ${r.params.imgIds.length} images, ${dt.detections.length} detections` +
        (r.ignoredDetections ? ` (${r.ignoredDetections} of unknown categories ignored)` : '') +
        `, backend ${r.backend}\n`,
    );
    return 0;
  },
};
