/** `sluice checklist`: the seeds' readiness checklists answered from what Sluice can see, plus attestations. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { Option, type Command } from 'commander';
import { runAudit } from '../audit/audit.js';
import { appendAttestation, matchAdminLog, parseAttestations } from '../audit/checklist/attestations.js';
import { failsAt, ITEMS, runChecklist } from '../audit/checklist/checklist.js';
import { toJson, toMarkdown, toSarif, toTable } from '../audit/checklist/report.js';
import type { Attestation, GatewayOrg, RecordedAttestation, StoreView } from '../audit/checklist/types.js';
import type { ProfileFlags, Severity } from '../audit/types.js';
import { dateProblem } from '../policy/facts.js';
import { PLANS } from '../policy/profile.js';
import type { Plan } from '../policy/types.js';
import { DEFAULT_CONFIG, loadAdminConfig, openConfiguredStore } from './admin-config.js';
import { checkClientVersion, resolveDeps, type VerbIo } from './audit.js';
import {
  pickOrg,
  readAttestations,
  readStoreView,
  recordAttestations,
  writeAttestations,
} from './checklist-evidence.js';
import { CliError, EXIT } from './exit.js';
import { formatOption } from './format.js';
import { parseSince } from './logs.js';

const DEFAULT_ATTESTATIONS = './sluice-attestations.yaml';

interface RunFlags {
  config?: string;
  org?: string;
  home?: string;
  project?: string;
  managed: string;
  plan?: Plan;
  clientVersion?: string;
  zdr?: boolean;
  trainingOptIn?: boolean;
  attestations?: string;
  since: string;
  maxAge: string;
  format: 'table' | 'json' | 'markdown' | 'sarif';
  failOn: Severity | 'none';
  strict?: boolean;
}

/** The org's setup as audit flags: what the machine cannot tell, the configuration can. */
function flagsFrom(f: RunFlags, org: GatewayOrg | undefined): ProfileFlags {
  const p = org?.profile;
  const zdr = f.zdr ?? (org ? org.zdr || p?.zdr === true : undefined);
  const plan = f.plan ?? p?.plan;
  const optIn = f.trainingOptIn ?? p?.trainingOptIn;
  return {
    ...(plan ? { plan } : {}),
    ...(f.clientVersion ? { clientVersion: f.clientVersion } : {}),
    ...(zdr !== undefined ? { zdr } : {}),
    ...(optIn !== undefined ? { trainingOptIn: optIn } : {}),
    ...(p?.developmentPartnerProgram ? { developmentPartnerProgram: true } : {}),
  };
}

function positiveDays(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`--max-age: expected a number of days (180), got "${value}"`);
  return n;
}

/** The gateway side, when a configuration is given (or ./sluice.yaml exists). */
async function gatewaySide(f: RunFlags, attestations: Attestation[], file: string, now: Date) {
  const config = f.config ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  if (!config) return { attested: matchAdminLog(attestations, []) as RecordedAttestation[] };
  const gateway = pickOrg(await loadAdminConfig(config), config, f.org);
  const { store } = await openConfiguredStore(config);
  try {
    const attested = await recordAttestations(store, attestations, file, now);
    const view: StoreView = await readStoreView(store, gateway.name, parseSince(f.since, now));
    return { gateway, store: view, attested };
  } finally {
    await store.close();
  }
}

async function run(f: RunFlags, io: VerbIo): Promise<void> {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const env = io.env ?? process.env;
  const now = (io.now ?? (() => new Date()))();
  if (f.clientVersion !== undefined) checkClientVersion(f.clientVersion);
  const maxAgeDays = positiveDays(f.maxAge);
  const file = f.attestations ?? DEFAULT_ATTESTATIONS;
  const attestations = await readAttestations(file, f.attestations !== undefined, Object.keys(ITEMS));
  const side = await gatewaySide(f, attestations, file, now);
  const project = f.project ?? (io.cwd ?? process.cwd)();
  const audit = await runAudit(
    {
      home: f.home ?? env.HOME ?? homedir(),
      project,
      managed: f.managed,
      env,
      now,
      useConfigDirEnv: f.home === undefined,
    },
    await resolveDeps(io),
    { flags: flagsFrom(f, side.gateway) },
  );
  const report = runChecklist({
    now,
    audit,
    ...(side.gateway ? { gateway: side.gateway } : {}),
    ...(side.store ? { store: side.store } : {}),
    attestations: side.attested,
    attestationsFile: file,
    maxAgeDays,
  });
  const render = {
    json: () => JSON.stringify(toJson(report), null, 2) + '\n',
    sarif: () => JSON.stringify(toSarif(report, side.gateway?.file ?? file), null, 2) + '\n',
    markdown: () => toMarkdown(report),
    table: () => toTable(report),
  }[f.format];
  out(render());
  process.exitCode = failsAt(report, f.failOn, f.strict) ? EXIT.findings : EXIT.ok;
}

interface AttestFlags {
  by: string;
  answer: 'yes' | 'no';
  note?: string;
  org?: string;
  date?: string;
  attestations: string;
  config?: string;
}

