/** Building findings: stable fingerprints and severity ranking. */
import { createHash } from 'node:crypto';
import type { Finding, Severity } from './types.js';

export const SEVERITIES: readonly Severity[] = ['high', 'medium', 'low', 'info'];

/** Higher is worse: high 3, medium 2, low 1, info 0. */
export function severityRank(severity: Severity): number {
  return 3 - SEVERITIES.indexOf(severity);
}

/** A short stable hash of the parts (a secret goes in only through `digest`, never in clear). */
export function fingerprintOf(...parts: (string | number | undefined)[]): string {
  return createHash('sha256')
    .update(parts.map((p) => String(p ?? '')).join('\u0000'))
    .digest('hex')
    .slice(0, 24);
}

/** A one-way digest of a secret value, to tell two secrets apart without keeping either. */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/** A finding whose fingerprint is derived from its id, file and the extra `key` parts. */
export function finding(
  fields: Omit<Finding, 'fingerprint'>,
  ...key: (string | number | undefined)[]
): Finding {
  return { ...fields, fingerprint: fingerprintOf(fields.id, fields.file, ...key) };
}

/** Sorts worst first, then by file and line, so output is stable. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.id.localeCompare(b.id) ||
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      a.fingerprint.localeCompare(b.fingerprint),
  );
}

/** True when some finding is at or above `threshold` (`none` never). */
export function reaches(findings: Finding[], threshold: Severity | 'none'): boolean {
  if (threshold === 'none') return false;
  return findings.some((f) => severityRank(f.severity) >= severityRank(threshold));
}
