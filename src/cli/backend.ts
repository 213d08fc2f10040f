/**
 * The `--backend js|cpu|cuda|webgpu|auto` flag every command takes (and the `MASKBOX_BACKEND`
 * environment variable; the flag wins). The router takes it out of argv before a command parses its
 * own flags and makes it the default backend of every op (`setDefaultBackend`); commands report it in
 * their summary with {@link backendSummary}.
 */
import { BACKEND_NAMES, onDispatch, setDefaultBackend, type BackendChoice } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';

const CHOICES: readonly string[] = ['auto', ...BACKEND_NAMES];

/** Usage line for the flag (printed under every command's --help). */
export const BACKEND_USAGE =
  `  --backend ${CHOICES.join('|')}  kernels to run (default auto, or MASKBOX_BACKEND); an explicit backend\n` +
  '      that cannot run here is an error, never a silent fallback';

let chosen: BackendChoice = 'auto';
/** Backends that ran an op since the flag was taken (a dispatch observer; see backendSummary). */
const ran = new Set<string>();
onDispatch((_op, backend) => ran.add(backend));

function check(value: string, from: string): BackendChoice {
  if (!CHOICES.includes(value))
    throw new InvalidArgumentError(
      'backend',
      `Expected one of ${CHOICES.join(', ')} for ${from} but received '${value}'`,
    );
  return value as BackendChoice;
}

/**
 * Remove `--backend X` / `--backend=X` from argv, validate it (or `MASKBOX_BACKEND`), and set it as the
 * default backend. Returns the remaining arguments.
 * @throws InvalidArgumentError for an unknown backend or a missing value
 */
export function takeBackendFlag(argv: readonly string[], env = process.env, keep = false): string[] {
  ran.clear();
  if (keep) {
    // The command parses --backend itself: apply the environment only.
    const e = env.MASKBOX_BACKEND;
    chosen = e === undefined || e === '' ? 'auto' : check(e, 'MASKBOX_BACKEND');
    setDefaultBackend(chosen);
    return [...argv];
  }
  const rest: string[] = [];
  let value: string | undefined;
  let from = '--backend';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--backend') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--'))
        throw new InvalidArgumentError('backend', `--backend needs a value: one of ${CHOICES.join(', ')}`);
      value = next;
      i++;
    } else if (a.startsWith('--backend=')) value = a.slice('--backend='.length);
    else rest.push(a);
  }
  if (value === undefined && env.MASKBOX_BACKEND !== undefined && env.MASKBOX_BACKEND !== '') {
    value = env.MASKBOX_BACKEND;
    from = 'MASKBOX_BACKEND';
  }
  chosen = value === undefined ? 'auto' : check(value, from);
  setDefaultBackend(chosen);
  return rest;
}

/** The backend chosen for this run (`auto` unless --backend / MASKBOX_BACKEND said otherwise). */
export function chosenBackend(): BackendChoice {
  return chosen;
}

/**
 * What to print as "backend": the explicit choice (every op ran there, or the run failed), or under
 * `auto` the backends that ran the command's ops (every dispatch is observed; `reported` adds backends
 * a result named, e.g. from a worker process), e.g. `auto (cpu, js)`.
 */
export function backendSummary(reported: Iterable<string> = []): string {
  const list = [...new Set([...ran, ...reported])].sort();
  if (chosen !== 'auto') return chosen;
  return list.length ? `auto (${list.join(', ')})` : 'auto';
}
