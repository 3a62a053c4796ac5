/** The pure policy engine: (profile, catalog, date) -> flows, features, warnings and checks, with reasons. */
import { deriveFacts, inRange, matches, parseDate, parseVersion, type Facts, type Version } from './facts.js';
import type { Effect, FlowPatch, Rule, SettingValue } from './rule.js';
import type {
  Check,
  DisabledFeature,
  ExplainResult,
  FeatureId,
  Flow,
  FlowId,
  Profile,
  Remark,
  Source,
  UnstatedField,
} from './types.js';
import { addRemark, addSources } from './remarks.js';
import { settleUnknownVersion, versionBands } from './versions.js';

/** Every flow the engine reports, in output order. */
export const FLOW_IDS: readonly FlowId[] = [
  'inference',
  'telemetry',
  'error-reporting',
  'feedback',
  'thumbs-feedback',
  'session-survey',
  'local-transcripts',
  'analytics',
  'third-party',
  'cloud-session',
  'install-update',
  'console-auth',
];

const FEATURE_IDS: readonly FeatureId[] = ['claude-code-on-the-web', 'remote-sessions', 'feedback'];

/** One flow effect as applied: the fields it set, so a later rule that sets them all overrides it. */
interface Applied {
  rule: Rule;
  note: string;
  assumed: boolean;
  fields: string[];
}

interface Draft {
  patch: FlowPatch;
  applied: Applied[];
  /** Field -> index in `applied` of the effect that set it last. */
  setter: Map<string, number>;
}

interface Outcome {
  features: Map<FeatureId, DisabledFeature>;
  warnings: Map<string, Remark>;
  assumptions: Map<string, Remark>;
  notes: Map<string, Remark>;
  checks: Map<string, Check>;
}

function addOnce<T>(into: T[], item: T): void {
  if (!into.includes(item)) into.push(item);
}

function inForce(rule: Rule, at: number, client: Version): boolean {
  if (rule.validFrom && at < parseDate(rule.validFrom, `${rule.id}.validFrom`)) return false;
  if (rule.validUntil && at >= parseDate(rule.validUntil, `${rule.id}.validUntil`)) return false;
  return !rule.clients || inRange(client, rule.clients);
}

function resolveRetention(value: FlowPatch['retentionDays'], profile: Profile): number | null | undefined {
  if (value === undefined || value === null || typeof value === 'number') return value;
  if (value === 'unstated') return null;
  const v = profile.settings?.[(value as SettingValue).setting];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : (value as SettingValue).default;
}

/** The field names a patch sets (encryption parts count separately). */
function fieldsOf(set: FlowPatch): string[] {
  return Object.keys(set).flatMap((k) =>
    k === 'encryption' ? Object.keys(set.encryption ?? {}).map((e) => `encryption.${e}`) : [k],
  );
}

function applyEffect(effect: Effect, rule: Rule, drafts: Map<FlowId, Draft>, out: Outcome): void {
  if ('flow' in effect) {
    const d = drafts.get(effect.flow) as Draft;
    const { encryption, ...rest } = effect.set ?? {};
    d.patch = { ...d.patch, ...rest, encryption: { ...d.patch.encryption, ...encryption } };
    const fields = fieldsOf(effect.set ?? {});
    fields.forEach((f) => d.setter.set(f, d.applied.length));
    d.applied.push({ rule, note: effect.note, assumed: effect.assumed === true, fields });
  } else if ('feature' in effect) {
    const f = out.features.get(effect.feature) ?? { id: effect.feature, reason: '', sources: [], rules: [] };
    if (!f.reason.includes(effect.reason))
      f.reason = f.reason ? `${f.reason} ${effect.reason}` : effect.reason;
    out.features.set(effect.feature, f);
    addOnce(f.rules, rule.id);
    addSources(f.sources, rule.sources);
  } else if ('check' in effect) {
    const { check: id, question, audience } = effect;
    const c = out.checks.get(id) ?? { id, question, audience, sources: [], rules: [] };
    out.checks.set(id, c);
    addOnce(c.rules, rule.id);
    addSources(c.sources, rule.sources);
  } else if ('warning' in effect) addRemark(out.warnings, effect.warning, effect.message, rule);
  else if ('assumption' in effect) addRemark(out.assumptions, effect.assumption, effect.message, rule);
  else addRemark(out.notes, effect.info, effect.message, rule);
}

function undecided(id: FlowId, field: string): never {
  throw new Error(`catalog leaves ${id}.${field} undecided for this profile`);
}

/** The effects that still decide something: pure notes, and those that set a field no later effect set. */
function live(d: Draft): Applied[] {
  return d.applied.filter((a, i) => a.fields.length === 0 || a.fields.some((f) => d.setter.get(f) === i));
}

