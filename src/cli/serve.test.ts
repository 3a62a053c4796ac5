import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = resolve('src/cli/main.ts');
let dir: string;
let taken: Server;
let port: number;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
  taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  port = (taken.address() as AddressInfo).port;
});
after(async () => {
  await new Promise((r) => taken.close(r));
  await rm(dir, { recursive: true, force: true });
});

/** `sluice serve` to its exit (it must exit on its own: no listener may be left open). */
function serve(config: string) {
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), main, 'serve', '--config', config],
    {
      cwd: dir,
      env: { ...process.env, ANTHROPIC_API_KEY: 'sk-ant-test' },
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  return new Promise<{ code: number | null; out: string; err: string }>((r) =>
    child.on('exit', (code) => r({ code, out, err })),
  );
}

/** What serve said as an error: its `sluice:` lines (the JSON lines before are its log). */
const errorLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => !l.startsWith('{'))
    .join('\n');

const config = (server: number, egress?: number) =>
  [
    `server: { host: 127.0.0.1, port: ${server} }`,
    'storage: sqlite:./.sluice/sluice.db',
    ...(egress === undefined ? [] : [`egress: { host: 127.0.0.1, port: ${egress} }`]),
    'upstreams:',
    '  anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: "${ANTHROPIC_API_KEY}" }',
    'orgs:',
    '  default: { upstream: anthropic }',
  ].join('\n');

describe('sluice serve on a port in use', () => {
  it('the gateway port: one line naming the port and what to do, exit 2, no stack trace', async () => {
    await writeFile(join(dir, 'gw.yaml'), config(port));
    const r = await serve('gw.yaml');
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    assert.equal(
      errorLines(r.err),
      `sluice: the gateway cannot listen on 127.0.0.1:${port}: the port is in use (another sluice serve?). Stop what holds it, or choose another port (server.port in gw.yaml, or --port).\n`,
    );
  });

  it('the egress proxy port: the same, naming egress.port', async () => {
    await writeFile(join(dir, 'eg.yaml'), config(0, port));
    const r = await serve('eg.yaml');
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    assert.equal(
      errorLines(r.err),
      `sluice: the egress proxy cannot listen on 127.0.0.1:${port}: the port is in use (another sluice serve?). Stop what holds it, or choose another port (egress.port in eg.yaml).\n`,
    );
  });
});
