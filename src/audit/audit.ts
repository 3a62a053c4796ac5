/** Audits one machine: settings layers, environment, MCP servers, local data, the policy engine's flows. */
import type { ExplainResult, Profile } from '../policy/types.js';
import { checkConfiguration } from './checks.js';
import { clientInfo, findClients, type ClientInfo } from './client.js';
import { compareEgress, type EgressComparison, type EgressLine } from './egress.js';
import { sortFindings } from './finding.js';
import { locate } from './files.js';
import { checkGatewaySignIn, type GatewaySignIn } from './gateway-signin.js';
import { inspectLocalData, type LocalDataSummary, type Progress } from './local-data.js';
import { loadMcpServers } from './mcp.js';
import { checkPolicy, type OrgPolicy } from './policy-file.js';
import { buildProfile, gatewayBaseUrl } from './profile.js';
import { effectiveEnv, loadSettingsLayers, mergeSettings } from './settings.js';
import type {
  AuditDeps,
  EffectiveEnvVar,
  EffectiveSettings,
  Finding,
  Machine,
  MachinePaths,
  McpServer,
  ProfileFlags,
  SettingsLayer,
} from './types.js';

export const DEFAULT_RETENTION_DAYS = 30;

export interface AuditOptions {
  flags?: ProfileFlags;
  policy?: { rules: OrgPolicy; file: string };
  progress?: Progress;
  /** Egress proxy records to compare with the predicted flows (`--egress-log`). */
  egress?: { lines: EgressLine[]; file: string; user?: string };
}

export interface AuditReport {
  paths: MachinePaths;
  layers: Pick<SettingsLayer, 'scope' | 'file'>[];
  settings: EffectiveSettings;
  env: Record<string, EffectiveEnvVar>;
  mcpServers: McpServer[];
  /** The Claude Code found on the machine and the version the flows are evaluated for. */
  client: ClientInfo;
  profile: Profile;
  assumptions: string[];
  explain: ExplainResult;
  retentionDays: number;
  local: LocalDataSummary;
  /** The company gateway this client signs in to and takes managed settings from, if any. */
  gatewaySignIn: GatewaySignIn;
  egress?: EgressComparison;
  findings: Finding[];
}

/** The effective `cleanupPeriodDays` (an integer of at least 1), else the client's default of 30. */
export function retentionOf(settings: EffectiveSettings): number {
  const v = settings.values.cleanupPeriodDays;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : DEFAULT_RETENTION_DAYS;
}

/** Reads the settings side of a machine: paths, layers, merged settings, env and MCP servers. */
export async function readConfiguration(machine: Machine) {
  const paths = await locate(machine);
  const { layers, findings } = await loadSettingsLayers(paths);
  const settings = mergeSettings(layers);
  const env = effectiveEnv(machine.env, settings);
  const mcp = await loadMcpServers(paths, machine.project, settings);
  return { paths, layers, settings, env, servers: mcp.servers, findings: [...findings, ...mcp.findings] };
}

export async function runAudit(
  machine: Machine,
  deps: AuditDeps,
  options: AuditOptions = {},
): Promise<AuditReport> {
  const flags = options.flags ?? {};
  const config = await readConfiguration(machine);
  const { paths, layers, settings, env, servers } = config;
  const at = machine.now.toISOString().slice(0, 10);
  const found = clientInfo(await findClients(machine), flags.clientVersion);
  const gateway = await checkGatewaySignIn(paths, settings);
  const governedBy = gateway.findings.some((f) => f.id === 'gateway-governed')
    ? gateway.signIn.signedIn?.url
    : undefined;
  const { profile, assumptions } = buildProfile({
    settings,
    env,
    ...(governedBy ? { signedInGateway: governedBy } : {}),
    servers,
    flags: { ...flags, ...(found.client.version ? { clientVersion: found.client.version } : {}) },
    at,
    inspector: deps.inspector,
  });
  assumptions.push(...found.assumptions);
  const explain = deps.evaluate(profile, at);
  const retentionDays = retentionOf(settings);

  const findings: Finding[] = [
    ...config.findings,
    ...gateway.findings,
    ...settingFindings(config, { profile, explain, retentionDays }, deps, options),
  ];
  const local = await inspectLocalData({
    paths,
    retentionDays,
    now: machine.now,
    inspector: deps.inspector,
    ...(options.progress ? { progress: options.progress } : {}),
  });
  findings.push(...local.findings);
  const compared = options.egress ? compareWithEgressLog(options.egress, env, explain) : undefined;
  if (compared) findings.push(...compared.findings);
  const egress = compared?.comparison;

  return {
    paths,
    layers: layers.map(({ scope, file }) => ({ scope, file })),
    settings,
    env,
    mcpServers: servers,
    client: found.client,
    profile,
    assumptions,
    explain,
    retentionDays,
    local: local.summary,
    gatewaySignIn: gateway.signIn,
    ...(egress ? { egress } : {}),
    findings: sortFindings(findings),
  };
}

/** What the settings say against the seeds' rules, and against the team's policy file when given. */
function settingFindings(
  config: Awaited<ReturnType<typeof readConfiguration>>,
  derived: { profile: Profile; explain: ExplainResult; retentionDays: number },
  deps: AuditDeps,
  options: AuditOptions,
): Finding[] {
  const { paths, layers, settings, env, servers } = config;
  const { profile, explain, retentionDays } = derived;
  const findings = checkConfiguration({
    paths,
    layers,
    settings,
    env,
    servers,
    profile,
    explain,
    inspector: deps.inspector,
    ...(options.policy?.rules.mcpAllowlist ? { mcpAllowlist: options.policy.rules.mcpAllowlist } : {}),
  });
  if (options.policy)
    findings.push(
      ...checkPolicy({
        policy: options.policy.rules,
        policyFile: options.policy.file,
        profile,
        planAssumed: options.flags?.plan === undefined,
        settings,
        env,
        servers,
        retentionDays,
        paths,
      }),
    );
  return findings;
}

/** What the machine's egress log shows against the flows its setup should have. */
function compareWithEgressLog(
  log: NonNullable<AuditOptions['egress']>,
  env: Record<string, EffectiveEnvVar>,
  explain: ReturnType<AuditDeps['evaluate']>,
): { comparison: EgressComparison; findings: Finding[] } {
  return compareEgress(log.lines, explain, gatewayBaseUrl(env), log.file, log.user);
}