function finish(id: FlowId, d: Draft, profile: Profile, done: Map<FlowId, Flow>): Flow {
  const p = d.patch;
  let trainingUse = p.trainingUse;
  let retentionDays = resolveRetention(p.retentionDays, profile);
  const unstated: UnstatedField[] = p.retentionDays === 'unstated' ? ['retentionDays'] : [];
  const other = p.sameAs && done.get(p.sameAs.flow);
  if (p.sameAs && other) {
    if (p.sameAs.fields.includes('trainingUse')) trainingUse = other.trainingUse;
    if (p.sameAs.fields.includes('retentionDays')) {
      retentionDays = other.retentionDays;
      if (other.unstated.includes('retentionDays')) addOnce(unstated, 'retentionDays');
    }
  }
  if (trainingUse === 'unstated') unstated.unshift('trainingUse');
  if (p.enabled === undefined) undecided(id, 'enabled');
  if (p.destination === undefined) undecided(id, 'destination');
  if (trainingUse === undefined) undecided(id, 'trainingUse');
  if (retentionDays === undefined) undecided(id, 'retentionDays');
  if (!p.encryption?.inTransit || !p.encryption.atRest) undecided(id, 'encryption');
  // Nothing is assumed about a flow that does not happen.
  const kept = live(d).filter((a) => p.enabled || !a.assumed);
  const sources: Source[] = [];
  kept.forEach((a) => addSources(sources, a.rule.sources));
  if (sources.length === 0) undecided(id, 'sources');
  const servers = profile.mcpServers?.join(', ') || 'none';
  const flow: Flow = {
    id,
    enabled: p.enabled,
    destination: p.destination,
    trainingUse,
    retentionDays,
    unstated,
    data: (p.data ?? []).map((s) => s.replaceAll('{mcpServers}', servers)),
    encryption: { inTransit: p.encryption.inTransit, atRest: p.encryption.atRest },
    sources,
    rules: [...new Set(kept.map((a) => a.rule.id))],
    notes: [...new Set(kept.map((a) => (a.assumed ? `Assumed: ${a.note}` : a.note)))],
  };
  // A flow that does not happen carries nothing, so nothing is kept or trained on.
  if (!flow.enabled) return { ...flow, data: [], trainingUse: 'no', retentionDays: 0, unstated: [] };
  return flow;
}

/** Labels the assumptions of enabled flows, and says once which values no source states. */
function flowRemarks(flows: Flow[], drafts: Map<FlowId, Draft>, out: Outcome): void {
  const gaps: string[] = [];
  const behind: Rule[] = [];
  for (const f of flows) {
    if (!f.enabled) continue;
    for (const a of live(drafts.get(f.id) as Draft))
      if (a.assumed) addRemark(out.assumptions, a.rule.id, `${f.id}: ${a.note}`, a.rule);
    if (!f.unstated.length) continue;
    gaps.push(
      `${f.unstated.map((u) => (u === 'trainingUse' ? 'training use' : 'retention')).join(' and ')} of ${f.id}`,
    );
    behind.push(...live(drafts.get(f.id) as Draft).map((a) => a.rule));
  }
  if (!gaps.length) return;
  const message = `No source states the ${gaps.join('; the ')}. These are shown as unstated, not guessed; ask the party that receives the data if it matters.`;
  for (const rule of behind) addRemark(out.warnings, 'unstated-in-sources', message, rule);
}

/** Evaluates `profile` as a client of version `client` would be treated. */
export function evaluateFor(
  profile: Profile,
  catalog: readonly Rule[],
  at: string,
  client: Version,
): ExplainResult {
  const facts: Facts = deriveFacts(profile, at, client);
  const drafts = new Map<FlowId, Draft>(
    FLOW_IDS.map((id) => [id, { patch: {}, applied: [], setter: new Map() }]),
  );
  const out: Outcome = {
    features: new Map(),
    warnings: new Map(),
    assumptions: new Map(),
    notes: new Map(),
    checks: new Map(),
  };
  for (const rule of catalog) {
    if (!inForce(rule, facts.at, client) || !matches(rule.when, facts)) continue;
    for (const effect of rule.effects) applyEffect(effect, rule, drafts, out);
  }
  const done = new Map<FlowId, Flow>();
  // Flows that copy fields from another flow are finished after the others.
  const order = [...FLOW_IDS].sort(
    (a, b) => Number(!!drafts.get(a)?.patch.sameAs) - Number(!!drafts.get(b)?.patch.sameAs),
  );
  for (const id of order) done.set(id, finish(id, drafts.get(id) as Draft, profile, done));
  const flows = FLOW_IDS.map((id) => done.get(id) as Flow);
  flowRemarks(flows, drafts, out);
  return {
    profile,
    at,
    client: { version: profile.clientVersion ?? null },
    flows,
    disabledFeatures: FEATURE_IDS.flatMap((id) => out.features.get(id) ?? []),
    warnings: [...out.warnings.values()],
    assumptions: [...out.assumptions.values()],
    notes: [...out.notes.values()],
    checks: [...out.checks.values()],
  };
}

/**
 * Evaluates `profile` against `catalog` as of `at` (ISO date). Pure: no clock, files or network.
 * Without `profile.clientVersion`, rules that differ by client version are weighed against each other
 * and the answer takes the reading where more data leaves, saying so (see versions.ts).
 */
export function evaluate(profile: Profile, catalog: readonly Rule[], at: string): ExplainResult {
  if (profile.clientVersion !== undefined)
    return evaluateFor(profile, catalog, at, parseVersion(profile.clientVersion, 'clientVersion'));
  const runs = versionBands(catalog).map((band) => ({
    band,
    result: evaluateFor(profile, catalog, at, band.version),
  }));
  return settleUnknownVersion(runs, catalog);
}
