/** The route article's checklist for individual developers (section 09) and its opt-out form (section 05). */
import type { Flow } from '../../policy/types.js';
import type { Answer, ChecklistEvidence, ItemAnswerer } from './types.js';

export const attestHint = (e: ChecklistEvidence, id: string, what = 'the answer'): string =>
  `Record ${what} with \`sluice checklist attest ${id} --by <you> --note "<where it is written down>"\` (kept in ${e.attestationsFile} and the admin log).`;

const inference = (e: ChecklistEvidence): Flow =>
  e.audit.explain.flows.find((f) => f.id === 'inference') as Flow;

const planKnown = (e: ChecklistEvidence): boolean => !e.audit.assumptions.some((a) => a.startsWith('plan'));

const CONSUMER = ['free', 'pro', 'max'];

function trainingPolicyVerified(e: ChecklistEvidence): Answer {
  const f = inference(e);
  const { plan } = e.audit.profile;
  if (!planKnown(e))
    return {
      status: 'cannot-tell',
      evidence: [`the plan is not known (${e.audit.assumptions.find((a) => a.startsWith('plan'))})`],
      fix: 'Give the plan: --plan, or --config with the org’s profile.',
    };
  if (f.trainingUse === 'unstated')
    return {
      status: 'cannot-tell',
      evidence: [
        `no source states whether ${plan} via ${f.destination} is trained on (${f.notes.join(' ')})`,
      ],
      fix: 'Ask the provider, and record the answer.',
    };
  return {
    status: 'pass',
    evidence: [
      `Sluice checked plan ${plan} via ${f.destination} against the official pages: training ${f.trainingUse} (rules ${f.rules.join(', ')}; sluice explain shows the passages)`,
    ],
  };
}

function optOutEnabled(e: ChecklistEvidence): Answer {
  const f = inference(e);
  const p = e.audit.profile;
  const consumer = CONSUMER.includes(p.plan) && p.provider === 'anthropic';
  if (consumer && p.trainingOptIn === undefined)
    return {
      status: 'cannot-tell',
      evidence: [`plan ${p.plan}: the "help improve Claude" setting is not recorded`],
      fix: 'Check claude.ai/settings/data-privacy-controls and pass --no-training-opt-in (or --training-opt-in).',
    };
  if (f.trainingUse === 'no')
    return {
      status: 'pass',
      evidence: [
        consumer
          ? `"help improve Claude" is off for plan ${p.plan}`
          : `plan ${p.plan} via ${f.destination}: not trained on (rules ${f.rules.join(', ')}); the Development Partner Program is ${p.developmentPartnerProgram ? 'on but has no effect here' : 'off'}`,
      ],
    };
  if (f.trainingUse === 'yes')
    return {
      status: 'fail',
      evidence: [`inference is trained on: ${f.notes.join(' ')}`],
      fix: consumer
        ? 'Turn "help improve Claude" off at claude.ai/settings/data-privacy-controls (it applies to new or resumed sessions).'
        : 'Leave the Development Partner Program, or keep material you must not share out of this organization.',
    };
  return { status: 'cannot-tell', evidence: ['no source states the training use of this route'] };
}

function dangerousOperations(e: ChecklistEvidence): Answer {
  const bypass = e.audit.findings.filter((f) => f.id === 'bypass-permissions-allowed');
  const rules = ['permissions.deny', 'permissions.ask'].flatMap((k) =>
    (e.audit.settings.lists[k] ?? []).map((i) => `${k.slice(12)} ${String(i.value)} (${i.origin.scope})`),
  );
  if (bypass.length)
    return {
      status: 'fail',
      evidence: bypass.map((f) => f.message),
      fix: bypass[0]?.fix ?? 'Set permissions.disableBypassPermissionsMode to "disable" in managed settings.',
    };
  if (!rules.length)
    return {
      status: 'fail',
      evidence: ['no permissions.deny or permissions.ask rule in any settings file'],
      fix: 'Deny or ask for the operations you do not delegate (for example "Bash(git commit:*)", "Bash(git push:*)", destructive database commands) in managed settings; sluice managed-settings writes a starting point.',
    };
  return {
    status: 'pass',
    evidence: [
      'bypass mode is disabled in managed settings',
      `${rules.length} rules: ${rules.slice(0, 6).join('; ')}`,
    ],
  };
}

function noCredentials(e: ChecklistEvidence): Answer {
  const bad = e.audit.findings.filter((f) => ['secrets-readable', 'secret-in-transcript'].includes(f.id));
  const guard = e.gateway?.guard.secrets;
  const evidence = [
    ...bad.map((f) => `${f.id}: ${f.message}`),
    ...(guard ? [`the gateway's guard for secrets is "${guard}" in ${e.gateway?.file}`] : []),
  ];
  if (bad.length || (guard && !['redact', 'block'].includes(guard)))
    return {
      status: 'fail',
      evidence,
      fix: 'Deny Read(./.env) and similar in managed settings, set guard.secrets to redact or block for the org, and scrub transcripts that hold secrets (sluice scrub).',
    };
  return {
    status: 'pass',
    evidence: [
      'permissions.deny keeps .env-style files from the Read tool; no secret found in local transcripts',
      ...evidence,
    ],
  };
}

export const individualItems: Record<string, ItemAnswerer> = {
  'training-policy-verified': { severity: 'medium', answer: trainingPolicyVerified },
  'opt-out-enabled': { severity: 'high', answer: optOutEnabled },
  'opt-out-request-form': {
    severity: 'info',
    attestationOnly: true,
    answer: (e) => ({
      status: 'cannot-tell',
      evidence: ['a form sent to Anthropic leaves no trace Sluice can see'],
      fix: attestHint(e, 'opt-out-request-form', 'that the form was sent (or that it is not needed)'),
    }),
  },
  'dangerous-operations-restricted': { severity: 'high', answer: dangerousOperations },
  'no-credentials-in-inputs': { severity: 'high', answer: noCredentials },
};
