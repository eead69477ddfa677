#!/usr/bin/env node
// Stamps the service worker in a built web app: the list of files to precache and a build
// stamp (hash of their contents), so every deploy with changed files gets a new cache name.
//   node tools/stamp-web.mjs DIST_DIR
// Precached: the app shell (top-level html/js/mjs/css/wasm/webmanifest), engine/*.js,
// icons/*, weights/models.json and the weights it lists (up to 80 MB each; bigger models are
// cached the first time they are used). dist/weights/models.json is rewritten to list only the
// models whose weights are present.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const MAX_PRECACHE_WEIGHTS = 80 * 1024 * 1024;
const dist = process.argv[2];
if (!dist || !fs.existsSync(path.join(dist, 'sw.js'))) {
  console.error('usage: node tools/stamp-web.mjs DIST_DIR (with DIST_DIR/sw.js)');
  process.exit(2);
}

const files = [];
const SHELL_EXT = new Set(['.html', '.js', '.mjs', '.css', '.wasm', '.webmanifest']);
for (const f of fs.readdirSync(dist).sort()) {
  const st = fs.statSync(path.join(dist, f));
  if (st.isFile() && SHELL_EXT.has(path.extname(f)) && f !== 'sw.js') files.push(f);
}
for (const sub of ['engine', 'icons']) {
  const d = path.join(dist, sub);
  if (!fs.existsSync(d)) continue;
  for (const f of fs.readdirSync(d).sort()) if (fs.statSync(path.join(d, f)).isFile()) files.push(`${sub}/${f}`);
}
const manifestPath = path.join(dist, 'weights', 'models.json');
if (fs.existsSync(manifestPath)) {
  files.push('weights/models.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const shipped = [];
  for (const m of manifest.models ?? []) {
    const p = path.join(dist, 'weights', m.file);
    if (!fs.existsSync(p)) {
      console.warn(`stamp-web: ${m.file} is not in ${dist}/weights; the app will not offer "${m.label}"`);
      continue;
    }
    shipped.push(m);
    if (fs.statSync(p).size <= MAX_PRECACHE_WEIGHTS) files.push(`weights/${m.file}`);
  }
  // The served manifest lists only the models whose weights were shipped.
  fs.writeFileSync(manifestPath, JSON.stringify({ ...manifest, models: shipped }, null, 2) + '\n');
}

const hash = crypto.createHash('sha256');
for (const f of files) {
  hash.update(f);
  hash.update('\0');
  hash.update(fs.readFileSync(path.join(dist, f)));
}
const swPath = path.join(dist, 'sw.js');
let sw = fs.readFileSync(swPath, 'utf8');
// Hash the service worker's own source too (before stamping), so logic changes also roll.
hash.update(sw);
const build = hash.digest('hex').slice(0, 16);
const list = ['./', ...files].map((f) => JSON.stringify(f)).join(',\n  ');
if (!sw.includes('__SCRIBE_BUILD__') || !sw.includes('/* __SCRIBE_PRECACHE__ */')) {
  console.error(`stamp-web: ${swPath} has no placeholders (already stamped?)`);
  process.exit(1);
}
sw = sw.replace('__SCRIBE_BUILD__', build).replace('/* __SCRIBE_PRECACHE__ */', `\n  ${list},\n`);
fs.writeFileSync(swPath, sw);
fs.writeFileSync(path.join(dist, 'build.json'), JSON.stringify({ build, files }, null, 1) + '\n');
console.log(`stamp-web: build ${build}, ${files.length} files precached`);
