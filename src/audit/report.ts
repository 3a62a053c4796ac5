/** Output of an audit: json, table, markdown and SARIF 2.1.0. Every string that could hold a secret is masked here. */
import { homedir } from 'node:os';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sarifLog } from '../guard/report.js';
import type { AuditReport } from './audit.js';
import { hostOf } from './checks.js';
import { severityRank } from './finding.js';
import { FINDING_KINDS, kindOf } from './kinds.js';
import { isCredentialName, isLiteralSecret, redactDeep, redactText } from './redact.js';
import type { Finding, Inspector, Origin, Severity } from './types.js';

/** Variables Claude Code reads that matter for data governance (the rest of the environment is not printed). */
const RELEVANT_ENV =
  /^(ANTHROPIC_|CLAUDE_|DISABLE_|OTEL_|AWS_|CLOUD_ML_|VERTEX_|GOOGLE_|DO_NOT_TRACK$|HTTPS?_PROXY$|NO_PROXY$|NODE_EXTRA_CA_CERTS$|NODE_TLS_REJECT_UNAUTHORIZED$|ENABLE_CLAUDEAI_MCP_SERVERS$|API_TIMEOUT_MS$|MCP_)/i;

function maskEnvValue(name: string, value: string, inspector: Inspector): string {
  if (isCredentialName(name) && isLiteralSecret(value)) return inspector.mask(value);
  return redactText(value, inspector).replace(/(\/\/)[^/@\s]+@/g, '$1***@');
}

const origin = (o: Origin) => ({ scope: o.scope, file: o.file });

/** The `--format json` document: `{effective, flows, findings}` plus assumptions, warnings and local data. */
export function toJson(report: AuditReport, inspector: Inspector) {
  const env: Record<string, { value: string; scope: string; file: string }> = {};
  for (const [name, v] of Object.entries(report.env).sort(([a], [b]) => a.localeCompare(b))) {
    if (v.origin.scope === 'process' && !RELEVANT_ENV.test(name)) continue;
    env[name] = { value: maskEnvValue(name, v.value, inspector), ...origin(v.origin) };
  }
  const provenance: Record<string, unknown> = {};
  for (const [path, o] of Object.entries(report.settings.origins)) provenance[path] = origin(o);
  for (const [path, items] of Object.entries(report.settings.lists)) {
    provenance[path] = items.map((i) => ({ value: redactDeep(i.value, inspector), ...origin(i.origin) }));
  }
  const settingsValues = redactDeep(report.settings.values, inspector) as Record<string, unknown>;
  if (settingsValues.env && typeof settingsValues.env === 'object') {
    const block = settingsValues.env as Record<string, unknown>;
    for (const k of Object.keys(block))
      if (typeof block[k] === 'string') block[k] = maskEnvValue(k, block[k] as string, inspector);
  }
  return {
    effective: {
      files: report.layers,
      settings: settingsValues,
      provenance,
      env,
      mcpServers: report.mcpServers.map((s) => ({
        name: s.name,
        scope: s.scope,
        file: s.file,
        transport: s.transport,
        ...(s.command ? { command: redactText(s.command, inspector) } : {}),
        ...(s.url ? { host: hostOf(s.url) } : {}),
        active: s.active,
        ...(s.inactiveReason ? { inactiveReason: s.inactiveReason } : {}),
      })),
      plan: report.profile.plan,
      provider: report.profile.provider,
      retentionDays: report.retentionDays,
      client: {
        version: report.client.version,
        source: report.client.source,
        installs: report.client.installs.map((c) => ({ path: c.path, version: c.version, via: c.via })),
      },
    },
    assumptions: report.assumptions,
    flows: report.explain.flows,
    disabledFeatures: report.explain.disabledFeatures,
    warnings: report.explain.warnings,
    /** What the policy engine assumed (labelled the same way in the table and markdown). */
    policyAssumptions: report.explain.assumptions,
    notes: report.explain.notes,
    local: report.local,
    gatewaySignIn: report.gatewaySignIn,
    ...(report.egress ? { egress: report.egress } : {}),
    findings: report.findings.map((f) => ({ ...f, message: redactText(f.message, inspector) })),
  };
}

function counts(findings: Finding[]): string {
  const by = (s: Severity) => findings.filter((f) => f.severity === s).length;
  return (['high', 'medium', 'low', 'info'] as const).map((s) => `${by(s)} ${s}`).join(', ');
}

/** `~` for the caller's home, so paths stay short. */
function short(path: string | undefined): string {
  if (!path) return '';
  const home = homedir();
  return home && path.startsWith(home + sep) ? `~${path.slice(home.length)}` : path;
}

function where(f: Finding): string {
  return f.file ? `${short(f.file)}${f.line ? `:${f.line}` : ''}` : '';
}

