/** `sluice audit`: read this machine the way Claude Code reads it and report flows and findings. */
import { homedir } from 'node:os';
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { runAudit } from '../audit/audit.js';
import { EgressLogError, parseEgressLog } from '../audit/egress.js';
import { reaches } from '../audit/finding.js';
import { loadPolicy, PolicyFileError } from '../audit/policy-file.js';
import { toJson, toMarkdown, toSarif, toTable } from '../audit/report.js';
import type { AuditDeps, Severity } from '../audit/types.js';
import type { Plan } from '../policy/types.js';
import { CliError, EXIT } from './exit.js';
import { canShowProgress, formatOption } from './format.js';

/** What the verbs take from the outside world; tests pass their own. */
export interface VerbIo {
  deps?: AuditDeps;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: Record<string, string | undefined>;
  now?: () => Date;
  cwd?: () => string;
  /** Draw progress on stderr (default: when stderr is a terminal and CI is unset). */
  progress?: boolean;
}

export async function resolveDeps(io: VerbIo): Promise<AuditDeps> {
  return io.deps ?? (await import('../audit/deps.js')).defaultDeps;
}

/** A one-line progress meter on stderr, cleared when done. */
export function progressMeter(write: (s: string) => void, label: string) {
  return (done: number, total: number, file: string) => {
    if (!file) return write('\r\x1b[K');
    const pct = total ? Math.floor((done / total) * 100) : 100;
    write(`\r\x1b[K${label} ${String(pct).padStart(3)}%  ${file.length > 60 ? `…${file.slice(-59)}` : file}`);
  };
}

const PLANS: Plan[] = ['free', 'pro', 'max', 'team', 'enterprise', 'api', 'gov'];

interface AuditFlags {
  home?: string;
  project?: string;
  managed: string;
  plan?: Plan;
  clientVersion?: string;
  zdr?: boolean;
  trainingOptIn?: boolean;
  developmentPartnerProgram?: boolean;
  policy?: string;
  egressLog?: string;
  egressUser?: string;
  format: 'table' | 'json' | 'sarif' | 'markdown';
  failOn: Severity | 'none';
}

export function registerAudit(program: Command, io: VerbIo = {}): void {
  program
    .command('audit')
    .description('Read this machine as Claude Code does: effective settings, data flows, and findings.')
    .option(
      '--home <dir>',
      'home directory to read (default: $HOME; CLAUDE_CONFIG_DIR is honoured only without --home)',
    )
    .option('--project <dir>', 'project directory (default: the current directory)')
    .option('--managed <path>', 'managed-settings directory or file', '/etc/claude-code')
    .addOption(
      new Option('--plan <plan>', 'the plan, which a machine cannot tell (default: assumed)').choices(PLANS),
    )
    .option(
      '--client-version <version>',
      'the Claude Code version (default: read from the installed client found on PATH or in the usual places)',
    )
    .option('--zdr', 'the organization has zero data retention')
    .option('--no-zdr', 'the organization has no zero data retention')
    .option('--training-opt-in', 'the consumer "help improve Claude" setting is on')
    .option('--no-training-opt-in', 'the consumer "help improve Claude" setting is off')
    .option('--development-partner-program', 'the organization joined the Development Partner Program')
    .option(
      '--policy <file>',
      "the organization's rules (YAML or JSON); broken rules become policy-* findings",
    )
    .option(
      '--egress-log <file>',
      'egress proxy records (sluice egress log --format json; - for stdin): compare the hosts contacted with the predicted flows',
    )
    .option('--egress-user <email>', "with --egress-log, read only this user's records")
    .addOption(formatOption(['table', 'json', 'sarif', 'markdown']))
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding reaches this severity')
        .choices(['high', 'medium', 'low', 'info', 'none'])
        .default('high'),
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 no finding at or above --fail-on, 1 some finding reaches it, 2 usage error.

Examples:
  $ sluice audit
  $ sluice audit --plan team --format json
  $ sluice audit --policy org-policy.yaml --format sarif > sluice.sarif
  $ sluice egress log --since 7d --format json > egress.jsonl && sluice audit --egress-log egress.jsonl
  $ sluice audit --home /tmp/fixture-home --project . --managed ./managed --fail-on medium`,
    )
    .action((flags: AuditFlags) => auditVerb(flags, io));
}

/** Reads the machine, prints the report in the asked format, and sets the exit code. */
async function auditVerb(flags: AuditFlags, io: VerbIo): Promise<void> {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const env = io.env ?? process.env;
  if (flags.clientVersion !== undefined) checkClientVersion(flags.clientVersion);
  const policy = flags.policy ? await readPolicy(flags.policy) : undefined;
  if (flags.egressUser && !flags.egressLog) throw new CliError('--egress-user needs --egress-log');
  const egress = flags.egressLog ? await readEgressLog(flags.egressLog) : undefined;
  const deps = await resolveDeps(io);
  const project = flags.project ?? (io.cwd ?? process.cwd)();
  const showProgress = io.progress ?? canShowProgress();
  const report = await runAudit(
    {
      home: flags.home ?? env.HOME ?? homedir(),
      project,
      managed: flags.managed,
      env,
      now: (io.now ?? (() => new Date()))(),
      useConfigDirEnv: flags.home === undefined,
    },
    deps,
    {
      flags: {
        ...(flags.plan ? { plan: flags.plan } : {}),
        ...(flags.clientVersion ? { clientVersion: flags.clientVersion } : {}),
        ...(flags.zdr !== undefined ? { zdr: flags.zdr } : {}),
        ...(flags.trainingOptIn !== undefined ? { trainingOptIn: flags.trainingOptIn } : {}),
        ...(flags.developmentPartnerProgram ? { developmentPartnerProgram: true } : {}),
      },
      ...(policy ? { policy: { rules: policy, file: flags.policy! } } : {}),
      ...(egress
        ? {
            egress: {
              lines: egress,
              file: flags.egressLog!,
              ...(flags.egressUser ? { user: flags.egressUser } : {}),
            },
          }
        : {}),
      ...(showProgress ? { progress: progressMeter(err, 'scanning local data') } : {}),
    },
  );
  const { inspector } = deps;
  if (flags.format === 'json') out(JSON.stringify(toJson(report, inspector), null, 2) + '\n');
  else if (flags.format === 'sarif') out(JSON.stringify(toSarif(report, inspector, project), null, 2) + '\n');
  else if (flags.format === 'markdown') out(toMarkdown(report, inspector));
  else out(toTable(report, inspector));
  process.exitCode = reaches(report.findings, flags.failOn) ? EXIT.findings : EXIT.ok;
}

/** Refuses a version that is not x.y.z, as `claude --version` prints it. */
export function checkClientVersion(value: string): void {
  if (!/^\d+\.\d+\.\d+$/.test(value))
    throw new CliError(`--client-version: expected a Claude Code version like 2.1.330, got "${value}"`);
}

async function readPolicy(file: string) {
  try {
    return await loadPolicy(file);
  } catch (e) {
    if (e instanceof PolicyFileError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
}

async function readEgressLog(file: string) {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(
      `${file}: cannot read the egress log: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  try {
    return parseEgressLog(text, file === '-' ? 'stdin' : file);
  } catch (e) {
    if (e instanceof EgressLogError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
