/** The route article's team checklist (section 09) and corporate checkpoints (section 07). */
import { hostInfo } from '../../egress/flows.js';
import type { Flow } from '../../policy/types.js';
import { gatewayBaseUrl } from '../profile.js';
import { attestHint } from './individual.js';
import type { Answer, ChecklistEvidence, GatewayOrg, ItemAnswerer, StoreView } from './types.js';

const INFERENCE_DESTINATION: Record<string, string> = {
  anthropic: 'anthropic',
  bedrock: 'aws-bedrock',
  vertex: 'google-vertex',
  foundry: 'microsoft-foundry',
};

const needGateway = (what: string): Answer => ({
  status: 'cannot-tell',
  evidence: [`${what} is in the gateway's configuration and store, which were not given`],
  fix: 'Run with --config sluice.yaml (and --org) on the gateway host.',
});

/** The route the org wrote down (its profile), or why there is none. */
function approvedRoute(g: GatewayOrg): string | undefined {
  return g.profile?.provider;
}

/** Why this machine is not on the org's route, or undefined when it is. */
function offRoute(e: ChecklistEvidence, approved: string): string | undefined {
  const machine = e.audit.profile.provider;
  if (machine !== approved) return `this machine sends inference to ${machine}, not ${approved}`;
  const base = gatewayBaseUrl(e.audit.env);
  if (approved === 'anthropic' && !base)
    return 'ANTHROPIC_BASE_URL does not point at a gateway: this machine reaches the Claude API directly';
  const { host, port } = e.gateway?.listen ?? { host: '', port: 0 };
  if (base && port !== 0 && !base.includes(`:${port}`))
    return `ANTHROPIC_BASE_URL is ${base}, not this gateway (${host}:${port})`;
  return undefined;
}

/** Allowed egress connections to an inference host of another route (or to the API, bypassing the gateway). */
function offRouteTraffic(store: StoreView, approved: string): string[] {
  const want = INFERENCE_DESTINATION[approved];
  const seen = new Map<string, number>();
  for (const l of store.egress) {
    if (l.decision !== 'allow') continue;
    const info = hostInfo(l.host, l.port);
    if (!info.flows.includes('inference') || !info.destination) continue;
    if (info.destination === want && approved !== 'anthropic') continue;
    seen.set(`${l.host}:${l.port}`, (seen.get(`${l.host}:${l.port}`) ?? 0) + 1);
  }
  return [...seen].map(([h, n]) => `${h} allowed ${n}× through the egress proxy`);
}

function routeDecided(e: ChecklistEvidence): Answer {
  if (!e.gateway) return needGateway('the organization’s route');
  const approved = approvedRoute(e.gateway);
  if (!approved)
    return {
      status: 'fail',
      evidence: [`org "${e.gateway.name}" has no profile in ${e.gateway.file}: no route is written down`],
      fix: 'Write the org’s profile (plan, provider and env) in sluice.yaml; the egress policy follows from it.',
    };
  const off = offRoute(e, approved);
  if (off)
    return {
      status: 'fail',
      evidence: [`the org’s route is ${approved}`, off],
      fix: 'Point the machine at the org’s route (managed settings env, sluice managed-settings).',
    };
  return {
    status: 'pass',
    evidence: [
      `org "${e.gateway.name}": ${approved} through the gateway (profile in ${e.gateway.file}); this machine follows it`,
    ],
  };
}

function approvedRouteInUse(e: ChecklistEvidence): Answer {
  const decided = routeDecided(e);
  if (decided.status !== 'pass' || !e.store || !e.gateway) return decided;
  const approved = approvedRoute(e.gateway) as string;
  const traffic = offRouteTraffic(e.store, approved);
  if (traffic.length)
    return {
      status: 'fail',
      evidence: [...decided.evidence, ...traffic],
      fix: 'Deny those hosts in the org’s egress policy (sluice egress policy) and find which client reached them.',
    };
  const denied = e.store.egress.filter((l) => l.decision === 'deny').length;
  return {
    status: 'pass',
    evidence: [
      ...decided.evidence,
      `${e.store.egress.length} egress records: no inference host off the route was allowed (${denied} attempts denied)`,
    ],
  };
}