function retentionLabel(days: number | null, unstated = false): string {
  return days === null ? (unstated ? 'unstated' : 'provider') : days === 0 ? 'none' : `${days}d`;
}

/** "2.1.330 (~/.local/bin/claude, PATH)", or why the version is not known. */
function clientLabel(report: AuditReport): string {
  const { version, source, installs } = report.client;
  const first = installs[0];
  if (source === 'flag') return `${version} (--client-version)`;
  if (!first) return 'not found (version unknown)';
  return `${version ?? 'version unknown'} (${short(first.path)}, ${first.via})`;
}

/** The audit's own assumptions, then the policy engine's, each labelled. */
function assumptionLines(report: AuditReport): string[] {
  return [...report.assumptions, ...report.explain.assumptions.map((a) => `${a.id}: ${a.message}`)];
}

function pad(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function toTable(report: AuditReport, inspector: Inspector): string {
  const j = toJson(report, inspector);
  const lines: string[] = [];
  const base = report.env.ANTHROPIC_BASE_URL;
  lines.push('Effective configuration');
  lines.push(
    ...pad([
      [
        '  route',
        `${j.effective.provider}${base ? ` via ${hostOf(base.value)} (${base.origin.scope})` : ''}`,
      ],
      [
        '  plan',
        `${j.effective.plan}${report.assumptions.some((a) => a.startsWith('plan')) ? ' (assumed)' : ''}`,
      ],
      [
        '  retention',
        `${report.retentionDays} days${report.settings.origins.cleanupPeriodDays ? ` (${report.settings.origins.cleanupPeriodDays.scope})` : ' (default)'}`,
      ],
      ['  client', clientLabel(report)],
      ['  settings', report.layers.map((l) => `${l.scope} ${short(l.file)}`).join('; ') || 'none found'],
      [
        '  MCP servers',
        report.mcpServers.map((s) => `${s.name} (${s.scope}${s.active ? '' : ', inactive'})`).join(', ') ||
          'none',
      ],
    ]),
  );
  const assumed = assumptionLines(report);
  if (assumed.length) {
    lines.push('', 'Assumptions');
    for (const a of assumed) lines.push(`  - ${a}`);
  }
  lines.push('', 'Data flows');
  lines.push(
    ...pad([
      ['  FLOW', 'ON', 'DESTINATION', 'TRAINING', 'RETENTION'],
      ...report.explain.flows.map((f) => [
        `  ${f.id}`,
        f.enabled ? 'yes' : 'no',
        f.destination,
        f.trainingUse,
        f.enabled ? retentionLabel(f.retentionDays, f.unstated.includes('retentionDays')) : '-',
      ]),
    ]),
  );
  for (const w of report.explain.warnings) lines.push(`  ! ${w.message}`);
  if (report.egress) {
    const e = report.egress;
    lines.push(
      '',
      `Egress: hosts contacted (${e.records} records in ${short(e.file)}${e.user ? ` for ${e.user}` : ''})`,
    );
    lines.push(
      ...pad([
        ['  HOST', 'ATTEMPTS', 'ALLOWED', 'FLOW', 'VERDICT', 'WHY'],
        ...e.hosts.map((h) => [
          `  ${h.host}:${h.port}`,
          String(h.attempts),
          String(h.allowed),
          h.flows.join(' ') || '-',
          h.verdict,
          h.why,
        ]),
      ]),
    );
    lines.push(
      `  predicted: ${e.predicted.map((p) => `${p.flow} -> ${p.destination}${p.seen ? '' : ' (not seen)'}`).join(', ') || 'no network flows'}`,
    );
  }
  lines.push('', `Findings (${counts(report.findings)})`);
  if (!report.findings.length) lines.push('  none');
  for (const f of j.findings) {
    lines.push(`  ${f.severity.toUpperCase().padEnd(6)}  ${f.id}${f.file ? `  ${where(f)}` : ''}`);
    lines.push(`          ${f.message}`);
    lines.push(`          fix: ${redactText(f.fix, inspector)}`);
  }
  return lines.join('\n') + '\n';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(report: AuditReport, inspector: Inspector): string {
  const j = toJson(report, inspector);
  const out: string[] = ['# Claude Code data-governance audit', ''];
  out.push(`- Route: **${j.effective.provider}**`, `- Plan: **${j.effective.plan}**`);
  out.push(`- Claude Code: **${clientLabel(report)}**`);
  out.push(`- Local retention: **${report.retentionDays} days**`);
  out.push(`- Findings: ${counts(report.findings)}`, '');
  const assumed = assumptionLines(report);
  if (assumed.length) out.push('## Assumptions', '', ...assumed.map((a) => `- ${cell(a)}`), '');
  out.push('## Settings files', '', '| Scope | File |', '|---|---|');
  for (const l of report.layers) out.push(`| ${l.scope} | \`${cell(short(l.file))}\` |`);
  out.push(
    '',
    '## Data flows',
    '',
    '| Flow | Enabled | Destination | Training | Retention | Rules |',
    '|---|---|---|---|---|---|',
  );
  for (const f of report.explain.flows) {
    out.push(
      `| ${f.id} | ${f.enabled ? 'yes' : 'no'} | ${f.destination} | ${f.trainingUse} | ${f.enabled ? retentionLabel(f.retentionDays, f.unstated.includes('retentionDays')) : '-'} | ${cell(f.rules.join(', '))} |`,
    );
  }
  if (report.explain.warnings.length) {
    out.push('', '### Warnings', '', ...report.explain.warnings.map((w) => `- ${cell(w.message)}`));
  }
  if (report.egress) {
    const e = report.egress;
    out.push(
      '',
      `## Egress: hosts contacted (${e.records} records in \`${cell(short(e.file))}\`${e.user ? ` for ${cell(e.user)}` : ''})`,
      '',
      '| Host | Attempts | Allowed | Flow | Verdict | Why |',
      '|---|---|---|---|---|---|',
      ...e.hosts.map(
        (h) =>
          `| \`${h.host}:${h.port}\` | ${h.attempts} | ${h.allowed} | ${h.flows.join(', ') || '-'} | ${h.verdict} | ${cell(h.why)} |`,
      ),
      '',
      `Predicted network flows: ${e.predicted.map((p) => `${p.flow} → ${p.destination}${p.seen ? '' : ' (not seen)'}`).join(', ') || 'none'}.`,
    );
  }
  out.push('', '## Findings', '');
  if (!j.findings.length) out.push('None.');
  else {
    out.push('| Severity | Id | Where | Finding | Fix |', '|---|---|---|---|---|');
    for (const f of j.findings) {
      out.push(
        `| ${f.severity} | \`${f.id}\` | ${f.file ? `\`${cell(where(f))}\`` : ''} | ${cell(f.message)} | ${cell(redactText(f.fix, inspector))} |`,
      );
    }
  }
  return out.join('\n') + '\n';
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};
const SECURITY_SEVERITY: Record<Severity, string> = { high: '8.0', medium: '5.0', low: '3.0', info: '1.0' };

/** SARIF 2.1.0 for code-scanning upload: project files are relative to %SRCROOT%, others are file URIs. */
export function toSarif(report: AuditReport, inspector: Inspector, project: string, version = '0.1.0') {
  const j = toJson(report, inspector);
  const used = [...new Set(report.findings.map((f) => f.id))];
  const rules = [
    ...FINDING_KINDS.filter((k) => used.includes(k.id)),
    ...used.filter((id) => !FINDING_KINDS.some((k) => k.id === id)).map(kindOf),
  ];
  const levelOf = (id: string): Severity => {
    const k = kindOf(id);
    if (k.severity !== 'varies') return k.severity;
    return report.findings
      .filter((f) => f.id === id)
      .sort((a, b) => severityRank(b.severity) - severityRank(a.severity))[0]!.severity;
  };
  const location = (file: string, line?: number) => {
    const rel = relative(project, file);
    const inside = rel && !rel.startsWith('..') && !isAbsolute(rel);
    return {
      physicalLocation: {
        artifactLocation: inside
          ? { uri: rel.split(sep).join('/'), uriBaseId: '%SRCROOT%' }
          : { uri: pathToFileURL(file).href },
        ...(line ? { region: { startLine: line } } : {}),
      },
    };
  };
  return sarifLog(
    version,
    rules.map((k) => ({
      id: k.id,
      name: k.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
      shortDescription: { text: k.title },
      defaultConfiguration: { level: SARIF_LEVEL[levelOf(k.id)] },
      properties: {
        tags: ['security', 'privacy'],
        'security-severity': SECURITY_SEVERITY[levelOf(k.id)],
      },
    })),
    {
      // SARIF has no place for assumptions in a result; the run's property bag carries them, labelled.
      properties: { assumptions: assumptionLines(report), clientVersion: report.client.version },
      originalUriBaseIds: {
        '%SRCROOT%': { uri: pathToFileURL(project.endsWith(sep) ? project : project + sep).href },
      },
      results: j.findings.map((f) => ({
        ruleId: f.id,
        ruleIndex: rules.findIndex((k) => k.id === f.id),
        level: SARIF_LEVEL[f.severity],
        message: { text: `${f.message} Fix: ${redactText(f.fix, inspector)}` },
        // Code scanning needs a location; configuration-wide findings point at the managed settings file.
        locations: [location(f.file ?? report.paths.managedSettings, f.line)],
        partialFingerprints: { 'sluice/v1': f.fingerprint },
        properties: { severity: f.severity, ...(f.rule ? { detector: f.rule } : {}) },
      })),
    },
  );
}
