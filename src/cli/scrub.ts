/** `sluice scrub`: redact secrets in local transcripts and history.jsonl in place; remove expired transcripts. */
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { scrubMachine, type ScrubReport } from '../audit/scrub.js';
import { progressMeter, resolveDeps, type VerbIo } from './audit.js';
import { EXIT } from './exit.js';
import { canShowProgress, formatOption } from './format.js';

interface ScrubFlags {
  home?: string;
  project?: string;
  managed: string;
  dryRun?: boolean;
  expired?: boolean;
  format: 'table' | 'json';
}

function toTable(report: ScrubReport): string {
  const lines: string[] = [];
  const changed = report.files.filter((f) => f.status !== 'clean');
  const verb = report.dryRun ? 'would change' : 'changed';
  lines.push(
    `${changed.length} of ${report.files.length} file(s) ${verb}${report.dryRun ? ' (dry run: nothing written)' : ''}.`,
  );
  for (const f of changed) {
    if (f.status === 'removed' || f.status === 'would-remove') {
      lines.push(`  ${f.status.padEnd(12)}  ${f.file}  (older than ${report.retentionDays} days)`);
      continue;
    }
    const rules = Object.entries(f.redactions)
      .map(([rule, n]) => `${rule} x${n}`)
      .join(', ');
    const where = f.lines.length
      ? `lines ${f.lines.slice(0, 10).join(', ')}${f.lines.length > 10 ? ', …' : ''}`
      : '';
    lines.push(`  ${f.status.padEnd(12)}  ${f.file}  ${[where, rules, f.error].filter(Boolean).join('  ')}`);
  }
  for (const f of report.files.filter((f) => f.unparseableLines.length)) {
    lines.push(`  not JSON, left as is: ${f.file} line(s) ${f.unparseableLines.join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

export function registerScrub(program: Command, io: VerbIo = {}): void {
  program
    .command('scrub')
    .description(
      'Redact secrets in local Claude Code transcripts and history.jsonl, in place (lines stay valid JSON).',
    )
    .option(
      '--home <dir>',
      'home directory to scrub (default: $HOME; CLAUDE_CONFIG_DIR is honoured only without --home)',
    )
    .option('--project <dir>', 'project whose settings set the retention (default: the current directory)')
    .option('--managed <path>', 'managed-settings directory or file', '/etc/claude-code')
    .option('--dry-run', 'report what would change; write nothing')
    .option('--expired', 'also remove transcripts older than the effective cleanupPeriodDays')
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      `
Prints what it changed (file, lines, counts by detector), never the secrets. Exit codes: 0 done,
1 some file could not be scrubbed (for example, a live session wrote to it meanwhile), 2 usage error.

Examples:
  $ sluice scrub --dry-run
  $ sluice scrub
  $ sluice scrub --expired --format json`,
    )
    .action(async (flags: ScrubFlags) => {
      const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
      const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
      const env = io.env ?? process.env;
      const deps = await resolveDeps(io);
      const showProgress = io.progress ?? canShowProgress();
      const report = await scrubMachine(
        {
          home: flags.home ?? env.HOME ?? homedir(),
          project: flags.project ?? (io.cwd ?? process.cwd)(),
          managed: flags.managed,
          env,
          now: (io.now ?? (() => new Date()))(),
          useConfigDirEnv: flags.home === undefined,
        },
        deps.inspector,
        {
          dryRun: Boolean(flags.dryRun),
          expired: Boolean(flags.expired),
          ...(showProgress ? { progress: progressMeter(err, 'scrubbing') } : {}),
        },
      );
      out(flags.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : toTable(report));
      const failed = report.files.some((f) => f.status === 'error' || f.status === 'busy');
      process.exitCode = failed ? EXIT.findings : EXIT.ok;
    });
}