function diagrammed(e: ChecklistEvidence): Answer {
  const profile = e.gateway?.profile;
  if (!e.gateway) return needGateway('the organization’s profile');
  if (!profile)
    return {
      status: 'fail',
      evidence: [`org "${e.gateway.name}" has no profile to draw from`],
      fix: 'Write the org’s profile in sluice.yaml.',
    };
  const out = e.audit.explain.flows.filter((f: Flow) => f.enabled && f.destination !== 'local-disk');
  return {
    status: 'pass',
    evidence: [
      `the org's profile is data: \`sluice explain --profile <its profile> --format mermaid\` draws it`,
      `this machine: ${out.map((f) => `${f.id} → ${f.destination}`).join(', ')}`,
      ...sandboxLine(e.gateway),
    ],
  };
}

/** Sandboxed sessions are a route of their own: where `sluice explain` draws them. */
function sandboxLine(g: NonNullable<ChecklistEvidence['gateway']>): string[] {
  return g.sandbox
    ? [
        `sandboxed sessions: \`sluice explain --config ${g.file} --org ${g.name} --sandbox\` shows their path (inference through the gateway, git through the git proxy, egress only to ${g.sandbox.egressAllow.join(', ') || 'nothing'})`,
      ]
    : [];
}

function auditLogging(e: ChecklistEvidence): Answer {
  if (!e.store) return needGateway('the audit log');
  const { requests, latest, adminLog } = e.store;
  const chain = adminLog.intact
    ? `the admin log is intact (${adminLog.entries} ${adminLog.entries === 1 ? 'entry' : 'entries'})`
    : `the admin log is broken at entry ${adminLog.brokenAt}: ${adminLog.reason}`;
  if (!adminLog.intact)
    return {
      status: 'fail',
      evidence: [chain],
      fix: 'Find out who edited the store (sluice admin-log verify).',
    };
  if (!requests)
    return {
      status: 'fail',
      evidence: ['no request of this org is recorded', chain],
      fix: 'Send the org’s traffic through the gateway.',
    };
  return { status: 'pass', evidence: [`${requests} requests recorded, the latest at ${latest}`, chain] };
}

function auditTrail(e: ChecklistEvidence): Answer {
  const logging = auditLogging(e);
  if (logging.status !== 'pass' || !e.store || !e.gateway) return logging;
  const { attributed, requests, users } = e.store;
  const who = `${attributed} of ${requests} records name their user (${users.join(', ')}) and time`;
  if (attributed < requests)
    return {
      status: 'fail',
      evidence: [who],
      fix: 'Give every user their own key (sluice keys create --user).',
    };
  const mode = e.gateway.contentLogging;
  if (mode !== 'none') return { status: 'pass', evidence: [who, `what: content kept as "${mode}"`] };
  if (e.gateway.zdr)
    return {
      status: 'pass',
      evidence: [
        who,
        'what: under ZDR the gateway keeps request metadata and guard findings, not content, by design',
      ],
    };
  return {
    status: 'fail',
    evidence: [who, 'what: contentLogging is "none", so what was entered is not kept'],
    fix: 'Set contentLogging: redacted for the org in sluice.yaml.',
  };
}

function inputRestrictions(e: ChecklistEvidence): Answer {
  if (!e.gateway) return needGateway('the guard rules');
  const { secrets, pii } = e.gateway.guard;
  const readable = e.audit.findings.filter((f) => f.id === 'secrets-readable');
  const evidence = [
    `guard in ${e.gateway.file} for org "${e.gateway.name}": secrets ${secrets}, personal data ${pii}`,
    ...readable.map((f) => f.message),
  ];
  const problems = [
    ...(['redact', 'block'].includes(secrets) ? [] : ['secrets are not redacted or blocked']),
    ...(pii === 'off' ? ['personal (customer) data is not inspected at all'] : []),
    ...(readable.length ? ['.env-style files are readable'] : []),
  ];
  if (problems.length)
    return {
      status: 'fail',
      evidence: [...evidence, ...problems],
      fix: 'Set guard.secrets to redact or block and guard.pii to log, redact or block; deny Read(./.env) in managed settings.',
    };
  return { status: 'pass', evidence };
}

