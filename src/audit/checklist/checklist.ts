/**
 * `sluice checklist`: the readiness items the policy engine says apply to this setup (the route
 * article's checklists and checkpoints, the ZDR page's conditions), each answered from what Sluice
 * can see, then completed by the admin's attestations for what it cannot.
 */
import type { Check } from '../../policy/types.js';
import { severityRank } from '../finding.js';
import type { Severity } from '../types.js';
import { individualItems } from './individual.js';
import { organizationItems } from './organization.js';
import type {
  Answer,
  ChecklistEvidence,
  ChecklistItem,
  ChecklistReport,
  ItemAnswerer,
  RecordedAttestation,
} from './types.js';
import { zdrItems } from './zdr.js';

/** How each readiness item of the catalog is answered (the catalog's `check` effects name these ids). */
export const ITEMS: Record<string, ItemAnswerer> = { ...individualItems, ...organizationItems, ...zdrItems };

const DAY = 86_400_000;

/** The newest attestation of `item` that holds for the org being checked. */
function attestationFor(e: ChecklistEvidence, item: string): RecordedAttestation | undefined {
  return e.attestations
    .filter((a) => a.item === item && (!a.org || a.org === e.gateway?.name))
    .sort((a, b) => b.date.localeCompare(a.date))[0];
}

function describeAttestation(a: RecordedAttestation): string {
  const where = a.adminLogSeq ? `admin log entry ${a.adminLogSeq}` : 'not in an admin log (no --config)';
  return `attested "${a.answer}" by ${a.by} on ${a.date}${a.note ? `: ${a.note}` : ''} (${where})`;
}

/** Evidence first; an attestation answers what evidence cannot tell, and never overrides a failure. */
function withAttestation(e: ChecklistEvidence, base: Answer, a: RecordedAttestation | undefined): Answer {
  if (!a) return base;
  const line = describeAttestation(a);
  const age = Math.floor((e.now.getTime() - Date.parse(a.date)) / DAY);
  if (age > e.maxAgeDays) {
    if (base.status === 'pass') return { ...base, evidence: [...base.evidence, `${line}; due for review`] };
    return {
      status: 'fail',
      evidence: [
        ...base.evidence,
        `${line}, ${age} days ago: older than ${e.maxAgeDays} days, due for review`,
      ],
      fix: 'Review the item again and record a new attestation; policies change with any update.',
    };
  }
  if (base.status !== 'cannot-tell') return { ...base, evidence: [...base.evidence, line] };
  return a.answer === 'yes'
    ? { status: 'pass', evidence: [...base.evidence, line] }
    : {
        status: 'fail',
        evidence: [...base.evidence, line],
        fix: base.fix ?? 'Act on it, then attest again.',
      };
}

function answerItem(e: ChecklistEvidence, check: Check): ChecklistItem {
  const def = ITEMS[check.id];
  const base: Answer = def
    ? def.answer(e, check)
    : { status: 'cannot-tell', evidence: ['Sluice has no way to answer this item yet'] };
  const attestation = attestationFor(e, check.id);
  const answer = withAttestation(e, base, attestation);
  return {
    id: check.id,
    question: check.question,
    audience: check.audience,
    severity: def?.severity ?? 'medium',
    status: answer.status,
    evidence: answer.evidence,
    ...(answer.status !== 'pass' && answer.fix ? { fix: answer.fix } : {}),
    ...(attestation ? { attestation } : {}),
    sources: check.sources,
    rules: check.rules,
  };
}

/** Answers every readiness item that applies to the audited setup. Pure: everything comes in `e`. */
export function runChecklist(e: ChecklistEvidence): ChecklistReport {
  const explain = e.audit.explain;
  return {
    at: e.now.toISOString(),
    ...(e.gateway ? { org: e.gateway.name } : {}),
    plan: e.audit.profile.plan,
    client: e.audit.client.version,
    assumptions: [...e.audit.assumptions, ...explain.assumptions.map((a) => `${a.id}: ${a.message}`)],
    items: explain.checks.map((c) => answerItem(e, c)),
  };
}

/** True when an item fails at or above `threshold` (with `strict`, an item that cannot be told counts too). */
export function failsAt(report: ChecklistReport, threshold: Severity | 'none', strict = false): boolean {
  if (threshold === 'none') return false;
  return report.items.some(
    (i) =>
      (i.status === 'fail' || (strict && i.status === 'cannot-tell')) &&
      severityRank(i.severity) >= severityRank(threshold),
  );
}