/** Adds an attestation to the file, checked as the file is, and records it in the admin log. */
async function attest(item: string, f: AttestFlags, io: VerbIo): Promise<void> {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const now = (io.now ?? (() => new Date()))();
  if (!ITEMS[item])
    throw new CliError(`unknown item "${item}"; expected one of ${Object.keys(ITEMS).join(', ')}`);
  const date = f.date ?? now.toISOString().slice(0, 10);
  if (f.date && dateProblem(f.date)) throw new CliError(`--date: ${dateProblem(f.date)}`);
  const entry: Attestation = {
    item,
    answer: f.answer,
    by: f.by,
    date,
    ...(f.note ? { note: f.note } : {}),
    ...(f.org ? { org: f.org } : {}),
  };
  const before = existsSync(f.attestations) ? await readFile(f.attestations, 'utf8') : undefined;
  const text = appendAttestation(before, entry);
  // Check the whole file as `sluice checklist` will read it before writing anything.
  await readAttestationsText(text, f.attestations);
  await writeAttestations(f.attestations, text);
  let where = 'not in an admin log (no --config)';
  if (f.config) {
    const { store } = await openConfiguredStore(f.config);
    try {
      const [recorded] = await recordAttestations(store, [entry], f.attestations, now);
      where = `admin log entry ${recorded?.adminLogSeq}`;
    } finally {
      await store.close();
    }
  }
  out(`attested ${item} ("${entry.answer}") by ${entry.by} on ${date} in ${f.attestations}; ${where}\n`);
}

async function readAttestationsText(text: string, file: string): Promise<void> {
  try {
    parseAttestations(text, file, Object.keys(ITEMS));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

const EXAMPLES = `
Exit codes: 0 no item fails at or above --fail-on, 1 some item does, 2 usage error.

Examples:
  $ sluice checklist --config sluice.yaml --org acme
  $ sluice checklist --plan pro --no-training-opt-in --format markdown
  $ sluice checklist --config sluice.yaml --format sarif --fail-on medium > checklist.sarif
  $ sluice checklist attest adoption-approved --by ciso@acme.example --note "SEC-142" --config sluice.yaml

Items Sluice cannot see (an approval, a form sent) are answered by attestations in
${DEFAULT_ATTESTATIONS} (--attestations); each is recorded in the admin log when first read.`;

export function registerChecklist(program: Command, io: VerbIo = {}): void {
  const checklist = program
    .command('checklist')
    .description("Answer the seeds' readiness checklists from this machine, the gateway and attestations");
  checklist
    .command('run', { isDefault: true })
    .description(
      'Walk every readiness item that applies: pass, fail or cannot tell, with evidence and source',
    )
    .option('--config <file>', `the gateway's configuration (default ${DEFAULT_CONFIG} if present)`)
    .option('--org <org>', 'the org of the configuration to check (default: its only org)')
    .option('--home <dir>', 'home directory to read (default: $HOME)')
    .option('--project <dir>', 'project directory (default: the current directory)')
    .option('--managed <path>', 'managed-settings directory or file', '/etc/claude-code')
    .addOption(new Option('--plan <plan>', 'the plan (default: the org profile’s)').choices([...PLANS]))
    .option('--client-version <version>', 'the Claude Code version (default: the installed client’s)')
    .option('--zdr', 'the organization has zero data retention (default: the configuration’s)')
    .option('--training-opt-in', 'the consumer "help improve Claude" setting is on')
    .option('--no-training-opt-in', 'the consumer "help improve Claude" setting is off')
    .option('--attestations <file>', `attestations file (default ${DEFAULT_ATTESTATIONS} if present)`)
    .option('--since <when>', 'read the store’s records from this date or duration', '30d')
    .option('--max-age <days>', 'an attestation older than this is due for review', '180')
    .addOption(formatOption(['table', 'json', 'markdown', 'sarif']))
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when an item of this severity or above fails')
        .choices(['high', 'medium', 'low', 'info', 'none'])
        .default('high'),
    )
    .option('--strict', 'count items Sluice cannot tell as failing')
    .addHelpText('after', EXAMPLES)
    .action((f: RunFlags) => run(f, io));
  checklist
    .command('attest <item>')
    .description('Record an answer Sluice cannot see: in the attestations file and the admin log')
    .requiredOption('--by <who>', 'who attests (name or e-mail)')
    .addOption(new Option('--answer <answer>', 'the answer').choices(['yes', 'no']).default('yes'))
    .option('--note <text>', 'where the evidence is (a ticket, a document)')
    .option('--org <org>', 'for one organization only')
    .option('--date <date>', 'the date of the answer (default today)')
    .option('--attestations <file>', 'attestations file', DEFAULT_ATTESTATIONS)
    .option('--config <file>', 'record it in the admin log of this configuration’s store')
    .addHelpText(
      'after',
      `\nExample:\n  $ sluice checklist attest zdr-enabled-per-organization --org acme --by admin@acme.example --note "account team, ticket 4711" --config sluice.yaml\n\nItems: ${Object.keys(ITEMS).join(', ')}\n`,
    )
    .action((item: string, f: AttestFlags) => attest(item, f, io));
}
