/**
 * Stages bedrockClient and vertexClient: a request in Amazon Bedrock's or Google Vertex AI's
 * format (Claude Code with CLAUDE_CODE_USE_BEDROCK or CLAUDE_CODE_USE_VERTEX and its base URL at
 * Sluice) put in the Messages API's terms, so that the stages after it (read, route, limits, the
 * guard, forward, audit) see what they see for any client. The model comes from the path, the
 * betas from the body (Bedrock) or the header, and a Bedrock client gets its answer back as
 * Bedrock's binary event stream.
 */
import { errors } from '../../errors/catalog.js';
import type { AnswerEncoder, RequestContext } from '../context.js';
import type { Stage } from '../pipeline.js';
import { betasOf } from '../upstreams/adapter.js';
import { bedrockException, EVENTSTREAM, SseToBedrock } from '../upstreams/eventstream.js';
import { anthropicModelId } from '../upstreams/models.js';
import { fromCloudBody } from '../upstreams/translate.js';
import { readBody } from './read.js';

/** The Bedrock stream exception a gateway error stands for. */
const EXCEPTION: Record<string, string> = {
  rate_limit_error: 'throttlingException',
  overloaded_error: 'serviceUnavailableException',
  timeout_error: 'modelTimeoutException',
  invalid_request_error: 'validationException',
};

/** The answer of a streaming Bedrock-format request, as Bedrock's event stream. */
export function bedrockAnswer(): AnswerEncoder {
  const frames = new SseToBedrock();
  return {
    streamType: EVENTSTREAM,
    push: (sse) => frames.push(sse),
    end: () => frames.end(),
    error: (e) => Buffer.from(bedrockException(EXCEPTION[e.type] ?? 'internalServerException', e.message)),
  };
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw errors.notMessages(`the model in the path is not a valid URL segment: ${segment.slice(0, 100)}`);
  }
}

/** Reads the cloud-format body and puts the request in the Messages API's terms on `ctx`. */
async function normalise(
  ctx: RequestContext,
  target: { path: string; model: string | null; stream: boolean },
): Promise<void> {
  const raw = await readBody(ctx.req, ctx.config.server.maxBodyBytes);
  let translated;
  try {
    translated = fromCloudBody(raw, target.model, target.stream);
  } catch (err) {
    throw errors.malformedJson((err as Error).message);
  }
  const betas = [...new Set([...betasOf(ctx.req.headers), ...translated.betas])];
  ctx.body = translated.body;
  ctx.call = {
    path: target.path,
    headers: {
      ...ctx.req.headers,
      'anthropic-version': ctx.req.headers['anthropic-version'] ?? '2023-06-01',
      ...(betas.length ? { 'anthropic-beta': betas.join(',') } : {}),
    },
  };
}

/** `/model/{modelId}/invoke` and `/model/{modelId}/invoke-with-response-stream`. */
export const bedrockClient: Stage = async (ctx) => {
  const [, , segment = '', operation] = ctx.path.split('/');
  const stream = operation === 'invoke-with-response-stream';
  await normalise(ctx, { path: '/v1/messages', model: anthropicModelId(decoded(segment)), stream });
  if (stream) ctx.answerAs = bedrockAnswer();
};

/** `…/publishers/anthropic/models/{model}:rawPredict`, `:streamRawPredict`, and `count-tokens:rawPredict`. */
export const vertexClient: Stage = async (ctx) => {
  const last = ctx.path.slice(ctx.path.lastIndexOf('/') + 1);
  const [segment = '', method] = last.split(':');
  if (segment === 'count-tokens')
    return normalise(ctx, { path: '/v1/messages/count_tokens', model: null, stream: false });
  const stream = method === 'streamRawPredict';
  await normalise(ctx, { path: '/v1/messages', model: anthropicModelId(decoded(segment)), stream });
};
