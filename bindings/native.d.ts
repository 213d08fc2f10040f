/** Build facts reported by the addon's `info()`. */
export interface NativeInfo {
    version: string;
    napiVersion: number;
    /** Thread budget shared by all native ops (MASKBOX_THREADS or the core count). */
    threads: number;
    /** Whether CUDA kernels were compiled in. */
    cuda: boolean;
    /** Built with -fsanitize=address,undefined. */
    sanitize: boolean;
    compiler: string;
    /** Ops this build exports. */
    ops: string[];
}
/** The addon's functions; each validates its options object again in C++. */
export interface NativeAddon {
    info(): NativeInfo;
    /** Pairwise IoU of boxes `a` [nA*4] and `b` [nB*4] into `out` [nA*nB]. */
    iou(args: {
        a: Float32Array;
        b: Float32Array;
        out: Float32Array;
    }): Promise<void>;
    /** Greedy NMS; kept indices in visiting order. */
    nms(args: {
        boxes: Float32Array;
        scores: Float32Array;
        classes: Int32Array | null;
        iouThreshold: number;
        scoreThreshold: number;
        maxCandidates: number;
        maxDetections: number;
    }): Promise<Int32Array>;
    /** Ops added by later kernels are looked up by name (see `nativeOp`). */
    [op: string]: unknown;
}
export interface NativeStatus {
    available: boolean;
    /** The exact reason it is unavailable, or a one-line description of the loaded build. */
    reason: string;
    /** The file that was (or would have been) loaded. */
    path: string;
    info?: NativeInfo;
}
export declare const NOT_BUILT_REASON = "the native addon was not built: run `npm run build:native` (needs cmake and a C++17 compiler)";
/** Where the addon is looked for. */
export declare function nativePath(): string;
/** The addon, or null when it is not built / fails to load / is disabled (see `nativeStatus()`). Cached. */
export declare function loadNative(): NativeAddon | null;
/** Whether the addon loaded, and the exact reason when it did not. */
export declare function nativeStatus(): NativeStatus;
/**
 * `true` when this build of the addon exports `op`, else the reason (a build older than the sources).
 * Kernels use it in `supports()` so a stale build fails with a clear message, not a TypeError.
 */
export declare function nativeHasOp(op: string): true | string;
