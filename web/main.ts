/**
 * The maskbox web page: upload images (or a zip), run the model once per image on the server, keep its
 * raw output here, and re-run the post-processing in the page whenever conf/iou move — the same code as
 * `maskbox detect`, so the CSV downloaded here is the one the CLI writes.
 */
import { strToU8, unzipSync, zipSync } from 'fflate';
import {
  decodeRle,
  detectionsToRows,
  formatDetectionsCsv,
  postprocessRaw,
  resultCsvName,
  startBackends,
  type RawMeta,
  type RawOutput,
} from './maskbox.js';

interface ModelInfo {
  name: string;
  kind: 'detector' | 'segmenter' | 'baseline';
  classes: string[];
  provider?: string;
}

interface Item {
  name: string;
  blob: Blob;
  state: 'waiting' | 'running' | 'ready' | 'failed';
  error?: string;
  width: number;
  height: number;
  bitmap?: ImageBitmap | null;
  raw?: RawOutput;
  boxes?: { boxes: Float32Array; scores: Float32Array; classes: Int32Array; backend: string };
  baseline?: Float32Array;
  masks?: { label: string; rle: string }[];
  button?: HTMLButtonElement;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const conf = $<HTMLInputElement>('conf');
const iou = $<HTMLInputElement>('iou');
const canvas = $<HTMLCanvasElement>('canvas');
const status = $<HTMLParagraphElement>('status');
const progress = $<HTMLProgressElement>('progress');
const modelSelect = $<HTMLSelectElement>('model');
const showBaseline = $<HTMLInputElement>('show-baseline');
const items: Item[] = [];
let models: ModelInfo[] = [];
let current = -1;
let queue = Promise.resolve();

const IMAGE_RE = /\.(png|jpe?g|tiff?)$/i;
const COLORS = [
  '#e6194b',
  '#3cb44b',
  '#ffe119',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#46f0f0',
  '#f032e6',
  '#bcf60c',
  '#fabebe',
];

function headers(): HeadersInit {
  const t = $<HTMLInputElement>('token').value.trim();
  return t ? { authorization: `Bearer ${t}` } : {};
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const r = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers ?? {}) } });
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try {
      msg = ((await r.json()) as { error: { message: string } }).error.message;
    } catch {
      // not JSON
    }
    throw new Error(msg);
  }
  return (path.endsWith('/raw') ? r.arrayBuffer() : r.json()) as Promise<T>;
}

function selectedModel(): ModelInfo | undefined {
  return models.find((m) => m.name === modelSelect.value);
}

async function loadModels(): Promise<void> {
  try {
    models = (await api<{ models: ModelInfo[] }>('/v1/models')).models;
    status.textContent = '';
  } catch (err) {
    status.textContent = `cannot list models: ${(err as Error).message} (set the token?)`;
    return;
  }
  modelSelect.replaceChildren(
    ...models
      .filter((m) => m.kind !== 'baseline')
      .map((m) => new Option(`${m.name} (${m.kind}${m.provider ? `, ${m.provider}` : ''})`, m.name)),
  );
  const list = await startBackends();
  $('backend').textContent =
    'post-processing in this page: ' + list.map((b) => (b.available ? b.name : `${b.name} unavailable`)).join(', ');
  $('backend').title = list
    .filter((b) => !b.available)
    .map((b) => `${b.name}: ${b.reason}`)
    .join('\n');
}

/** Add files (zips are opened here) and process them one after another. */
function addFiles(files: Iterable<File>): void {
  for (const f of files) {
    if (/\.zip$/i.test(f.name)) {
      void f.arrayBuffer().then((buf) => {
        const entries = unzipSync(new Uint8Array(buf), { filter: (e) => IMAGE_RE.test(e.name) });
        addItems(Object.entries(entries).map(([n, b]) => ({ name: n.split('/').pop()!, blob: new Blob([b]) })));
      });
    } else if (IMAGE_RE.test(f.name) || f.type.startsWith('image/')) addItems([{ name: f.name, blob: f }]);
  }
}