function trainingExclusion(e: ChecklistEvidence): Answer {
  if (!e.gateway) return needGateway('the organization’s profile');
  const machine = e.audit.explain.flows.find((f) => f.id === 'inference') as Flow;
  const org = e.gateway.profile;
  const evidence = [
    `this machine: inference training ${machine.trainingUse} (rules ${machine.rules.join(', ')})`,
    org
      ? `org profile: plan ${org.plan}, partner program ${org.developmentPartnerProgram ? 'on' : 'off'}`
      : 'the org has no profile',
    `keys of the org: ${e.store?.keys.filter((k) => !k.revoked).length ?? 'unknown'} active; every request goes upstream under the gateway’s commercial key`,
  ];
  if (machine.trainingUse === 'yes' || org?.developmentPartnerProgram)
    return {
      status: 'fail',
      evidence,
      fix: 'Turn training off for every account (commercial terms, partner program off).',
    };
  if (machine.trainingUse === 'unstated' || !org)
    return { status: 'cannot-tell', evidence, fix: attestHint(e, 'training-exclusion-verified') };
  return { status: 'pass', evidence };
}

const attested = (what: string, id: string, facts: (e: ChecklistEvidence) => string[]): ItemAnswerer => ({
  severity: 'medium',
  attestationOnly: true,
  answer: (e) => ({
    status: 'cannot-tell',
    evidence: [`${what} is not something Sluice can see`, ...facts(e)],
    fix: attestHint(e, id),
  }),
});

const keysLine = (e: ChecklistEvidence): string[] =>
  e.store
    ? [
        `${e.store.keys.filter((k) => !k.revoked).length} active keys: ${[...new Set(e.store.keys.filter((k) => !k.revoked).map((k) => `${k.user} (${k.role})`))].join(', ') || 'none'}`,
      ]
    : [];

const repositoriesLine = (e: ChecklistEvidence): string[] => [
  ...keysLine(e),
  ...(e.gateway?.sandbox
    ? [
        `sandboxed sessions only on: ${e.gateway.sandbox.repositories.join(', ')} (orgs.${e.gateway.name}.sandbox)`,
      ]
    : []),
];

export const organizationItems: Record<string, ItemAnswerer> = {
  'access-route-decided': { severity: 'high', answer: routeDecided },
  'data-path-diagrammed': { severity: 'medium', answer: diagrammed },
  'audit-logging-operational': { severity: 'high', answer: auditLogging },
  'usage-scopes-documented': attested(
    'whether usage scopes and input rules are documented',
    'usage-scopes-documented',
    (e) => [
      ...keysLine(e),
      ...(e.gateway
        ? [
            `guard: secrets ${e.gateway.guard.secrets}, personal data ${e.gateway.guard.pii}; budgets ${e.gateway.budgets ? 'set' : 'none'}; rate limits ${e.gateway.rateLimits ? 'set' : 'none'}`,
          ]
        : []),
    ],
  ),
  'adoption-approved': {
    ...attested('an approval by security or legal', 'adoption-approved', () => []),
    severity: 'high',
  },
  'approved-route': { severity: 'high', answer: approvedRouteInUse },
  'usage-permissions': attested(
    'which repositories each member may use Claude Code in',
    'usage-permissions',
    repositoriesLine,
  ),
  'input-restrictions': { severity: 'high', answer: inputRestrictions },
  'audit-trail': { severity: 'high', answer: auditTrail },
  'training-exclusion-verified': { severity: 'high', answer: trainingExclusion },
};
