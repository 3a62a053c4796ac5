// Builds the web console (src/web/app) into dist/console: one hashed script and stylesheet, and
// index.html naming them. Run by `npm run build` (and so by `npm install`, through `prepare`).
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(root, 'src/web/app');
const target = join(root, 'dist/console');
// Built beside the target and swapped in, so that builds running at once (test files in parallel)
// never remove each other's files, and a gateway reading dist/console sees one build or the other.
const out = `${target}.building-${process.pid}`;

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'assets'), { recursive: true });
const result = await build({
  entryPoints: [join(app, 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((n) => n.endsWith('.js'));
const css = outputs.find((n) => n.endsWith('.css'));
if (!js || !css)
  throw new Error(`console build: expected a script and a stylesheet, got ${outputs.join(', ')}`);
const html = (await readFile(join(app, 'index.html'), 'utf8')).replace('{{js}}', js).replace('{{css}}', css);
await writeFile(join(out, 'index.html'), html);
const old = `${target}.old-${process.pid}`;
for (let attempt = 0; ; attempt++) {
  await rm(old, { recursive: true, force: true });
  await rename(target, old).catch((err) => {
    if (err.code !== 'ENOENT') throw err;
  });
  try {
    await rename(out, target);
    break;
  } catch (err) {
    // Another build put its copy in place between the two renames: move that one aside too.
    if (attempt >= 5 || (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST')) throw err;
  }
}
await rm(old, { recursive: true, force: true });
const sizes = Object.entries(result.metafile.outputs)
  .filter(([p]) => !p.endsWith('.map'))
  .map(([p, o]) => `${basename(p)} ${(o.bytes / 1024).toFixed(1)} KiB`);
console.log(`console: ${sizes.join(', ')}`);
