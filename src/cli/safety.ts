/**
 * Process-level safety of the CLI: a closed pipe on stdout/stderr ends the process quietly (as Unix
 * tools do under SIGPIPE) instead of crashing with an EPIPE stack trace, and unexpected errors are
 * reported in one line (the stack only with MASKBOX_DEBUG=1).
 */

/** Exit status after the reader of stdout went away: 128 + SIGPIPE, as a shell reports it. */
export const EPIPE_EXIT_CODE = 141;

let guarded = false;

/** Install the EPIPE handlers on stdout and stderr (once per process). */
export function guardStdio(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(EPIPE_EXIT_CODE);
      // Any other stream error: there is nowhere left to report it.
      process.exit(1);
    });
  }
}

/** One line for an error that is not a MaskboxError: its path and code for system errors. */
export function describeUnexpected(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const debug = process.env.MASKBOX_DEBUG === '1' && e instanceof Error ? `\n${e.stack}` : '';
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    const where = e.path ? `${e.path}: ` : '';
    return `${where}${e.code}: ${e.message}${debug}`;
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(err);
  return `unexpected error: ${msg} (set MASKBOX_DEBUG=1 for the stack trace)${debug}`;
}
