/** The Anthropic API (and anything that speaks it as it is): the request passes with the upstream's key. */
import type { UpstreamConfig } from '../../control/config.js';
import type { UpstreamAnswer } from '../context.js';
import {
  answerHeaders,
  passedHeaders,
  type ModelCall,
  type RawAnswer,
  type UpstreamAdapter,
} from './adapter.js';
import { upstreamModelId } from './models.js';
import { withModel } from './translate.js';

type AnthropicConfig = Extract<UpstreamConfig, { provider: 'anthropic' }>;

/** The Messages body for an id the table maps to another one (unchanged bytes otherwise). */
export function bodyFor(call: ModelCall): Buffer | null {
  if (!call.body || !call.modelId || call.operation === 'models') return call.body;
  return withModel(call.body, call.model, call.modelId);
}

export function anthropicAdapter(name: string, up: AnthropicConfig): UpstreamAdapter {
  const base = new URL(up.baseUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  return {
    name,
    provider: 'anthropic',
    origin: base.origin,
    host: base.host,
    timeoutMs: up.timeoutMs,
    modelTable: `upstreams.${name}.models`,
    modelId: (model) => upstreamModelId('anthropic', up.models, model),
    prepare: async (call) => ({
      method: call.operation === 'models' ? 'GET' : 'POST',
      path: prefix + call.path,
      headers: { ...passedHeaders(call.headers), 'x-api-key': up.apiKey },
      body: bodyFor(call),
    }),
    answer: async (raw: RawAnswer): Promise<UpstreamAnswer> => ({
      name,
      host: base.host,
      status: raw.status,
      headers: answerHeaders(raw.headers),
      body: raw.body,
      sse: String(raw.headers['content-type'] ?? '').includes('text/event-stream'),
    }),
  };
}
