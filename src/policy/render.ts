/** Text renderings of an explanation (table, markdown, mermaid) shared by the CLI and the dashboard. */
import type { RouteRow } from './routes.js';
import type { Destination, ExplainResult, Flow, Remark } from './types.js';

/** Null retention means no day count: unstated by every source, or another party's policy governs. */
export const retention = (f: Flow): string => {
  if (!f.enabled) return '-';
  if (f.retentionDays === null) return f.unstated.includes('retentionDays') ? 'unstated' : 'their policy';
  return f.retentionDays === 0 ? 'not kept' : `${f.retentionDays} days`;
};

/** "Claude Code 2.1.330", or what was assumed when no version was given. */
export function clientLabel(r: ExplainResult): string {
  if (r.client.version) return `Claude Code ${r.client.version}`;
  return r.client.assumed
    ? `Claude Code version not given, assumed ${r.client.assumed}`
    : 'Claude Code version not given';
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function columns(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

const flowRow = (f: Flow): string[] => [
  f.id,
  f.destination,
  f.enabled ? 'yes' : 'no',
  f.enabled ? f.trainingUse : '-',
  retention(f),
  f.rules.join(', '),
];

const listed = (items: Remark[], empty = '  none'): string =>
  items.length ? items.map((w) => `  ${w.id}: ${w.message} [${w.rules.join(', ')}]`).join('\n') : empty;

export function renderTable(r: ExplainResult): string {
  const p = r.profile;
  const route = r.flows[0]?.destination ?? p.provider;
  const head = `Data flows for plan ${p.plan} via ${route}${p.zdr ? ', ZDR' : ''}, as of ${r.at}; ${clientLabel(r)}`;
  const table = columns([
    ['FLOW', 'DESTINATION', 'ENABLED', 'TRAINING', 'RETENTION', 'RULES'],
    ...r.flows.map(flowRow),
  ]);
  const features = r.disabledFeatures.length
    ? r.disabledFeatures.map((f) => `  ${f.id}: ${f.reason} [${f.rules.join(', ')}]`).join('\n')
    : '  none';
  const checks = r.checks.length
    ? r.checks.map((c) => `  ${c.id} (${c.audience}): ${c.question}`).join('\n')
    : '  none';
  return [
    `${head}\n\n${table}\n`,
    `Disabled features:\n${features}\n`,
    `Warnings:\n${listed(r.warnings)}\n`,
    `Assumptions (not stated by any source or the profile):\n${listed(r.assumptions)}\n`,
    `Notes:\n${listed(r.notes)}\n`,
    `Readiness items (sluice checklist answers them):\n${checks}\n`,
  ].join('\n');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const bullets = (items: Remark[]): string[] =>
  items.length ? items.map((w) => `- **${w.id}**: ${w.message}`) : ['None.'];

export function renderMarkdown(r: ExplainResult): string {
  const rows = r.flows.map((f) => `| ${flowRow(f).map(cell).join(' | ')} |`);
  const all = [...r.flows, ...r.disabledFeatures, ...r.warnings, ...r.assumptions, ...r.notes, ...r.checks];
  const sources = [...new Map(all.flatMap((x) => x.sources).map((s) => [s.url + s.section, s])).values()]
    .map((s) => `- ${s.seed}, “${s.section}”: <${s.url}>`)
    .join('\n');
  return [
    `## Data flows: ${r.profile.plan} via ${r.flows[0]?.destination ?? r.profile.provider}${r.profile.zdr ? ' with ZDR' : ''} (as of ${r.at}; ${clientLabel(r)})`,
    '',
    '| Flow | Destination | Enabled | Training | Retention | Rules |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    '### Why',
    '',
    ...r.flows.map((f) => `- **${f.id}**: ${f.notes.join(' ')}`),
    '',
    '### Disabled features',
    '',
    ...(r.disabledFeatures.length ? r.disabledFeatures.map((f) => `- **${f.id}**: ${f.reason}`) : ['None.']),
    '',
    '### Warnings',
    '',
    ...bullets(r.warnings),
    '',
    '### Assumptions',
    '',
    ...bullets(r.assumptions),
    '',
    '### Notes',
    '',
    ...bullets(r.notes),
    '',
    '### Readiness items',
    '',
    ...(r.checks.length
      ? r.checks.map((c) => `- [ ] **${c.id}** (${c.audience}): ${c.question}`)
      : ['None.']),
    '',
    '### Sources',
    '',
    sources,
    '',
  ].join('\n');
}

const LABEL: Record<Destination, string> = {
  anthropic: 'Anthropic',
  'aws-bedrock': 'AWS Bedrock',
  'google-vertex': 'Google Vertex AI',
  'microsoft-foundry': 'Microsoft Foundry',
  statsig: 'Statsig',
  sentry: 'Sentry',
  datadog: 'Datadog',
  'npm-registry': 'NPM registry',
  'local-disk': 'Local disk',
  'third-party': 'MCP servers / integrations',
};

/** `flowchart LR` from this machine to each destination; disabled flows are dashed; assumptions as comments. */
export function renderMermaid(r: ExplainResult): string {
  const dests = [...new Set(r.flows.map((f) => f.destination))];
  const nodes = dests.map((d) => `  ${d.replace(/-/g, '_')}["${LABEL[d]}"]`);
  const edges = r.flows.map((f) => {
    const label = f.enabled
      ? `${f.id}: training ${f.trainingUse}, retention ${retention(f)}`
      : `${f.id}: off`;
    return `  machine ${f.enabled ? '-->' : '-.->'}|"${label}"| ${f.destination.replace(/-/g, '_')}`;
  });
  // Mermaid comments cannot span lines; newlines in a message would end the comment.
  const comments = [
    `%% ${clientLabel(r)}`,
    ...r.assumptions.map((a) => `%% assumed (${a.id}): ${a.message.replace(/\s+/g, ' ')}`),
  ];
  return [
    'flowchart LR',
    ...comments,
    '  machine["This machine (Claude Code)"]',
    ...nodes,
    ...edges,
    '',
  ].join('\n');
}

const ROUTE_HEAD = ['PLAN', 'ROUTE', 'TRAINING', 'RETENTION', 'GOVERNED BY', 'ZDR'];
const routeRow = (r: RouteRow): string[] => [
  r.plan,
  r.provider,
  r.training,
  r.retention,
  r.governedBy,
  r.zdr,
];

export function renderRoutesTable(rows: RouteRow[], at: string): string {
  return `Plan × route as of ${at}\n\n${columns([ROUTE_HEAD, ...rows.map(routeRow)])}\n`;
}

export function renderRoutesMarkdown(rows: RouteRow[], at: string): string {
  return [
    `## Plan × route (as of ${at})`,
    '',
    `| ${ROUTE_HEAD.join(' | ')} |`,
    `|${ROUTE_HEAD.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${routeRow(r).map(cell).join(' | ')} |`),
    '',
  ].join('\n');
}
