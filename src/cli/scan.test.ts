import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALNUM, fake } from '../guard/rules/fake.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
/** Resolved here, since the CLI runs in a temporary folder where `tsx` is not installed. */
const TSX = import.meta.resolve('tsx');
const secret = 'ghp_' + fake(ALNUM, 36, 'cli-scan');
const ignoredSecret = 'glpat-' + fake(ALNUM, 26, 'cli-ignored');
const nestedSecret = 'npm_' + fake(ALNUM, 36, 'cli-nested');
const email = 'jane.doe@acme-corp.io';
let dir = '';

function sluice(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, 'scan', ...args], {
    cwd: dir,
    input: input ?? '',
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-scan-'));
  mkdirSync(join(dir, 'repo/src/generated'), { recursive: true });
  mkdirSync(join(dir, 'repo/node_modules/pkg'), { recursive: true });
  mkdirSync(join(dir, 'clean'));
  writeFileSync(join(dir, 'repo/.gitignore'), 'secrets.env\n');
  writeFileSync(join(dir, 'repo/src/.gitignore'), 'generated/\n');
  writeFileSync(
    join(dir, 'repo/src/app.ts'),
    `// config\nconst token = "${secret}";\n  // owner: ${email}\n`,
  );
  writeFileSync(join(dir, 'repo/secrets.env'), `GITLAB=${ignoredSecret}\n`);
  writeFileSync(join(dir, 'repo/src/generated/out.js'), `x="${nestedSecret}"\n`);
  writeFileSync(join(dir, 'repo/node_modules/pkg/index.js'), `x="${nestedSecret}"\n`);
  writeFileSync(join(dir, 'repo/logo.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(secret)]));
  writeFileSync(join(dir, 'clean/readme.md'), '# nothing to see\n');
  mkdirSync(join(dir, 'big'));
  const filler = 'const x = 1; // filler line of ordinary code\n'.repeat(1000);
  writeFileSync(join(dir, 'big/app.js'), `a = "${secret}"\n${filler}b = "${secret}"\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice scan', () => {
  it('prints JSON findings with 1-based line and column and a masked preview', () => {
    const r = sluice(['repo', '--format', 'json']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      {
        file: join('repo', 'src', 'app.ts'),
        line: 2,
        column: 16,
        rule: 'github-pat',
        kind: 'secret',
        preview: 'ghp_…(40 chars)',
      },
      {
        file: join('repo', 'src', 'app.ts'),
        line: 3,
        column: 13,
        rule: 'email',
        kind: 'pii',
        preview: 'jane…(21 chars)',
      },
    ]);
    assert.ok(!r.stdout.includes(secret) && !r.stdout.includes(email), 'a value leaked into the output');
  });

  it('respects .gitignore files at every level and skips node_modules and binary files', () => {
    const r = sluice(['repo', '--format', 'json']);
    const files = JSON.parse(r.stdout).map((f: { file: string }) => f.file);
    for (const skipped of ['secrets.env', 'generated', 'node_modules', 'logo.bin']) {
      assert.ok(!files.some((f: string) => f.includes(skipped)), `${skipped} was scanned`);
    }
  });

  it('reads a file past the part it sniffs for binary content', () => {
    const r = sluice(['big', '--format', 'json']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((f: { line: number; rule: string }) => [f.line, f.rule]),
      [
        [1, 'github-pat'],
        [1002, 'github-pat'],
      ],
    );
  });

  it('scans stdin given as - or --stdin', () => {
    for (const args of [
      ['-', '--format', 'json'],
      ['--stdin', '--format', 'json'],
    ]) {
      const r = sluice(args, `first line\nauth ${secret}\n`);
      assert.equal(r.code, 1);
      assert.deepEqual(JSON.parse(r.stdout), [
        { file: '-', line: 2, column: 6, rule: 'github-pat', kind: 'secret', preview: 'ghp_…(40 chars)' },
      ]);
    }
  });

  it('no path and stdin not a terminal (CI, a script) is a usage error, never a silent pass', () => {
    const r = sluice(['--format', 'json'], `auth ${secret}\n`);
    assert.deepEqual(r, {
      code: 2,
      stdout: '',
      stderr:
        'sluice: scan: no path given and stdin is not a terminal. Name what to scan: a path (. for the current folder), or - (or --stdin) to read stdin.\n',
    });
  });

  it('filters by --kind', () => {
    const r = sluice(['repo', '--kind', 'pii', '--format', 'json']);
    assert.deepEqual(
      JSON.parse(r.stdout).map((f: { rule: string }) => f.rule),
      ['email'],
    );
  });

  it('leaves out values given with --allow, whole values with * as any run of characters', () => {
    const r = sluice(['repo', '--allow', '*@acme-corp.io', '--allow', 'ghp_*', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
    const partial = sluice(['repo', '--allow', 'acme-corp.io', '--format', 'json']);
    assert.deepEqual(
      JSON.parse(partial.stdout).map((f: { rule: string }) => f.rule),
      ['github-pat', 'email'],
      'an entry matches the whole value',
    );
  });

  it('exits 2 on an --allow that would allow everything', () => {
    const r = sluice(['repo', '--allow', '*']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--allow "\*": would allow every value; set the kind to off instead/);
  });

  it('exits 0 with a table when nothing is found', () => {
    const r = sluice(['clean']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'No secrets or personal data found (1 file scanned).\n');
  });

  it('prints a table of findings by default', () => {
    const r = sluice(['repo']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^LOCATION +RULE +KIND +PREVIEW\n/);
    assert.match(r.stdout, /repo.src.app\.ts:2:16 +github-pat +secret +ghp_…\(40 chars\)/);
    assert.match(r.stdout, /2 findings \(3 files scanned\)\./);
    assert.ok(!r.stdout.includes(secret));
  });

  it('writes SARIF 2.1.0 with the rule catalog and located results', () => {
    const r = sluice(['repo', '--format', 'sarif']);
    const log = JSON.parse(r.stdout);
    assert.equal(log.version, '2.1.0');
    const run = log.runs[0];
    assert.ok(run.tool.driver.rules.length >= 60);
    assert.equal(run.results[0].ruleId, 'github-pat');
    assert.equal(run.tool.driver.rules[run.results[0].ruleIndex].id, 'github-pat');
    assert.deepEqual(run.results[0].locations[0].physicalLocation.region, {
      startLine: 2,
      startColumn: 16,
      endLine: 2,
      endColumn: 56,
    });
    assert.ok(!r.stdout.includes(secret));
  });

  it('exits 2 naming a path it cannot read', () => {
    const r = sluice(['missing.txt']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'sluice: cannot read missing.txt: no such file or directory\n');
    assert.equal(r.stdout, '');
  });

  it('exits 2 on an unknown format', () => {
    assert.equal(sluice(['repo', '--format', 'xml']).code, 2);
  });

  it('shows examples in --help', () => {
    const r = sluice(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:\n {2}\$ sluice scan/);
  });
});
