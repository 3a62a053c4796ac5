/** Stage authenticate: the caller's Sluice key, from `x-api-key` or `Authorization: Bearer`. */
import type { IncomingMessage } from 'node:http';
import { errors } from '../../errors/catalog.js';
import type { KeyRecord } from '../../store/types.js';
import type { Stage } from '../pipeline.js';

/** The key a request presents, if any. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return (Array.isArray(header) ? header[0] : header) ?? bearer;
}

export function authenticate(findKey: (presented: string) => Promise<KeyRecord | undefined>): Stage {
  return async (ctx) => {
    const presented = presentedKey(ctx.req);
    if (!presented) throw errors.missingKey();
    const key = await findKey(presented);
    if (!key) throw errors.badKey();
    ctx.key = key;
    Object.assign(ctx.record, { org: key.org, user: key.user, keyId: key.id });
  };
}
