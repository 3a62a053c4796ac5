/** `sluice explain`: where a Claude Code setup sends data, who may train on it, how long it is kept. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { catalog } from '../policy/catalog/index.js';
import { evaluate } from '../policy/engine.js';
import { parseDate } from '../policy/facts.js';
import { PLANS, PROVIDERS, ProfileError, parseProfile } from '../policy/profile.js';
import {
  renderMarkdown,
  renderMermaid,
  renderRoutesMarkdown,
  renderRoutesTable,
  renderTable,
} from '../policy/render.js';
import { compareRoutes } from '../policy/routes.js';
import type { Plan, Profile, Provider } from '../policy/types.js';
import { routeProfile, type RouteProfile } from '../control/route-profile.js';
import { SandboxPolicyError } from '../sandbox/policy.js';
import { renderSandboxPaths, sandboxRoute, type SandboxRoute } from '../sandbox/route.js';
import { loadAdminConfig } from './admin-config.js';
import { CliError } from './exit.js';
import { formatOption } from './format.js';

interface ExplainOptions {
  profile?: string;
  config?: string;
  org?: string;
  plan?: Plan;
  provider?: Provider;
  clientVersion?: string;
  zdr?: boolean;
  trainingOptIn?: boolean;
  partnerProgram?: boolean;
  env: string[];
  mcp: string[];
  at?: string;
  format: 'table' | 'json' | 'markdown' | 'mermaid';
  routes?: boolean;
  sandbox?: boolean;
  plans?: string;
  providers?: string;
}

const EXAMPLES = `
Examples:
  $ sluice explain --plan pro --training-opt-in
  $ sluice explain --plan enterprise --zdr --env DISABLE_TELEMETRY=1 --format json
  $ sluice explain --plan api --client-version 2.1.330
  $ sluice explain --profile team.yaml --provider bedrock --format mermaid
  $ sluice explain --routes --plans pro,team,api --providers anthropic,bedrock
  $ sluice explain --config sluice.yaml --org acme   # the route the gateway enforces for org acme
  $ sluice explain --config sluice.yaml --org acme --sandbox   # acme's sandboxed sessions

A profile file (JSON or YAML) holds the same fields as the flags, for example:
  plan: enterprise
  provider: anthropic
  clientVersion: 2.1.330
  zdr: true
  env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" }
  mcpServers: [github]
`;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function readProfileFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: cannot read profile: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  const json = extname(file).toLowerCase() === '.json';
  try {
    raw = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new CliError(
      `${file}: not valid ${json ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  // An empty file is an empty profile: the flags may supply everything.
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CliError(`${file}: invalid profile\n  (root): expected an object with plan and provider`);
  }
  return raw as Record<string, unknown>;
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!m) throw new CliError(`--env: expected NAME=VALUE, got "${pair}"`);
    env[m[1] as string] = m[2] as string;
  }
  return env;
}

function checkDate(value: string, flag: string): string {
  try {
    parseDate(value, flag);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return value;
}

/** An org's profile from its route in a gateway configuration (`--config FILE --org NAME`), with notes. */
async function configProfile(o: ExplainOptions): Promise<RouteProfile> {
  if (!o.config || !o.org) throw new CliError('--config and --org go together');
  if (o.profile) throw new CliError('give --profile or --config with --org, not both');
  const config = await loadAdminConfig(o.config);
  const org = config.orgs[o.org];
  if (!org)
    throw new CliError(`no org "${o.org}" in ${o.config} (have: ${Object.keys(config.orgs).join(', ')})`);
  return routeProfile(config, o.org, org);
}

/** The file's (or the org's route's) fields, overridden by any flag given on the command line. */
async function buildProfile(o: ExplainOptions, routed?: RouteProfile): Promise<Profile> {
  const raw: Record<string, unknown> = routed
    ? { ...routed.profile }
    : o.profile
      ? await readProfileFile(o.profile)
      : {};
  if (!o.profile && !routed && !o.plan)
    throw new CliError('missing --plan (or --profile FILE naming a plan)');
  const env = parseEnv(o.env);
  const merged: Record<string, unknown> = { provider: 'anthropic', ...raw };
  if (o.plan) merged.plan = o.plan;
  if (o.provider) merged.provider = o.provider;
  if (o.clientVersion !== undefined) merged.clientVersion = o.clientVersion;
  if (o.zdr !== undefined) merged.zdr = o.zdr;
  if (o.trainingOptIn !== undefined) merged.trainingOptIn = o.trainingOptIn;
  if (o.partnerProgram !== undefined) merged.developmentPartnerProgram = o.partnerProgram;
  if (o.env.length) merged.env = { ...(raw.env as Record<string, string> | undefined), ...env };
  if (o.mcp.length) merged.mcpServers = o.mcp;
  try {
    return parseProfile(merged);
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(`${o.profile ?? 'options'}: ${err.message}`);
    throw err;
  }
}

function listOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T[] {
  if (value === undefined) return [...allowed];
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new CliError(`${flag}: unknown value "${item}" (expected one or more of ${allowed.join(', ')})`);
    }
  }
  if (items.length === 0)
    throw new CliError(`${flag}: expected a comma-separated list of ${allowed.join(', ')}`);
  return items as T[];
}

const today = (): string => new Date().toISOString().slice(0, 10);

