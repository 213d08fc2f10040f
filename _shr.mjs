import sharp from 'sharp';
import { readFileSync } from 'node:fs';
sharp.cache(false); sharp.concurrency(1);
const b = readFileSync('/tmp/tp/jpg/images/cdv_00001.jpg');
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t = async (name, f) => { await f(); const c = cpu(); let r; for (let i = 0; i < 6; i++) r = await f(); console.log(name, ((cpu() - c) / 6).toFixed(1), r.info.width, r.info.height); return r.data; };
const full = await t('full', () => sharp(b).raw().toBuffer({ resolveWithObject: true }));
const n2 = await t('1024 nearest fsol', () => sharp(b).resize(1024, 1024, { kernel: 'nearest' }).raw().toBuffer({ resolveWithObject: true }));
const l2 = await t('1024 lanczos fsol', () => sharp(b).resize(1024, 1024).raw().toBuffer({ resolveWithObject: true }));
const n2b = await t('1024 nearest nofsol', () => sharp(b).resize(1024, 1024, { kernel: 'nearest', fastShrinkOnLoad: false }).raw().toBuffer({ resolveWithObject: true }));
const n4 = await t('512 nearest fsol', () => sharp(b).resize(512, 512, { kernel: 'nearest' }).raw().toBuffer({ resolveWithObject: true }));
let d = 0; for (let i = 0; i < n2.length; i++) d += n2[i] !== l2[i];
let d2 = 0; for (let i = 0; i < n2.length; i++) d2 += n2[i] !== n2b[i];
console.log('nearest vs lanczos differ', d, 'fsol vs nofsol differ', d2, n2.length);
const fullb = full;
for (const off of [0, 1]) { let dd = 0; for (let y = 0; y < 1024; y++) for (let x = 0; x < 1024; x++) for (let c = 0; c < 3; c++) dd += Math.abs(n2[(y*1024+x)*3+c] - fullb[((2*y+off)*2048+2*x+off)*3+c]); console.log('nearest vs subsample off', off, 'mean abs', dd / n2.length); }
// box average of full
{ let dd = 0; for (let y = 0; y < 1024; y++) for (let x = 0; x < 1024; x++) for (let c = 0; c < 3; c++) { const a = (fullb[((2*y)*2048+2*x)*3+c]+fullb[((2*y)*2048+2*x+1)*3+c]+fullb[((2*y+1)*2048+2*x)*3+c]+fullb[((2*y+1)*2048+2*x+1)*3+c])/4; dd += Math.abs(n2[(y*1024+x)*3+c]-a);} console.log('nearest vs box2 mean abs', dd/n2.length); }
