/**
 * The attestations file: what an admin states about items Sluice cannot see (a form sent, an
 * approval given), one entry each, validated by a declared schema. Entries are recorded in the admin
 * log (by the CLI, which holds the store) and matched back to it by a digest of their content.
 */
import { createHash } from 'node:crypto';
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import { z } from 'zod';
import { dateProblem } from '../../policy/facts.js';
import type { Attestation, RecordedAttestation } from './types.js';

export class AttestationsError extends Error {}

/** The admin-log action an attestation is recorded under. */
export const ATTESTED = 'checklist.attested';

const HEADER = `# Attestations for \`sluice checklist\`: answers to readiness items Sluice cannot see.
# Each entry: item (a checklist item id), answer (yes or no), by (who), date (YYYY-MM-DD),
# note (where the evidence is), org (optional: one organization of sluice.yaml).
# Entries are recorded in the admin log when first read with --config; an entry older than
# 180 days (--max-age) is due for review.
`;

function schemaFor(items: readonly string[]) {
  const entry = z.strictObject({
    item: z.string().refine((v) => items.includes(v), {
      error: (iss) => `unknown item ${JSON.stringify(iss.input)}; expected one of ${items.join(', ')}`,
    }),
    answer: z.enum(['yes', 'no'], { error: 'expected yes or no' }).default('yes'),
    by: z.string({ error: 'expected who attests (a name or e-mail)' }).min(1, 'expected who attests'),
    date: z
      .string({ error: 'expected a date like 2026-11-30 (quote it in YAML)' })
      .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && dateProblem(v) === undefined, {
        error: (iss) =>
          dateProblem(String(iss.input)) ?? `expected a date like 2026-11-30, got "${String(iss.input)}"`,
      }),
    note: z.string().min(1).optional(),
    org: z.string().min(1).optional(),
  });
  return z.strictObject({ attestations: z.array(entry).default([]) });
}

/** Parses the attestations file's text; throws AttestationsError naming the file and each bad key. */
export function parseAttestations(text: string, file: string, items: readonly string[]): Attestation[] {
  const doc = parseDocument(text, { version: '1.2' });
  if (doc.errors.length)
    throw new AttestationsError(`${file}: not valid YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
  // YAML 1.2 core schema: dates stay strings, so 2026-11-30 is the text written.
  const raw: unknown = doc.toJS() ?? {};
  const parsed = schemaFor(items).safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((i) => {
      const at = i.path.join('.');
      if (i.code === 'unrecognized_keys')
        return i.keys.map((k) => `  ${at ? `${at}.` : ''}${k}: unknown field`);
      return [`  ${at || '(root)'}: ${i.message}`];
    });
    throw new AttestationsError(`${file}: invalid attestations\n${lines.join('\n')}`);
  }
  return parsed.data.attestations.map((a) => ({ ...a }) as Attestation);
}

/** A digest of an entry's content, so the admin log entry of an attestation can be found again. */
export function attestationDigest(a: Attestation): string {
  const canonical = JSON.stringify([a.item, a.answer, a.by, a.date, a.note ?? '', a.org ?? '']);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}

/** The admin log's record of an attestation: what `recordAdmin` gets as target and details. */
export function adminLogEntry(
  a: Attestation,
  file: string,
): { target: string; details: Record<string, unknown> } {
  return {
    target: a.org ? `${a.item}@${a.org}` : a.item,
    details: {
      item: a.item,
      answer: a.answer,
      by: a.by,
      date: a.date,
      ...(a.note ? { note: a.note } : {}),
      ...(a.org ? { org: a.org } : {}),
      file,
      digest: attestationDigest(a),
    },
  };
}

/** Each attestation with the admin log entry that records it, if one does. */
export function matchAdminLog(
  attestations: Attestation[],
  log: readonly { seq: number; action: string; details: Record<string, unknown> }[],
): RecordedAttestation[] {
  return attestations.map((a) => {
    const digest = attestationDigest(a);
    const entry = log.find((e) => e.action === ATTESTED && e.details.digest === digest);
    return { ...a, digest, ...(entry ? { adminLogSeq: entry.seq } : {}) };
  });
}

/** The file's text with `a` appended (a new file gets a header that explains it); comments are kept. */
export function appendAttestation(text: string | undefined, a: Attestation): string {
  const doc = parseDocument(text && text.trim() ? text : `${HEADER}attestations: []\n`, { version: '1.2' });
  if (!isMap(doc.contents))
    throw new AttestationsError('the attestations file must hold a mapping with `attestations:`');
  let list = doc.get('attestations');
  if (!isSeq(list)) {
    list = new YAMLSeq();
    doc.set('attestations', list);
  }
  const entry = Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined));
  (list as YAMLSeq).add(doc.createNode(entry));
  (list as YAMLSeq).flow = false;
  return doc.toString();
}
