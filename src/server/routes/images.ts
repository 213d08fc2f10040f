/** The image routes: /v1/detect, /v1/baseline, /v1/segment, and the kept uploads under /v1/uploads. */
import type { FastifyInstance } from 'fastify';
import { to8bit } from '../../cli/commands/baseline.js';
import { formatSubmissionCsv } from '../../io/submissionCsv.js';
import { dbscanBaseline } from '../../ops/baseline.js';
import { compute, findModel, type ServerContext } from '../context.js';
import { HttpError } from '../httpError.js';
import { decodeUpload, readUpload } from '../input.js';
import { baselineParams, detectParams, segmentParams, type DetectParams } from '../params.js';
import { postprocessRaw } from '../raw.js';
import { sendDetections } from '../render.js';
import { baselineQuery, detectQuery, idParams, imageBodyDoc, segmentQuery } from './schemas.js';

/** The baseline's name in answers and /v1/models. */
export const BASELINE_NAME = 'dbscan-baseline';

function paramsEcho(p: DetectParams) {
  return {
    conf: p.conf,
    iou: p.iou,
    max_det: p.maxDetections,
    agnostic: p.agnostic,
    ...(p.tile !== undefined ? { tile: p.tile, overlap: p.overlap ?? 0.2, full_frame: p.fullFrame ?? false } : {}),
  };
}

