import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SluiceError } from '../../errors/catalog.js';
import { openStore } from '../../store/index.js';
import { AuditJournal } from '../../store/journal.js';
import { authorizedContext } from '../testing/context.js';
import { journal } from './journal.js';

const dir = await mkdtemp(join(tmpdir(), 'sluice-journal-stage-'));
after(() => rm(dir, { recursive: true, force: true }));

describe('stage journal', () => {
  it('begins the request in the journal; one that cannot write refuses it with 503 and why', async () => {
    const store = await openStore(`sqlite:${join(dir, 's.db')}`, dir);
    const j = await AuditJournal.open({
      dir: join(dir, 'j'),
      store,
      pid: 1,
      isAlive: () => false,
      onError: () => undefined,
    });
    const ok = authorizedContext();
    journal(j)(ok);
    await rm(join(dir, 'j'), { recursive: true, force: true });
    const refused = authorizedContext();
    assert.throws(
      () => journal(j)(refused),
      (e: SluiceError) =>
        e.code === 'store_unavailable' &&
        e.status === 503 &&
        /^Sluice could not make this request's audit record durable \(the audit journal's folder .* was removed; restart the gateway to begin a new one\), so nothing was sent\./.test(
          e.message,
        ),
    );
    await j.close();
    await store.close();
  });
});
