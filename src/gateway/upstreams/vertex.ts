/**
 * Google Vertex AI's rawPredict and streamRawPredict (and count-tokens). The model goes in the
 * path, the API version in the body; betas stay in the `anthropic-beta` header. The bearer token
 * comes from google-auth-library (google-token.ts). Its answers are the Messages API's own
 * (server-sent events or JSON), so they pass as they are.
 */
import type { UpstreamConfig } from '../../control/config.js';
import { errors, type CloudUpstream } from '../../errors/catalog.js';
import {
  jsonAnswer,
  passedHeaders,
  type ModelCall,
  type RawAnswer,
  type UpstreamAdapter,
} from './adapter.js';
import { passedCloudAnswer, scrub } from './cloud-errors.js';
import { googleTokens } from './google-token.js';
import { modelList } from './model-list.js';
import { upstreamModelId } from './models.js';
import { toVertexBody } from './translate.js';

type VertexConfig = Extract<UpstreamConfig, { provider: 'vertex' }>;

/** The regional endpoint, as Google's SDKs pick it. */
export function vertexBaseUrl(region: string): string {
  if (region === 'global') return 'https://aiplatform.googleapis.com/v1';
  if (region === 'us' || region === 'eu') return `https://aiplatform.${region}.rep.googleapis.com/v1`;
  return `https://${region}-aiplatform.googleapis.com/v1`;
}

export function vertexAdapter(
  name: string,
  up: VertexConfig,
  tokens: () => Promise<string> = googleTokens(up.credentials),
): UpstreamAdapter {
  const base = new URL(up.baseUrl ?? vertexBaseUrl(up.region));
  const prefix = `${base.pathname.replace(/\/$/, '')}/projects/${encodeURIComponent(up.project)}/locations/${encodeURIComponent(up.region)}/publishers/anthropic/models`;
  const cloud: CloudUpstream = { name, cloud: 'Google Vertex AI', host: base.host };

  async function bearer(): Promise<string> {
    try {
      return `Bearer ${await tokens()}`;
    } catch (err) {
      throw errors.cloudCredentials(cloud, `no Google access token: ${scrub((err as Error).message)}`);
    }
  }

  return {
    name,
    provider: 'vertex',
    origin: base.origin,
    host: base.host,
    timeoutMs: up.timeoutMs,
    modelTable: `upstreams.${name}.models`,
    modelId: (model) => upstreamModelId('vertex', up.models, model),
    local: (call) =>
      call.operation === 'models' ? jsonAnswer(cloud, 200, modelList('vertex', up.models)) : null,
    prepare: async (call) => {
      const counting = call.operation === 'count_tokens';
      const id = call.modelId ?? '';
      const method = counting
        ? 'count-tokens:rawPredict'
        : `${encodeURIComponent(id).replace(/%40/g, '@')}:${call.stream ? 'streamRawPredict' : 'rawPredict'}`;
      return {
        method: 'POST',
        path: `${prefix}/${method}`,
        headers: {
          ...passedHeaders(call.headers),
          'content-type': 'application/json',
          authorization: await bearer(),
        },
        body: toVertexBody(call.body ?? Buffer.from('{}'), counting ? id : null),
      };
    },
    answer: (raw: RawAnswer, call: ModelCall) => passedCloudAnswer(cloud, raw, call),
  };
}
