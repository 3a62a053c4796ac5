/**
 * Stage authenticate: the caller's Sluice key, from `x-api-key` or `Authorization: Bearer`, or a
 * Sluice-issued access token of company sign-in (src/signin), verified with the signing keys.
 */
import type { IncomingMessage } from 'node:http';
import { errors } from '../../errors/catalog.js';
import type { Verified } from '../../signin/service.js';
import { looksLikeJwt, type SignedIn } from '../../signin/tokens.js';
import type { KeyRecord } from '../../store/types.js';
import type { KeyLookup } from '../../control/keys.js';
import type { Stage } from '../pipeline.js';

/** The key a request presents, if any. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return (Array.isArray(header) ? header[0] : header) ?? bearer;
}

/** A signed-in person as the stages after this one know callers: a key of their session, with their groups. */
function sessionKey(who: SignedIn): KeyRecord {
  return {
    id: who.sessionId,
    org: who.org,
    user: who.email || who.subject,
    role: who.role,
    hash: '',
    prefix: 'signin',
    createdAt: '',
    revokedAt: null,
    expiresAt: new Date(who.expiresAt * 1000).toISOString(),
    // The IdP's groups: those declared under orgs.<org>.groups bring their budgets and model lists.
    ...(who.groups.length ? { groups: [...who.groups] } : {}),
  };
}

export function authenticate(
  lookup: (presented: string) => Promise<KeyLookup>,
  verifySignedIn: ((token: string) => Promise<Verified>) | null = null,
): Stage {
  return async (ctx) => {
    const presented = presentedKey(ctx.req);
    if (!presented) throw errors.missingKey();
    if (verifySignedIn && looksLikeJwt(presented)) {
      const v = await verifySignedIn(presented);
      if (!v.ok) throw errors.signinEnded(v.reason);
      ctx.identity = v.who;
      ctx.key = sessionKey(v.who);
    } else {
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
      ctx.key = found.live;
    }
    Object.assign(ctx.record, { org: ctx.key.org, user: ctx.key.user, keyId: ctx.key.id });
  };
}
