/**
 * Client versions. Rules may hold only for some Claude Code versions (the seeds describe older
 * clients, later documentation newer ones). With a version, the engine applies the rules that hold
 * for it. Without one, it evaluates one version from each band between the boundaries the catalog
 * names, and when the bands disagree it answers with the band where more data leaves, and warns,
 * naming each reading and how to settle it.
 */
import { compareVersions, parseVersion, type Version } from './facts.js';
import { addSources } from './remarks.js';
import type { Rule } from './rule.js';
import type { ExplainResult, Flow, Remark } from './types.js';

/** A stretch of client versions between two boundaries the catalog names (`until` exclusive). */
export interface VersionBand {
  from?: string;
  until?: string;
  /** A version inside the band, evaluated for it. */
  version: Version;
}

/** For people: "before 2.1.198", "2.1.198 to 2.1.239", "2.1.240 or later". */
export function bandLabel(band: Pick<VersionBand, 'from' | 'until'>): string {
  if (!band.from && !band.until) return 'of any version';
  if (!band.from) return `before ${band.until}`;
  if (!band.until) return `${band.from} or later`;
  const [a, b, c] = parseVersion(band.until, 'until');
  return `${band.from} to ${c > 0 ? `${a}.${b}.${c - 1}` : `before ${band.until}`}`;
}

/** One band per stretch of versions between the boundaries of the catalog's versioned rules. */
export function versionBands(catalog: readonly Rule[]): VersionBand[] {
  const bounds = new Map<string, Version>();
  for (const r of catalog)
    for (const b of [r.clients?.from, r.clients?.until])
      if (b) bounds.set(b, parseVersion(b, `${r.id}.clients`));
  const sorted = [...bounds.entries()].sort((x, y) => compareVersions(x[1], y[1]));
  const first = sorted[0];
  if (!first) return [{ version: [0, 0, 0] }];
  return [
    { until: first[0], version: [0, 0, 0] },
    ...sorted.map(([from, version], i) => {
      const next = sorted[i + 1];
      return next ? { from, until: next[0], version } : { from, version };
    }),
  ];
}

// A flow that does not happen goes nowhere, whichever vendor it would have gone to.
const decision = (f: Flow) => (f.enabled ? `on|${f.destination}|${f.trainingUse}|${f.retentionDays}` : 'off');

/** How much leaves the machine: outbound flows, then those that may be trained on, then days kept. */
function exposure(r: ExplainResult): number[] {
  const out = r.flows.filter((f) => f.enabled && f.destination !== 'local-disk');
  return [
    out.length,
    out.filter((f) => f.trainingUse !== 'no').length,
    // A period no source gives could be any length, so it weighs as ten years.
    out.reduce((sum, f) => sum + (f.retentionDays ?? 3650), 0),
  ];
}

function compareExposure(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

interface Run {
  band: VersionBand;
  result: ExplainResult;
}

const sameDecisions = (a: Run, b: Run) =>
  a.result.flows.every((f, i) => decision(f) === decision(b.result.flows[i] as Flow));

/** Adjacent runs with the same decisions, as one range. */
function merged(runs: Run[]): { from?: string; until?: string; runs: Run[] }[] {
  const out: { from?: string; until?: string; runs: Run[] }[] = [];
  for (const run of runs) {
    const last = out[out.length - 1];
    if (last && sameDecisions(last.runs[0] as Run, run)) {
      last.runs.push(run);
      last.until = run.band.until;
      if (!run.band.until) delete last.until;
    } else out.push({ ...run.band, runs: [run] });
  }
  return out;
}

/** How one flow reads in a range: on or off, and the fields that differ between ranges. */
function describe(f: Flow, fields: Set<string>): string {
  if (!f.enabled) return 'off';
  const parts = [`to ${f.destination}`];
  if (fields.has('training')) parts.push(`training ${f.trainingUse}`);
  if (fields.has('retention')) parts.push(`retention ${f.retentionDays ?? 'not a number of days'}`);
  return `on (${parts.join(', ')})`;
}

function readingsOf(runs: Run[], index: number): string {
  const flows = runs.map((r) => r.result.flows[index] as Flow);
  const on = flows.filter((f) => f.enabled);
  const fields = new Set<string>();
  if (new Set(on.map((f) => f.trainingUse)).size > 1) fields.add('training');
  if (new Set(on.map((f) => f.retentionDays)).size > 1) fields.add('retention');
  const spans: { from?: string; until?: string; text: string }[] = [];
  runs.forEach((r, i) => {
    const text = describe(flows[i] as Flow, fields);
    const last = spans[spans.length - 1];
    if (last && last.text === text) {
      if (r.band.until) last.until = r.band.until;
      else delete last.until;
    } else spans.push({ ...r.band, text });
  });
  return `${flows[0]?.id}: ${spans.map((s) => `${s.text} for clients ${bandLabel(s)}`).join('; ')}.`;
}

/** The answer for an unknown client version: the band where more data leaves, with a warning when bands differ. */
export function settleUnknownVersion(runs: Run[], catalog: readonly Rule[]): ExplainResult {
  const ranges = merged(runs);
  const first = ranges[0] as (typeof ranges)[number];
  if (ranges.length === 1) return (first.runs[0] as Run).result;
  const worst = ranges.reduce((a, b) =>
    compareExposure(exposure((b.runs[0] as Run).result), exposure((a.runs[0] as Run).result)) > 0 ? b : a,
  );
  const chosen = (worst.runs[0] as Run).result;
  const differing = chosen.flows
    .map((f, i) => ({ f, i }))
    .filter(({ i }) =>
      ranges.some(
        (r) => decision((r.runs[0] as Run).result.flows[i] as Flow) !== decision(chosen.flows[i] as Flow),
      ),
    );
  const readings = differing.map(({ i }) => readingsOf(runs, i));
  const label = bandLabel(worst);
  const used = new Set(differing.flatMap(({ i }) => runs.flatMap((r) => (r.result.flows[i] as Flow).rules)));
  const remark = (id: string, message: string): Remark => {
    const r: Remark = { id, message, sources: [], rules: [] };
    for (const rule of catalog.filter((x) => x.clients && used.has(x.id))) {
      r.rules.push(rule.id);
      addSources(r.sources, rule.sources);
    }
    return r;
  };
  const warning = remark(
    'client-version-unknown',
    `The Claude Code version is not given, and the sources differ by client version. ${readings.join(' ')} This answer takes the reading where more data leaves (clients ${label}). Settle it by giving the version (\`claude --version\`; sluice explain --client-version, or clientVersion in the profile), or run sluice audit on the machine, which reads the installed client's version.`,
  );
  const assumption = remark(
    'client-version',
    `A Claude Code client ${label}: the version is not given, and that reading lets the most data leave.`,
  );
  return {
    ...chosen,
    client: { version: null, assumed: label },
    warnings: [...chosen.warnings, warning],
    assumptions: [assumption, ...chosen.assumptions],
  };
}
