/**
 * Typed errors. Every error maskbox throws on purpose is a `MaskboxError`; callers can branch on
 * `code` (stable) rather than on message text (may improve over time).
 */
export class MaskboxError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A function argument has the wrong type, size, range or value. `argument` names it. */
export class InvalidArgumentError extends MaskboxError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('ERR_MASKBOX_INVALID_ARGUMENT', message);
    this.argument = argument;
  }
}

/** Malformed input data: JSON, CSV, RLE strings, image files, YOLO txt. `source` names the input. */
export class ParseError extends MaskboxError {
  readonly source: string;
  readonly line: number | undefined;
  constructor(source: string, message: string, line?: number) {
    super('ERR_MASKBOX_PARSE', line === undefined ? `${source}: ${message}` : `${source}:${line}: ${message}`);
    this.source = source;
    this.line = line;
  }
}

/** A backend was asked for explicitly but cannot run here; `reason` says exactly why. */
export class BackendUnavailableError extends MaskboxError {
  readonly backend: string;
  readonly reason: string;
  constructor(backend: string, reason: string) {
    super('ERR_MASKBOX_BACKEND_UNAVAILABLE', `backend '${backend}' is unavailable: ${reason}`);
    this.backend = backend;
    this.reason = reason;
  }
}

/** A model file cannot be used: not ONNX, unknown output layout, wrong input rank. */
export class ModelError extends MaskboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MASKBOX_MODEL', message, options);
  }
}
