/** `maskbox eval coco`: pycocotools-compatible COCO evaluation (bbox or segm) of a results file. */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import { readCocoGroundTruth, readCocoResults } from '../../io/cocoJson.js';
import { cocoEval, cocoPerClass, type CocoSummaryMode } from '../../ops/cocoEval.js';
import { capOverflow, capWarning, classCurves, confusionMatrix, recallBySize } from '../../metrics/detectionReport.js';
import { writeEvalPlots } from '../../metrics/plots.js';
import { numberFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';

/** maxDets of `--dense`: frames with hundreds of objects (the summary then uses 10000, mode `largest`). */
export const DENSE_MAX_DETS = [1, 100, 10000] as const;

const options = {
  gt: { type: 'string' },
  dt: { type: 'string' },
  'iou-type': { type: 'string' },
  'max-dets': { type: 'string' },
  summary: { type: 'string' },
  'class-agnostic': { type: 'boolean' },
  'per-class': { type: 'boolean' },
  dense: { type: 'boolean' },
  plots: { type: 'string' },
  conf: { type: 'string' },
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
    '    [--summary pycocotools|largest] [--dense] [--class-agnostic] [--per-class] [--plots DIR] [--conf 0.25] [--json]\n' +
    '  Prints the 12 COCOeval stats (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl),\n' +
    '  recall by object size, and warns when an image has more ground truths or detections than maxDets.\n' +
    '  --summary pycocotools (default) reproduces summarize() exactly (AP at maxDets 100, the rest at maxDets[2]);\n' +
    '  largest uses the largest --max-dets everywhere "100" appears.\n' +
    '  --dense: maxDets 1,100,10000 with summary largest (unless --summary/--max-dets say otherwise).\n' +
    '  --plots DIR: pr_curve.png, f1_curve.png, confusion_matrix.png (detections with score >= --conf,\n' +
    '  IoU 0.5, any class), recall_by_size.png; --per-class adds best-F1 thresholds.',
  async run(argv) {
    const { values: v } = parseFlags(() => parseArgs({ args: argv, options, strict: true }));
    const gtPath = requireFlag('gt', v.gt);
    const dtPath = requireFlag('dt', v.dt);
    const iouType = v['iou-type'] ?? 'bbox';
    if (iouType !== 'bbox' && iouType !== 'segm') {
      throw new InvalidArgumentError('iou-type', `Expected bbox or segm for --iou-type but received '${iouType}'`);
    }
    const summary = (v.summary ??
      (v.dense && v['max-dets'] === undefined ? 'largest' : 'pycocotools')) as CocoSummaryMode;
    if (summary !== 'pycocotools' && summary !== 'largest') {
      throw new InvalidArgumentError(
        'summary',
        `Expected pycocotools or largest for --summary but received '${summary}'`,
      );
    }
    const maxDets = maxDetsFlag(v['max-dets']) ?? (v.dense ? [...DENSE_MAX_DETS] : undefined);
    const conf = numberFlag('conf', v.conf, 0.25);
    if (!(conf >= 0 && conf <= 1))
      throw new InvalidArgumentError('conf', `Expected a number in [0, 1] for --conf but received '${v.conf}'`);
    const gt = await readCocoGroundTruth(gtPath);
    const dt = await readCocoResults(dtPath, gt);
    const r = await cocoEval(gt, dt, {
      iouType,
      summary,
      useCats: !v['class-agnostic'],
      ...(maxDets ? { maxDets } : {}),
    });
    const perClass = v['per-class'] ? cocoPerClass(r) : null;
    const cap = capOverflow(gt, dt, r.params.maxDets[r.params.maxDets.length - 1]!);
    const warning = capWarning(cap);
    if (warning) process.stderr.write(`${warning}\n`);
    const sizes = recallBySize(r, gt);
    const curves = perClass || v.plots ? classCurves(gt, dt) : null;
    const cm = v.plots ? confusionMatrix(gt, dt, conf) : null;
    const plots = v.plots ? await writeEvalPlots(v.plots, curves!, cm!, sizes) : [];
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
        ...(perClass
          ? { perClass: perClass.map(({ precision50: _, ...c }, k) => ({ ...c, bestF1: curves![k]!.best })) }
          : {}),
        capOverflow: cap,
        recallBySize: sizes,
        ...(cm ? { confusion: { labels: cm.labels, counts: Array.from(cm.counts), conf: cm.conf, iou: cm.iou } } : {}),
        plots,
        backend: r.backend,
      });
      return 0;
    }
    const iouAll = `${r.params.iouThrs[0]!.toFixed(2)}:${r.params.iouThrs[r.params.iouThrs.length - 1]!.toFixed(2)}`;
    if (perClass) {
      printTable(
        ['category', 'id', 'AP', 'AP50', 'AP75', 'AR', 'best F1', 'at conf', 'P', 'R'],
        perClass.map((c, k) => {
          const b = curves![k]!.best;
          return [
            c.name,
            c.categoryId,
            c.AP,
            c.AP50,
            c.AP75,
            c.AR,
            b.f1.toFixed(3),
            b.conf.toFixed(2),
            b.precision.toFixed(3),
            b.recall.toFixed(3),
          ];
        }),
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
    process.stdout.write('\n');
    printTable(
      ['area', 'range', 'GT', 'recall@0.50', 'recall@.50:.95'],
      sizes.map((z) => [z.area, `${z.range[0]}-${z.range[1]}`, z.gt, z.recall50.toFixed(4), z.recall.toFixed(4)]),
    );
    if (cm) {
      process.stdout.write(`\nconfusion matrix (rows predicted, columns true; conf ${cm.conf}, IoU ${cm.iou}):\n`);
      const n = cm.labels.length;
      printTable(
        ['predicted \\ true', ...cm.labels],
        cm.labels.map((l, p) => [l, ...Array.from({ length: n }, (_, t) => cm.counts[p * n + t]!)]),
      );
    }
    for (const p of plots) process.stdout.write(`wrote ${p}\n`);
    process.stdout.write(
      `\n${iouType}: ${r.params.imgIds.length} images, ${dt.detections.length} detections` +
        (r.ignoredDetections ? ` (${r.ignoredDetections} of unknown categories ignored)` : '') +
        `, backend ${r.backend}\n`,
    );
    return 0;
  },
};