function addItems(list: { name: string; blob: Blob }[]): void {
  for (const { name, blob } of list) {
    const item: Item = { name, blob, state: 'waiting', width: 0, height: 0 };
    items.push(item);
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${name} — waiting`;
    b.addEventListener('click', () => show(items.indexOf(item)));
    li.append(b);
    item.button = b;
    $('images').append(li);
    queue = queue.then(() => processItem(item));
  }
  progress.max = items.length;
  progress.hidden = false;
  void queue.then(() => {
    progress.hidden = items.every((i) => i.state === 'ready' || i.state === 'failed');
  });
}

async function processItem(item: Item): Promise<void> {
  item.state = 'running';
  item.button!.textContent = `${item.name} — running…`;
  status.textContent = `processing ${item.name}…`;
  const model = selectedModel();
  try {
    const fd = () => {
      const f = new FormData();
      f.append('image', item.blob, item.name);
      return f;
    };
    if (model?.kind === 'segmenter') {
      const s = await api<{ image: { width: number; height: number }; masks: { label: string; rle: string }[] }>(
        `/v1/segment?model=${encodeURIComponent(model.name)}`,
        { method: 'POST', body: fd() },
      );
      Object.assign(item, { width: s.image.width, height: s.image.height, masks: s.masks });
    } else {
      const d = await api<{
        upload_id?: string;
        image: { width: number; height: number };
        raw?: RawMeta & { url: string };
      }>(`/v1/detect?keep=true${model ? `&model=${encodeURIComponent(model.name)}` : ''}`, {
        method: 'POST',
        body: fd(),
      });
      if (!d.raw) throw new Error('this model keeps no raw output; sliders need a YOLOv5/v6/v8 layout');
      const data = new Float32Array(await api<ArrayBuffer>(d.raw.url));
      item.raw = { dims: d.raw.dims, layout: d.raw.layout, transform: d.raw.transform, data };
      Object.assign(item, { width: d.image.width, height: d.image.height });
      await rerun(item);
    }
    item.bitmap = await createImageBitmap(item.blob).catch(() => null); // TIFF: no preview in browsers
    item.state = 'ready';
  } catch (err) {
    item.state = 'failed';
    item.error = (err as Error).message;
  }
  progress.value = items.filter((i) => i.state === 'ready' || i.state === 'failed').length;
  status.textContent = `${progress.value} of ${items.length} image(s) processed`;
  item.button!.textContent = `${item.name} — ${item.state === 'failed' ? `failed: ${item.error}` : countText(item)}`;
  item.button!.classList.toggle('err', item.state === 'failed');
  if (current < 0 || items[current] === item) show(items.indexOf(item));
  ($('download-all') as HTMLButtonElement).disabled = !items.some((i) => i.raw);
}

function settings() {
  return { conf: Number(conf.value), iou: Number(iou.value) };
}

/** Post-process the kept raw output with the sliders' settings (in this page, no server call). */
async function rerun(item: Item): Promise<void> {
  if (!item.raw) return;
  item.boxes = await postprocessRaw(item.raw, settings());
  $('ran-on').textContent = `last post-processing ran on: ${item.boxes.backend}`;
}

function countText(item: Item): string {
  if (item.masks) return `${item.masks.filter((m) => m.rle !== '').length} non-empty masks`;
  return `${item.boxes?.scores.length ?? 0} boxes`;
}

async function fetchBaseline(item: Item): Promise<void> {
  const f = new FormData();
  f.append('image', item.blob, item.name);
  const r = await api<{ detections: { box: number[] }[] }>('/v1/baseline', { method: 'POST', body: f });
  item.baseline = new Float32Array(r.detections.flatMap((d) => d.box));
}

async function show(i: number): Promise<void> {
  current = i;
  const item = items[i];
  if (!item) return;
  items.forEach((it, k) => it.button?.setAttribute('aria-current', String(k === i)));
  $('title').textContent = item.name;
  if (item.state !== 'ready') {
    $('count').textContent = item.state === 'failed' ? `failed: ${item.error}` : item.state;
    return;
  }
  if (item.raw && !item.boxes) await rerun(item); // a slider moved while another image was shown
  if (showBaseline.checked && !item.baseline && !item.masks) await fetchBaseline(item).catch(() => undefined);
  await draw(item);
}

async function draw(item: Item): Promise<void> {
  canvas.width = item.width;
  canvas.height = item.height;
  // Fit the view (small images are enlarged, pixels kept sharp).
  const room = Math.min(canvas.parentElement!.clientWidth / item.width, (0.85 * innerHeight) / item.height);
  canvas.style.width = `${Math.floor(item.width * room)}px`;
  canvas.style.height = `${Math.floor(item.height * room)}px`;
  canvas.style.imageRendering = room > 1 ? 'pixelated' : 'auto';
  const g = canvas.getContext('2d')!;
  if (item.bitmap) g.drawImage(item.bitmap, 0, 0);
  else {
    g.fillStyle = '#333';
    g.fillRect(0, 0, item.width, item.height);
  }
  const line = Math.max(2, Math.round(item.width / 600));
  if (item.masks) await drawMasks(g, item);
  if (item.boxes) {
    g.strokeStyle = '#00e676';
    g.lineWidth = line;
    const b = item.boxes.boxes;
    for (let k = 0; k < b.length; k += 4) g.strokeRect(b[k]!, b[k + 1]!, b[k + 2]! - b[k]!, b[k + 3]! - b[k + 1]!);
  }
  if (showBaseline.checked && item.baseline) {
    g.strokeStyle = '#ff4081';
    g.setLineDash([3 * line, 2 * line]);
    const b = item.baseline;
    for (let k = 0; k < b.length; k += 4)
      g.strokeRect(b[k]! - line, b[k + 1]! - line, b[k + 2]! - b[k]! + 2 * line, b[k + 3]! - b[k + 1]! + 2 * line);
    g.setLineDash([]);
  }
  const count = $('count');
  count.textContent = `${countText(item)}${showBaseline.checked && item.baseline ? `; baseline ${item.baseline.length / 4}` : ''}`;
  count.dataset.count = String(item.boxes?.scores.length ?? '');
  item.button!.textContent = `${item.name} — ${countText(item)}`;
  fillTable(item);
  ($('download') as HTMLButtonElement).disabled = !item.boxes;
}

async function drawMasks(g: CanvasRenderingContext2D, item: Item): Promise<void> {
  const { width, height } = item;
  const img = g.getImageData(0, 0, width, height);
  const legend: HTMLElement[] = [];
  for (let c = 0; c < item.masks!.length; c++) {
    const m = item.masks![c]!;
    if (m.rle === '') continue;
    const { mask } = await decodeRle(m.rle, { height, width });
    const hex = COLORS[c % COLORS.length]!;
    const rgb = [1, 3, 5].map((o) => parseInt(hex.slice(o, o + 2), 16));
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      for (let k = 0; k < 3; k++) img.data[4 * p + k] = (img.data[4 * p + k]! + rgb[k]!) >> 1;
    }
    const s = document.createElement('span');
    s.style.color = hex;
    s.textContent = `■ ${m.label}`;
    legend.push(s);
  }
  g.putImageData(img, 0, 0);
  $('legend-classes').replaceChildren(...legend);
}

function fillTable(item: Item): void {
  const body = $('table').querySelector('tbody')!;
  if (!item.boxes) return void body.replaceChildren();
  const rows = detectionsToRows(item.boxes.boxes, item.boxes.scores, { width: item.width, height: item.height });
  body.replaceChildren(
    ...rows.slice(0, 500).map((r, k) => {
      const tr = document.createElement('tr');
      for (const v of [k + 1, r.x_center, r.y_center, r.width, r.height, r.confidence.toFixed(4), r.area]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.append(td);
      }
      return tr;
    }),
  );
}

function csvOf(item: Item): string {
  return formatDetectionsCsv(item.boxes!.boxes, item.boxes!.scores, { width: item.width, height: item.height });
}

function save(name: string, data: BlobPart, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

let pending = false;
function onSlider(): void {
  $('conf-out').textContent = Number(conf.value).toFixed(2);
  $('iou-out').textContent = Number(iou.value).toFixed(2);
  if (pending) return;
  pending = true;
  requestAnimationFrame(async () => {
    pending = false;
    const item = items[current];
    if (item?.raw) {
      await rerun(item);
      await draw(item);
    }
    // Other images are brought up to date when shown or downloaded.
    for (const it of items) if (it !== item) it.boxes = undefined;
  });
}

conf.addEventListener('input', onSlider);
iou.addEventListener('input', onSlider);
showBaseline.addEventListener('change', () => void show(current));
$<HTMLInputElement>('files').addEventListener('change', (e) => addFiles((e.target as HTMLInputElement).files ?? []));
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  addFiles(e.dataTransfer?.files ?? []);
});
$('download').addEventListener('click', () => {
  const item = items[current];
  if (item?.boxes) save(resultCsvName(item.name), csvOf(item), 'text/csv');
});
$('download-all').addEventListener('click', async () => {
  const files: Record<string, Uint8Array> = {};
  for (const item of items) {
    if (!item.raw) continue;
    if (!item.boxes) await rerun(item);
    files[resultCsvName(item.name)] = strToU8(csvOf(item));
  }
  save('results.zip', zipSync(files), 'application/zip');
});
modelSelect.addEventListener('change', () => (status.textContent = 'new uploads use the selected model'));
$<HTMLInputElement>('token').addEventListener('change', () => void loadModels()); // a token server lists nothing before

void loadModels();
