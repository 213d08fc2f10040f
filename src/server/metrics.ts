/** Prometheus metrics of one server (its own registry, so several servers in one process do not mix). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UploadCache } from './cache.js';
import type { Gate } from './gate.js';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  latency: Histogram<'route'>;
  images: Counter<'kind'>;
  rejected: Counter<'reason'>;
}

/**
 * `maskbox_http_requests_total{method,route,status}`, `maskbox_http_request_duration_seconds{route}`,
 * `maskbox_queue_depth`, `maskbox_requests_running`, `maskbox_images_processed_total{kind}`,
 * `maskbox_requests_rejected_total{reason}`, `maskbox_upload_cache_entries`/`_bytes`, and the
 * process metrics (memory, CPU, event-loop lag) with the `maskbox_` prefix.
 */
export function createMetrics(gate: Gate, cache: UploadCache): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'maskbox_' });
  const requests = new Counter({
    name: 'maskbox_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'maskbox_http_request_duration_seconds',
    help: 'Time from the request to the answer, by route pattern',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const images = new Counter({
    name: 'maskbox_images_processed_total',
    help: 'Images run through a model, by kind (detector, segmenter, baseline, postprocess)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'maskbox_requests_rejected_total',
    help: 'Requests refused before any work, by reason (queue_full, unauthorized, timeout)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'maskbox_queue_depth',
    help: 'Admitted requests not computing yet (uploading or waiting for a slot)',
    registers: [registry],
    collect() {
      this.set(gate.state().queued);
    },
  });
  new Gauge({
    name: 'maskbox_requests_running',
    help: 'Requests holding a compute slot',
    registers: [registry],
    collect() {
      this.set(gate.state().running);
    },
  });
  new Gauge({
    name: 'maskbox_upload_cache_entries',
    help: 'Raw model outputs kept for re-post-processing',
    registers: [registry],
    collect() {
      this.set(cache.size);
    },
  });
  new Gauge({
    name: 'maskbox_upload_cache_bytes',
    help: 'Bytes of raw model outputs kept',
    registers: [registry],
    collect() {
      this.set(cache.byteSize);
    },
  });
  return { registry, requests, latency, images, rejected };
}
