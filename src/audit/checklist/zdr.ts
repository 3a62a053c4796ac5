/** The ZDR page's and the ZDR help article's conditions, for a setup that claims zero data retention. */
import { attestHint } from './individual.js';
import type { Answer, ChecklistEvidence, ItemAnswerer } from './types.js';

const lower = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const ZDR_REFUSALS = ['zdr-on-consumer-plan', 'zdr-plan-not-eligible', 'zdr-on-cloud-provider'];

function eligible(e: ChecklistEvidence): Answer {
  const p = e.audit.profile;
  const refused = e.audit.explain.warnings.filter((w) => ZDR_REFUSALS.includes(w.id));
  const upstream = e.gateway?.upstreamProvider;
  const evidence = [
    `plan ${p.plan}, inference via ${p.provider}${upstream ? `; the gateway's upstream is ${upstream}` : ''}`,
    ...refused.map((w) => w.message),
  ];
  if (refused.length || (upstream && upstream !== 'anthropic'))
    return {
      status: 'fail',
      evidence,
      fix: 'ZDR applies to Claude for Enterprise and commercial API keys on Anthropic’s direct platform only; elsewhere the platform’s own retention applies.',
    };
  return { status: 'pass', evidence };
}

function integrations(e: ChecklistEvidence): Answer {
  const servers = e.audit.mcpServers.filter((s) => s.active);
  if (!servers.length) return { status: 'pass', evidence: ['no MCP server is active on this machine'] };
  return {
    status: 'cannot-tell',
    evidence: [
      `ZDR does not cover ${servers.map((s) => `${s.name} (${s.scope})`).join(', ')}: their data handling is their own`,
    ],
    fix: `Remove them, or review them and ${lower(attestHint(e, 'zdr-integrations-reviewed', 'the review'))}`,
  };
}

function baaScope(e: ChecklistEvidence): Answer {
  const deny = (e.audit.settings.lists['permissions.deny'] ?? []).map((i) => String(i.value));
  const web = deny.filter((r) => /^WebSearch\b/.test(r));
  if (web.length) return { status: 'pass', evidence: [`web search is denied (${web.join(', ')})`] };
  return {
    status: 'cannot-tell',
    evidence: ['web search is not denied; Sluice cannot see whether a BAA applies'],
    fix: `If the BAA applies, deny "WebSearch" in managed settings; if not, ${lower(attestHint(e, 'baa-scope-respected', 'that it does not apply'))}`,
  };
}

function coveredModels(e: ChecklistEvidence): Answer {
  const models = e.store?.models ?? [];
  return {
    status: 'cannot-tell',
    evidence: [
      models.length
        ? `models the gateway has seen: ${models.join(', ')}`
        : 'no model use recorded by a gateway',
      'which models are Covered Models is not in the sources',
    ],
    fix: attestHint(e, 'zdr-covered-models-known', 'which of them are Covered Models (ask the account team)'),
  };
}

const onlyAttested = (id: string, what: string, severity: ItemAnswerer['severity']): ItemAnswerer => ({
  severity,
  attestationOnly: true,
  answer: (e) => ({
    status: 'cannot-tell',
    evidence: [
      `${what} is visible only in Anthropic's console or contracts`,
      ...(e.gateway
        ? [`the gateway keeps no content for org "${e.gateway.name}" (zdr: ${e.gateway.zdr})`]
        : []),
    ],
    fix: attestHint(e, id),
  }),
});

export const zdrItems: Record<string, ItemAnswerer> = {
  'zdr-eligible-setup': { severity: 'high', answer: eligible },
  'zdr-enabled-per-organization': onlyAttested(
    'zdr-enabled-per-organization',
    'whether the account team enabled ZDR for this organization',
    'high',
  ),
  'zdr-confirmed-in-settings': onlyAttested(
    'zdr-confirmed-in-settings',
    'the Data retention period under Settings > Privacy Controls',
    'medium',
  ),
  'zdr-integrations-reviewed': { severity: 'high', answer: integrations },
  'zdr-uncovered-features-avoided': onlyAttested(
    'zdr-uncovered-features-avoided',
    'what people put into claude.ai chat or Cowork',
    'medium',
  ),
  'zdr-covered-models-known': { severity: 'medium', answer: coveredModels },
  'baa-scope-respected': { severity: 'medium', answer: baaScope },
};