/** `--sandbox`: the org's sandboxed sessions (src/sandbox/route.ts), from the configuration alone. */
async function runSandbox(o: ExplainOptions): Promise<void> {
  if (!o.config || !o.org) throw new CliError('--sandbox needs --config and --org');
  const given = (
    ['profile', 'plan', 'provider', 'clientVersion', 'zdr', 'trainingOptIn', 'partnerProgram'] as const
  )
    .filter((k) => o[k] !== undefined)
    .concat(o.env.length ? ['env' as never] : [], o.mcp.length ? ['mcp' as never] : []);
  if (given.length)
    throw new CliError(
      `--sandbox explains the org's sessions as the configuration sets them up; drop ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`,
    );
  if (o.format === 'mermaid') throw new CliError('--sandbox prints table, json or markdown, not mermaid');
  const config = await loadAdminConfig(o.config);
  const at = checkDate(o.at ?? today(), '--at');
  let route: SandboxRoute;
  try {
    route = sandboxRoute(config, o.org, at);
  } catch (err) {
    if (err instanceof SandboxPolicyError) throw new CliError(`${o.config}: ${err.message}`);
    throw err;
  }
  const { result } = route;
  const text =
    o.format === 'json'
      ? `${JSON.stringify({ sandbox: { org: route.org, repositories: route.repositories, paths: route.paths }, ...result }, null, 2)}\n`
      : o.format === 'markdown'
        ? renderMarkdown(result)
        : renderTable(result) + renderSandboxPaths(route);
  process.stdout.write(text);
}

async function run(o: ExplainOptions): Promise<void> {
  if (o.sandbox) return runSandbox(o);
  if (o.routes) {
    if (o.format === 'mermaid') throw new CliError('--routes prints table, json or markdown, not mermaid');
    const at = checkDate(o.at ?? today(), '--at');
    const rows = compareRoutes(
      listOf(o.plans, PLANS, '--plans'),
      listOf(o.providers, PROVIDERS, '--providers'),
      catalog,
      at,
    );
    const text =
      o.format === 'json'
        ? `${JSON.stringify({ at, routes: rows }, null, 2)}\n`
        : o.format === 'markdown'
          ? renderRoutesMarkdown(rows, at)
          : renderRoutesTable(rows, at);
    process.stdout.write(text);
    return;
  }
  if (o.plans || o.providers) throw new CliError('--plans and --providers go with --routes');
  const routed = o.config || o.org ? await configProfile(o) : undefined;
  const profile = await buildProfile(o, routed);
  const at = o.at ? checkDate(o.at, '--at') : (profile.at ?? today());
  const result = evaluate(profile, catalog, at);
  const { client, flows, disabledFeatures, warnings, assumptions, notes, checks } = result;
  const route = routed ? { route: { org: o.org, upstreams: routed.upstreams, notes: routed.notes } } : {};
  // Notes go beside the picture, not into it (a mermaid diagram must stay one).
  if (routed && o.format !== 'json')
    for (const note of routed.notes)
      process.stderr.write(`note: ${note}
`);
  const body = {
    at,
    ...route,
    profile,
    client,
    flows,
    disabledFeatures,
    warnings,
    assumptions,
    notes,
    checks,
  };
  const render = {
    json: () => `${JSON.stringify(body, null, 2)}
`,
    markdown: () => renderMarkdown(result),
    mermaid: () => renderMermaid(result),
    table: () => renderTable(result),
  }[o.format];
  process.stdout.write(render());
}

/** Adds `explain` to `program`. */
export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('Show where a Claude Code setup sends data, who may train on it, and how long it is kept')
    .option('--profile <file>', 'profile to evaluate (JSON or YAML); flags override its fields')
    .option('--config <file>', "a gateway configuration: with --org, explain that org's real route")
    .option('--org <name>', 'the org of --config whose route, ZDR and profile are explained')
    .addOption(new Option('--plan <plan>', 'plan').choices([...PLANS]))
    .addOption(new Option('--provider <provider>', 'route (default anthropic)').choices([...PROVIDERS]))
    .option(
      '--client-version <version>',
      'the Claude Code version (claude --version); rules differ by version',
    )
    .option('--zdr', 'zero data retention is enabled for the organization')
    .option('--no-zdr', 'zero data retention is not enabled')
    .option('--training-opt-in', 'consumer "help improve Claude" setting is on')
    .option('--no-training-opt-in', 'consumer "help improve Claude" setting is off')
    .option('--partner-program', 'the organization joined the Development Partner Program')
    .option('--no-partner-program', 'the organization is not in the Development Partner Program')
    .option('--env <NAME=VALUE>', 'environment variable as the client sees it (repeatable)', collect, [])
    .option('--mcp <name>', 'a configured MCP server (repeatable)', collect, [])
    .option('--at <date>', 'evaluate as of this ISO date (default today)')
    .addOption(formatOption(['table', 'json', 'markdown', 'mermaid']))
    .option('--routes', 'compare plans × routes side by side instead of explaining one setup')
    .option('--sandbox', "with --config and --org: the org's sandboxed sessions (sluice sandbox run)")
    .option('--plans <list>', 'with --routes: comma-separated plans (default all)')
    .option('--providers <list>', 'with --routes: comma-separated routes (default all)')
    .addHelpText('after', EXAMPLES)
    .action((o: ExplainOptions) => run(o));
}
