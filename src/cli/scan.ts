/** `sluice scan`: looks for secrets and personal data in files, folders (honouring .gitignore) or stdin. */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import ignore, { type Ignore } from 'ignore';
import { allowMatcher, allowPatternError } from '../guard/allowlist.js';
import { detectionRules } from '../guard/rules/index.js';
import { locate, toSarif, type Finding } from '../guard/report.js';
import { scan } from '../guard/scan.js';
import type { DetectionKind } from '../guard/types.js';
import { CliError, EXIT } from './exit.js';
import { canShowProgress, formatOption } from './format.js';

const FORMATS = ['table', 'json', 'sarif'] as const;
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);
/** Bytes looked at for a NUL to call a file binary, as git does. */
const BINARY_SNIFF = 8000;

interface ScanCliOptions {
  format: (typeof FORMATS)[number];
  stdin?: boolean;
  kind?: DetectionKind;
  allow: string[];
}

const EXAMPLES = `
Examples:
  $ sluice scan                      scan the current folder (in a terminal; elsewhere name a path)
  $ sluice scan src config/.env      scan files and folders; .gitignore, .git and node_modules are skipped
  $ git diff | sluice scan -         scan stdin (or --stdin)
  $ sluice scan --kind pii --format json logs/
  $ sluice scan --format sarif . > sluice.sarif
  $ sluice scan --allow '*@acme-corp.io' --allow 'sk-test-*' .

Exit codes: 0 nothing found, 1 findings, 2 usage error or unreadable path.`;

/** Adds `sluice scan` to `program`. */
export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('find secrets and personal data in files, folders or stdin')
    .argument(
      '[paths...]',
      'files or folders to scan; "-" reads stdin (default: the current folder, in a terminal)',
    )
    .option('--stdin', 'scan stdin (the same as -)')
    .addOption(formatOption(FORMATS))
    .addOption(new Option('--kind <kind>', 'only report this kind').choices(['secret', 'pii']))
    .addOption(
      new Option(
        '--allow <value>',
        'a value that is not a finding here (the whole value; * for any run of characters); repeatable',
      )
        .argParser((value: string, previous: string[]) => {
          const error = allowPatternError(value);
          if (error) throw new InvalidArgumentError(`--allow ${JSON.stringify(value)}: ${error}`);
          return [...previous, value];
        })
        .default([]),
    )
    .addHelpText('after', EXAMPLES)
    .action(async (paths: string[], options: ScanCliOptions) => {
      process.exitCode = await runScan(paths, options);
    });
}

async function runScan(paths: string[], options: ScanCliOptions): Promise<number> {
  const targets = [...paths, ...(options.stdin ? ['-'] : [])];
  if (targets.length === 0) {
    // Piped or in CI, scanning the folder (or stdin) unasked could report a false pass.
    if (!process.stdin.isTTY)
      throw new CliError(
        'scan: no path given and stdin is not a terminal. Name what to scan: a path (. for the current folder), or - (or --stdin) to read stdin.',
      );
    targets.push('.');
  }
  const kinds = options.kind ? [options.kind] : undefined;
  const allowed = allowMatcher(options.allow);
  const findings: Finding[] = [];
  const progress = canShowProgress();
  let files = 0;
  const scanText = (file: string, text: string): void => {
    findings.push(
      ...locate(
        file,
        text,
        scan(text, { kinds }).filter((d) => !allowed(d.value)),
      ),
    );
    files++;
    if (progress && files % 50 === 0) process.stderr.write(`\rsluice: scanned ${files} files`);
  };
  for (const target of targets) {
    if (target === '-') scanText('-', await readStdin());
    else await scanPath(target, scanText);
  }
  if (progress && files >= 50) process.stderr.write('\r\x1b[K');
  process.stdout.write(render(findings, files, options.format));
  return findings.length > 0 ? EXIT.findings : EXIT.ok;
}

async function scanPath(target: string, scanText: (file: string, text: string) => void): Promise<void> {
  const info = await stat(target).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${target}: ${describeError(err)}`);
  });
  if (info.isDirectory()) {
    await walk(target, target, [], scanText);
    return;
  }
  const text = await readText(target);
  if (text !== undefined) scanText(target, text);
}

/** Depth-first walk; each folder's .gitignore applies to the paths below it. */
async function walk(
  root: string,
  dir: string,
  parents: { base: string; rules: Ignore }[],
  scanText: (file: string, text: string) => void,
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${dir}: ${describeError(err)}`);
  });
  const own = entries.some((e) => e.name === '.gitignore' && e.isFile())
    ? [{ base: dir, rules: ignore().add(await readFile(join(dir, '.gitignore'), 'utf8')) }]
    : [];
  const matchers = [...parents, ...own];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    const isDir = entry.isDirectory();
    if (isDir && SKIPPED_DIRS.has(entry.name)) continue;
    if (!isDir && !entry.isFile()) continue;
    if (isIgnored(path, isDir, matchers)) continue;
    if (isDir) await walk(root, path, matchers, scanText);
    else {
      const text = await readText(path);
      if (text !== undefined) scanText(path, text);
    }
  }
}

function isIgnored(path: string, isDir: boolean, matchers: { base: string; rules: Ignore }[]): boolean {
  let ignored = false;
  for (const { base, rules } of matchers) {
    const rel = relative(base, path).split(sep).join('/') + (isDir ? '/' : '');
    const result = rules.test(rel);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

/**
 * The file as UTF-8 text, or undefined for a binary file (a NUL byte near the start): the start is
 * read first, so a binary (an executable, an image) is never read whole.
 */
async function readText(path: string): Promise<string | undefined> {
  const fail = (err: NodeJS.ErrnoException): never => {
    throw new CliError(`cannot read ${path}: ${describeError(err)}`);
  };
  const file = await open(path, 'r').catch(fail);
  try {
    const head = Buffer.alloc(BINARY_SNIFF);
    const { bytesRead } = await file.read(head, 0, BINARY_SNIFF, 0).catch(fail);
    if (head.subarray(0, bytesRead).includes(0)) return undefined;
    if (bytesRead < BINARY_SNIFF) return head.toString('utf8', 0, bytesRead);
    return (await readFile(file).catch(fail)).toString('utf8');
  } finally {
    await file.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function describeError(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'no such file or directory';
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied';
  return err.message;
}

function render(findings: Finding[], files: number, format: ScanCliOptions['format']): string {
  if (format === 'json')
    return (
      JSON.stringify(
        findings.map(({ file, line, column, rule, kind, preview }) => ({
          file,
          line,
          column,
          rule,
          kind,
          preview,
        })),
        null,
        2,
      ) + '\n'
    );
  if (format === 'sarif') return JSON.stringify(toSarif(findings, detectionRules, '0.1.0'), null, 2) + '\n';
  const scanned = `${files} ${files === 1 ? 'file' : 'files'} scanned`;
  if (findings.length === 0) return `No secrets or personal data found (${scanned}).\n`;
  const rows = findings.map((f) => [`${f.file}:${f.line}:${f.column}`, f.rule, f.kind, f.preview]);
  const widths = [0, 1, 2].map((i) =>
    Math.max(...rows.map((r) => (r[i] as string).length), ['LOCATION', 'RULE', 'KIND'][i]?.length ?? 0),
  );
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell))
      .join('  ')
      .trimEnd();
  const count = `${findings.length} ${findings.length === 1 ? 'finding' : 'findings'}`;
  return [
    line(['LOCATION', 'RULE', 'KIND', 'PREVIEW']),
    ...rows.map(line),
    '',
    `${count} (${scanned}).`,
    '',
  ].join('\n');
}
