/** Output of `sluice checklist`: table, markdown, JSON and SARIF 2.1.0. */
import { pathToFileURL } from 'node:url';
import { sarifLog } from '../../guard/report.js';
import type { Source } from '../../policy/types.js';
import type { Severity } from '../types.js';
import type { ChecklistItem, ChecklistReport, Status } from './types.js';

const LABEL: Record<Status, string> = { pass: 'PASS', fail: 'FAIL', 'cannot-tell': 'CANNOT TELL' };
const source = (s: Source): string => `${s.seed}, “${s.section}” <${s.url}>`;

function summary(r: ChecklistReport): string {
  const n = (s: Status) => r.items.filter((i) => i.status === s).length;
  return `${n('pass')} pass, ${n('fail')} fail, ${n('cannot-tell')} cannot tell`;
}

const heading = (r: ChecklistReport): string =>
  `Readiness checklist${r.org ? ` for org ${r.org}` : ''} (plan ${r.plan}, Claude Code ${r.client ?? 'version unknown'}), ${r.at.slice(0, 10)}: ${summary(r)}`;

export function toTable(r: ChecklistReport): string {
  const lines = [heading(r), ''];
  for (const i of r.items) {
    lines.push(`${LABEL[i.status].padEnd(11)}  ${i.id} (${i.audience}, ${i.severity})`);
    lines.push(`             ${i.question}`);
    for (const e of i.evidence) lines.push(`             - ${e}`);
    if (i.fix) lines.push(`             fix: ${i.fix}`);
    lines.push(`             source: ${i.sources.map(source).join('; ')}`);
  }
  if (r.assumptions.length) lines.push('', 'Assumptions', ...r.assumptions.map((a) => `  - ${a}`));
  return lines.join('\n') + '\n';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(r: ChecklistReport): string {
  const out = [
    `# ${heading(r)}`,
    '',
    '| Status | Item | For | Severity | Evidence | Fix | Source |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const i of r.items) {
    out.push(
      `| ${LABEL[i.status]} | **${i.id}**: ${cell(i.question)} | ${i.audience} | ${i.severity} | ${cell(i.evidence.join('; '))} | ${cell(i.fix ?? '')} | ${cell(i.sources.map((s) => `[${s.seed}, ${s.section}](${s.url})`).join('; '))} |`,
    );
  }
  if (r.assumptions.length) out.push('', '## Assumptions', '', ...r.assumptions.map((a) => `- ${cell(a)}`));
  return out.join('\n') + '\n';
}

export const toJson = (r: ChecklistReport) => r;

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** SARIF for code scanning: one result per item that fails or cannot be told, located at `file`. */
export function toSarif(r: ChecklistReport, file: string, version = '0.1.0'): object {
  const open = r.items.filter((i) => i.status !== 'pass');
  const rules = r.items.map((i) => ({
    id: i.id,
    name: i.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
    shortDescription: { text: i.question },
    helpUri: i.sources[0]?.url,
    defaultConfiguration: { level: LEVEL[i.severity] },
    properties: { audience: i.audience, tags: ['readiness', i.audience] },
  }));
  const result = (i: ChecklistItem) => ({
    ruleId: i.id,
    ruleIndex: r.items.indexOf(i),
    level: i.status === 'fail' ? LEVEL[i.severity] : 'none',
    kind: i.status === 'fail' ? 'fail' : 'review',
    message: { text: `${LABEL[i.status]}: ${i.evidence.join('; ')}${i.fix ? ` Fix: ${i.fix}` : ''}` },
    locations: [{ physicalLocation: { artifactLocation: { uri: pathToFileURL(file).href } } }],
    properties: { status: i.status, severity: i.severity },
  });
  // The run's property bag carries what the answers assumed (SARIF results have no place for it).
  return sarifLog(version, rules, {
    properties: { assumptions: r.assumptions, clientVersion: r.client },
    results: open.map(result),
  });
}
