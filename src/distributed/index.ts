/**
 * Distributed batch runs on BullMQ + Redis (`submit`, `createWorker`, `runStatus`) and the static split
 * for index-based engines (`--shard I/N` + `mergeShards`). See the README's "Distributed runs".
 */
export { QueueError, parseQueueUrl, IMAGE_QUEUE, COMBINE_QUEUE, type QueueAddress } from './connection.js';
export { submit, type SubmitOptions, type SubmitResult } from './submit.js';
export { createWorker, type WorkerOptions, type MaskboxWorker } from './worker.js';
export { runStatus, type RunStatus } from './status.js';
export type { RunSummary } from './combine.js';
export type { RunSpec, RunKind, InputRef } from './spec.js';
export { parseShard, shardRange, type Shard, type ShardInfo } from './shard.js';
export { mergeShards, type MergeResult } from './merge.js';
