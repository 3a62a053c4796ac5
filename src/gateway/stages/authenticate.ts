/** Stage authenticate: the caller's Sluice key, from `x-api-key` or `Authorization: Bearer`. */
import type { IncomingMessage } from 'node:http';
import { errors } from '../../errors/catalog.js';
import type { KeyLookup } from '../../control/keys.js';
import type { Stage } from '../pipeline.js';

/** The key a request presents, if any. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return (Array.isArray(header) ? header[0] : header) ?? bearer;
}

export function authenticate(lookup: (presented: string) => Promise<KeyLookup>): Stage {
  return async (ctx) => {
    const presented = presentedKey(ctx.req);
    if (!presented) throw errors.missingKey();
    const found = await lookup(presented);
    if ('refused' in found) {
      // A known key's refusal is recorded under its owner, so `sluice logs --user` shows it.
      if (found.refused !== 'unknown') {
        const { org, user, id, revokedAt, expiresAt } = found.record;
        Object.assign(ctx.record, { org, user, keyId: id });
        throw found.refused === 'revoked'
          ? errors.revokedKey(revokedAt ?? '')
          : errors.expiredKey(expiresAt ?? '');
      }
      throw errors.badKey();
    }
    const key = found.live;
    ctx.key = key;
    Object.assign(ctx.record, { org: key.org, user: key.user, keyId: key.id });
  };
}
