/**
 * Stage read: the request body, bounded by `server.maxBodyBytes`, read as a Messages request in one
 * pass (`readMessagesBody`) that resumes from the conversation's previous body, so a resent history
 * is not read again. The bytes themselves are forwarded unchanged unless the guard redacts.
 */
import type { IncomingMessage } from 'node:http';
import { errors, SluiceError } from '../../errors/catalog.js';
import { BodyError, type BodyMemory, readMessagesBody } from '../body.js';
import { ClientClosed, type Stage } from '../pipeline.js';

/** The whole body, refused past `limit` bytes; a client that goes away mid-upload ends the request. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw errors.tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw errors.tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (err) {
    if (req.destroyed && !(err instanceof SluiceError)) throw new ClientClosed();
    throw err;
  }
  return Buffer.concat(chunks, size);
}

export function read(memory: BodyMemory): Stage {
  return async (ctx) => {
    // A client-format stage may have read the body already, and put it in the Messages API's form.
    const body = ctx.body ?? (await readBody(ctx.req, ctx.config.server.maxBodyBytes));
    // The conversation: the key and Claude Code's session id.
    const conversation = `${ctx.key?.id ?? ''}\u0000${ctx.record.sessionId ?? ''}`;
    try {
      ctx.message = readMessagesBody(body, ctx.route.generates === true, memory.get(conversation));
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      throw err.malformed ? errors.malformedJson(err.message) : errors.notMessages(err.message);
    }
    memory.set(conversation, ctx.message.resume);
    ctx.body = body;
    ctx.record.model = ctx.message.model;
    ctx.record.stream = ctx.message.stream;
  };
}