export function imageRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { options } = ctx;

  app.post(
    '/v1/detect',
    {
      config: { work: true, body: imageBodyDoc },
      schema: {
        summary: 'Detect objects in one image',
        description:
          'Multipart upload (file part `image`, optional form fields with the same names as the query) or the ' +
          'raw image as the body (image/png, image/jpeg, image/tiff, application/octet-stream). Boxes are in ' +
          "original image pixels. `format=csv` answers the lab's CSV exactly as `maskbox detect` writes it. The " +
          'raw model output is kept under `upload_id` (see /v1/uploads) unless `keep=false`.',
        tags: ['detect'],
        querystring: detectQuery,
      },
    },
    async (req, reply) => {
      const up = await readUpload(req);
      const p = detectParams(req.query as Record<string, unknown>, up.fields);
      const det = findModel(ctx.detectors, p.model, 'detector');
      const { image, run } = await compute(ctx, req, async () => {
        const image = await decodeUpload(up.bytes, up.name, options.maxPixels);
        return { image, run: await det.run(image, p) };
      });
      ctx.metrics.images.inc({ kind: 'detector' });
      const id =
        p.keep && run.raw
          ? ctx.cache.put({ model: det.name, name: up.name, width: image.width, height: image.height, raw: run.raw })
          : null;
      return sendDetections(
        reply,
        {
          model: det.name,
          image: { name: up.name, width: image.width, height: image.height },
          boxes: run.boxes,
          scores: run.scores,
          classes: run.classes,
          labels: det.classes,
          extra: {
            params: paramsEcho(p),
            ...(id ? uploadFields(ctx, id, run.raw!) : {}),
            ...(run.tiles !== undefined ? { tiles: run.tiles } : {}),
            timings_ms: run.timings,
          },
        },
        p.format,
      );
    },
  );

  app.get(
    '/v1/uploads/:id',
    {
      schema: {
        summary: 'What is kept for an upload: image size, raw output shape, layout and letterbox transform',
        tags: ['uploads'],
        params: idParams,
      },
    },
    async (req) => {
      const u = kept(ctx, (req.params as { id: string }).id);
      return {
        model: u.model,
        image: { name: u.name, width: u.width, height: u.height },
        ...uploadFields(ctx, u.id, u.raw),
      };
    },
  );

  app.get(
    '/v1/uploads/:id/raw',
    {
      schema: {
        summary: "The kept raw model output: little-endian float32, shape in the 'x-maskbox-dims' header",
        tags: ['uploads'],
        params: idParams,
      },
    },
    async (req, reply) => {
      const u = kept(ctx, (req.params as { id: string }).id);
      const d = u.raw.data;
      return reply
        .type('application/octet-stream')
        .header('x-maskbox-dims', u.raw.dims.join(','))
        .header('x-maskbox-layout', u.raw.layout)
        .header('cache-control', 'private, max-age=60')
        .send(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    },
  );

  app.get(
    '/v1/uploads/:id/detections',
    {
      config: { work: true },
      schema: {
        summary: 'Detections of a kept upload with new conf/iou/max_det: post-processing only, no inference',
        tags: ['uploads'],
        params: idParams,
        querystring: detectQuery,
      },
    },
    async (req, reply) => {
      const u = kept(ctx, (req.params as { id: string }).id);
      const p = detectParams(req.query as Record<string, unknown>);
      const det = ctx.detectors.find((d) => d.name === u.model);
      const r = await compute(ctx, req, () => postprocessRaw(u.raw, p));
      if (det) det.lastBackend = r.backend;
      ctx.metrics.images.inc({ kind: 'postprocess' });
      return sendDetections(
        reply,
        {
          model: u.model,
          image: { name: u.name, width: u.width, height: u.height },
          boxes: r.boxes,
          scores: r.scores,
          classes: r.classes,
          labels: det?.classes ?? [],
          extra: { params: paramsEcho(p), backend: r.backend, ...uploadFields(ctx, u.id, u.raw) },
        },
        p.format,
      );
    },
  );

  app.post(
    '/v1/baseline',
    {
      config: { work: true, body: imageBodyDoc },
      schema: {
        summary: "The lab's DBSCAN baseline: 3x3 filter x5, DBSCAN(eps 3, min_samples 2), one box per cluster",
        description:
          'Same upload forms and formats as /v1/detect, and the same boxes as `maskbox baseline`: class 0, scored ' +
          'n / (n + 100) by cluster size n.',
        tags: ['detect'],
        querystring: baselineQuery,
      },
    },
    async (req, reply) => {
      const up = await readUpload(req);
      const p = baselineParams(req.query as Record<string, unknown>, up.fields);
      const { image, boxes, scores } = await compute(ctx, req, async () => {
        const image = await decodeUpload(up.bytes, up.name, options.maxPixels);
        const { width, height, channels } = image;
        const r = await dbscanBaseline({ data: to8bit(image), width, height, channels }, p);
        return { image, boxes: r.boxes, scores: r.scores };
      });
      ctx.metrics.images.inc({ kind: 'baseline' });
      return sendDetections(
        reply,
        {
          model: BASELINE_NAME,
          image: { name: up.name, width: image.width, height: image.height },
          boxes,
          scores,
          classes: new Int32Array(scores.length),
          labels: ['cluster'],
          extra: {},
        },
        p.format,
      );
    },
  );

  app.post(
    '/v1/segment',
    {
      config: { work: true, body: imageBodyDoc },
      schema: {
        summary: 'Segment one image: one RLE mask per class (row-major, 1-based starts, as the submission CSV)',
        description: '`format=csv` answers the submission CSV rows (`image_name,class,rle`) for this image.',
        tags: ['segment'],
        querystring: segmentQuery,
      },
    },
    async (req, reply) => {
      const up = await readUpload(req);
      const p = segmentParams(req.query as Record<string, unknown>, up.fields);
      const seg = findModel(ctx.segmenters, p.model, 'segmenter');
      const { image, s } = await compute(ctx, req, async () => {
        const image = await decodeUpload(up.bytes, up.name, options.maxPixels);
        return { image, s: await seg.run(image, up.name, p.threshold) };
      });
      ctx.metrics.images.inc({ kind: 'segmenter' });
      if (p.format === 'csv') return reply.type('text/csv; charset=utf-8').send(formatSubmissionCsv(s.rows));
      return {
        model: seg.name,
        image: { name: up.name, width: image.width, height: image.height },
        rle_order: 'row-major, 1-based starts',
        masks: s.rows.map((r, c) => ({ class: c, label: r.class, rle: r.rle, area: s.areas[c] })),
        timings_ms: s.timings,
      };
    },
  );
}

function kept(ctx: ServerContext, id: string) {
  const u = ctx.cache.get(id);
  if (!u)
    throw new HttpError(404, 'ERR_UNKNOWN_UPLOAD', 'no such upload (unknown, or expired: upload the image again)');
  return u;
}

function uploadFields(ctx: ServerContext, id: string, raw: { dims: number[]; layout: string; transform: object }) {
  return {
    upload_id: id,
    expires_in: ctx.cache.ttlSeconds,
    raw: { dims: raw.dims, layout: raw.layout, transform: raw.transform, url: `/v1/uploads/${id}/raw` },
  };
}
