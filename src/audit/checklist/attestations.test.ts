import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adminLogEntry,
  appendAttestation,
  attestationDigest,
  ATTESTED,
  matchAdminLog,
  parseAttestations,
} from './attestations.js';

const ITEMS = ['adoption-approved', 'zdr-enabled-per-organization'];

describe('the attestations file', () => {
  it('reads entries; answer defaults to yes; dates stay the text written', () => {
    const got = parseAttestations(
      'attestations:\n  - item: adoption-approved\n    by: ciso@acme.example\n    date: 2026-11-30\n    note: SEC-142\n  - { item: zdr-enabled-per-organization, answer: no, by: a, date: "2026-10-01", org: acme }\n',
      'a.yaml',
      ITEMS,
    );
    assert.deepEqual(got, [
      {
        item: 'adoption-approved',
        answer: 'yes',
        by: 'ciso@acme.example',
        date: '2026-11-30',
        note: 'SEC-142',
      },
      { item: 'zdr-enabled-per-organization', answer: 'no', by: 'a', date: '2026-10-01', org: 'acme' },
    ]);
    assert.deepEqual(parseAttestations('', 'empty.yaml', ITEMS), []);
  });

  it('names the file and every bad key', () => {
    assert.throws(
      () =>
        parseAttestations(
          'attestations:\n  - { item: approved, by: a, date: 2026-02-30 }\n  - { item: adoption-approved, date: 2026-01-01, colour: red }\n',
          'a.yaml',
          ITEMS,
        ),
      {
        message: [
          'a.yaml: invalid attestations',
          '  attestations.0.item: unknown item "approved"; expected one of adoption-approved, zdr-enabled-per-organization',
          '  attestations.0.date: expected an ISO date like 2025-10-08, got "2026-02-30" (February 2026 has 28 days)',
          '  attestations.1.by: expected who attests (a name or e-mail)',
          '  attestations.1.colour: unknown field',
        ].join('\n'),
      },
    );
    assert.throws(
      () => parseAttestations('attestations: [', 'b.yaml', ITEMS),
      /^Error: b\.yaml: not valid YAML: /,
    );
  });

  it('appends an entry, keeping what the file already says (comments included)', () => {
    const first = appendAttestation(undefined, {
      item: 'adoption-approved',
      answer: 'yes',
      by: 'a',
      date: '2026-11-30',
    });
    assert.match(first, /^# Attestations for `sluice checklist`/);
    const edited = `${first}# kept comment\n`;
    const second = appendAttestation(edited, {
      item: 'zdr-enabled-per-organization',
      answer: 'yes',
      by: 'b',
      date: '2026-12-01',
      org: 'acme',
    });
    assert.match(second, /# kept comment/);
    assert.deepEqual(
      parseAttestations(second, 'x.yaml', ITEMS).map((a) => [a.item, a.by, a.org]),
      [
        ['adoption-approved', 'a', undefined],
        ['zdr-enabled-per-organization', 'b', 'acme'],
      ],
    );
  });

  it('finds each entry in the admin log by the digest of its content', () => {
    const a = { item: 'adoption-approved', answer: 'yes' as const, by: 'a', date: '2026-11-30' };
    const { target, details } = adminLogEntry(a, 'f.yaml');
    assert.equal(target, 'adoption-approved');
    assert.equal(details.digest, attestationDigest(a));
    const log = [{ seq: 7, action: ATTESTED, details }];
    assert.equal(matchAdminLog([a], log)[0]?.adminLogSeq, 7);
    assert.equal(
      matchAdminLog([{ ...a, note: 'changed' }], log)[0]?.adminLogSeq,
      undefined,
      'an edited entry is new',
    );
  });
});
