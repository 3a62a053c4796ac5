/** The pure policy engine: (profile, catalog, date) -> flows, disabled features and warnings, with reasons. */
import { deriveFacts, matches, parseDate, type Facts } from './facts.js';
import type { Effect, FlowPatch, Rule, SettingValue } from './rule.js';
import type {
  DisabledFeature,
  ExplainResult,
  FeatureId,
  Flow,
  FlowId,
  Profile,
  Source,
  Warning,
} from './types.js';

/** Every flow the engine reports, in output order. */
export const FLOW_IDS: readonly FlowId[] = [
  'inference',
  'telemetry',
  'error-reporting',
  'feedback',
  'session-survey',
  'local-transcripts',
  'analytics',
  'third-party',
  'cloud-session',
];

const FEATURE_IDS: readonly FeatureId[] = ['claude-code-on-the-web', 'remote-sessions', 'feedback'];

interface Draft {
  patch: FlowPatch;
  rules: string[];
  sources: Source[];
  notes: string[];
}

function addSources(into: Source[], more: readonly Source[]): void {
  for (const s of more) {
    if (!into.some((x) => x.seed === s.seed && x.section === s.section && x.url === s.url)) into.push(s);
  }
}

function addOnce<T>(into: T[], item: T): void {
  if (!into.includes(item)) into.push(item);
}

function inForce(rule: Rule, at: number): boolean {
  if (rule.validFrom && at < parseDate(rule.validFrom, `${rule.id}.validFrom`)) return false;
  if (rule.validUntil && at >= parseDate(rule.validUntil, `${rule.id}.validUntil`)) return false;
  return true;
}

function resolveRetention(value: number | null | SettingValue, profile: Profile): number | null {
  if (value === null || typeof value === 'number') return value;
  const v = profile.settings?.[value.setting];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : value.default;
}

function applyEffect(effect: Effect, rule: Rule, drafts: Map<FlowId, Draft>, out: Outcome): void {
  if ('flow' in effect) {
    const d = drafts.get(effect.flow);
    if (!d) return;
    const { encryption, ...rest } = effect.set ?? {};
    d.patch = { ...d.patch, ...rest, encryption: { ...d.patch.encryption, ...encryption } };
    addOnce(d.rules, rule.id);
    addSources(d.sources, rule.sources);
    addOnce(d.notes, effect.note);
    return;
  }
  if ('feature' in effect) {
    const f = out.features.get(effect.feature);
    if (!f)
      out.features.set(effect.feature, { id: effect.feature, reason: effect.reason, sources: [], rules: [] });
    else if (!f.reason.includes(effect.reason)) f.reason = `${f.reason} ${effect.reason}`;
    const entry = out.features.get(effect.feature) as DisabledFeature;
    addOnce(entry.rules, rule.id);
    addSources(entry.sources, rule.sources);
    return;
  }
  const w = out.warnings.get(effect.warning);
  if (!w)
    out.warnings.set(effect.warning, { id: effect.warning, message: effect.message, sources: [], rules: [] });
  else if (!w.message.includes(effect.message)) w.message = `${w.message} ${effect.message}`;
  const entry = out.warnings.get(effect.warning) as Warning;
  addOnce(entry.rules, rule.id);
  addSources(entry.sources, rule.sources);
}

interface Outcome {
  features: Map<FeatureId, DisabledFeature>;
  warnings: Map<string, Warning>;
}

function undecided(id: FlowId, field: string): never {
  throw new Error(`catalog leaves ${id}.${field} undecided for this profile`);
}

function finish(id: FlowId, d: Draft, profile: Profile, done: Map<FlowId, Flow>): Flow {
  const p = d.patch;
  let trainingUse = p.trainingUse;
  let retentionDays = p.retentionDays === undefined ? undefined : resolveRetention(p.retentionDays, profile);
  const other = p.sameAs && done.get(p.sameAs.flow);
  if (p.sameAs && other) {
    if (p.sameAs.fields.includes('trainingUse')) trainingUse = other.trainingUse;
    if (p.sameAs.fields.includes('retentionDays')) retentionDays = other.retentionDays;
  }
  if (p.enabled === undefined) undecided(id, 'enabled');
  if (p.destination === undefined) undecided(id, 'destination');
  if (trainingUse === undefined) undecided(id, 'trainingUse');
  if (retentionDays === undefined) undecided(id, 'retentionDays');
  if (!p.encryption?.inTransit || !p.encryption.atRest) undecided(id, 'encryption');
  if (d.sources.length === 0) undecided(id, 'sources');
  const servers = profile.mcpServers?.join(', ') || 'none';
  const flow: Flow = {
    id,
    enabled: p.enabled,
    destination: p.destination,
    trainingUse,
    retentionDays,
    data: (p.data ?? []).map((s) => s.replaceAll('{mcpServers}', servers)),
    encryption: { inTransit: p.encryption.inTransit, atRest: p.encryption.atRest },
    sources: d.sources,
    rules: d.rules,
    notes: d.notes,
  };
  // A flow that does not happen carries nothing, so nothing is kept or trained on.
  if (!flow.enabled) return { ...flow, data: [], trainingUse: 'no', retentionDays: 0 };
  return flow;
}

/** Evaluates `profile` against `catalog` as of `at` (ISO date). Pure: no clock, files or network. */
export function evaluate(profile: Profile, catalog: readonly Rule[], at: string): ExplainResult {
  const facts: Facts = deriveFacts(profile, at);
  const drafts = new Map<FlowId, Draft>(
    FLOW_IDS.map((id) => [id, { patch: {}, rules: [], sources: [], notes: [] }]),
  );
  const out: Outcome = { features: new Map(), warnings: new Map() };
  for (const rule of catalog) {
    if (!inForce(rule, facts.at) || !matches(rule.when, facts)) continue;
    for (const effect of rule.effects) applyEffect(effect, rule, drafts, out);
  }
  const done = new Map<FlowId, Flow>();
  // Flows that copy fields from another flow are finished after the others.
  const order = [...FLOW_IDS].sort(
    (a, b) => Number(!!drafts.get(a)?.patch.sameAs) - Number(!!drafts.get(b)?.patch.sameAs),
  );
  for (const id of order) done.set(id, finish(id, drafts.get(id) as Draft, profile, done));
  return {
    profile,
    at,
    flows: FLOW_IDS.map((id) => done.get(id) as Flow),
    disabledFeatures: FEATURE_IDS.flatMap((id) => out.features.get(id) ?? []),
    warnings: [...out.warnings.values()],
  };
}
