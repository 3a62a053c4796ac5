/**
 * Amazon Bedrock's InvokeModel and InvokeModelWithResponseStream (and CountTokens). The model goes
 * in the path, the API version and the betas in the body; the request is signed with SigV4 by
 * the AWS SDK's signer, with credentials from the AWS SDK's default chain (environment, shared
 * profile, web identity, container and instance roles), or carries a Bedrock API key as a bearer
 * token. The binary event stream answer is turned into Messages API server-sent events.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { UpstreamConfig } from '../../control/config.js';
import { errors, type CloudUpstream } from '../../errors/catalog.js';
import type { UpstreamAnswer } from '../context.js';
import {
  betasOf,
  jsonAnswer,
  readSmall,
  type ModelCall,
  type PreparedRequest,
  type RawAnswer,
  type UpstreamAdapter,
} from './adapter.js';
import { cloudAnswerHeaders, scrub } from './cloud-errors.js';
import { bedrockToSse, EVENTSTREAM } from './eventstream.js';
import { modelList } from './model-list.js';
import { upstreamModelId } from './models.js';
import { withPings } from './pings.js';
import { toBedrockBody } from './translate.js';

export type BedrockConfig = Extract<UpstreamConfig, { provider: 'bedrock' }>;

export interface BedrockDeps {
  /** The AWS credentials to sign with (the AWS SDK's default chain unless a test gives its own). */
  credentials: AwsCredentialIdentityProvider;
  /** How long the translated stream may be silent before a `ping` event is written. */
  pingEveryMs: number;
}

function operationPath(call: ModelCall, id: string): string {
  const model = `/model/${encodeURIComponent(id)}`;
  if (call.operation === 'count_tokens') return `${model}/count-tokens`;
  return `${model}/${call.stream ? 'invoke-with-response-stream' : 'invoke'}`;
}

/** As a Buffer: the signer hashes bytes much faster than a string it must encode first. */
function bedrockBody(call: ModelCall): Buffer {
  const body = toBedrockBody(call.body ?? Buffer.from('{}'), betasOf(call.headers));
  if (call.operation !== 'count_tokens') return body;
  return Buffer.from(JSON.stringify({ input: { invokeModel: { body: body.toString('base64') } } }));
}

export function bedrockAdapter(name: string, up: BedrockConfig, deps: BedrockDeps): UpstreamAdapter {
  const base = new URL(up.baseUrl ?? `https://bedrock-runtime.${up.region}.amazonaws.com`);
  const prefix = base.pathname.replace(/\/$/, '');
  const cloud: CloudUpstream = { name, cloud: 'Amazon Bedrock', host: base.host };
  const signer = new SignatureV4({
    service: 'bedrock',
    region: up.region,
    credentials: deps.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });

  async function authorize(req: PreparedRequest): Promise<PreparedRequest> {
    if (up.apiKey) return { ...req, headers: { ...req.headers, authorization: `Bearer ${up.apiKey}` } };
    try {
      const signed = await signer.sign({
        method: req.method,
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path: req.path,
        query: {},
        headers: req.headers,
        body: req.body ?? undefined,
      });
      return { ...req, headers: signed.headers };
    } catch (err) {
      // The chain's messages name where it looked, never a secret; scrubbed all the same.
      throw errors.cloudCredentials(cloud, `no usable AWS credentials: ${scrub((err as Error).message)}`);
    }
  }

  return {
    name,
    provider: 'bedrock',
    origin: base.origin,
    host: base.host,
    timeoutMs: up.timeoutMs,
    modelTable: `upstreams.${name}.models`,
    modelId: (model) => upstreamModelId('bedrock', up.models, model),
    local: (call) =>
      call.operation === 'models' ? jsonAnswer(cloud, 200, modelList('bedrock', up.models)) : null,
    prepare: (call) =>
      authorize({
        method: 'POST',
        path: prefix + operationPath(call, call.modelId ?? ''),
        headers: {
          host: base.host,
          'content-type': 'application/json',
          accept: call.stream && call.operation === 'messages' ? EVENTSTREAM : 'application/json',
        },
        body: bedrockBody(call),
      }),
    answer: async (raw: RawAnswer, call: ModelCall): Promise<UpstreamAnswer> => {
      const headers = await cloudAnswerHeaders(cloud, raw, call);
      if (call.operation === 'count_tokens') {
        const counted = JSON.parse(await readSmall(raw.body)) as { inputTokens?: number };
        return jsonAnswer(cloud, 200, { input_tokens: counted.inputTokens ?? 0 });
      }
      const streamed = String(headers['content-type'] ?? '').includes(EVENTSTREAM);
      const kept: Record<string, string | string[]> = {};
      if (headers['x-amzn-requestid']) kept['request-id'] = headers['x-amzn-requestid'];
      return {
        name,
        host: base.host,
        status: raw.status,
        headers: { ...kept, 'content-type': streamed ? 'text/event-stream' : 'application/json' },
        body: streamed ? withPings(bedrockToSse(raw.body), deps.pingEveryMs) : raw.body,
        sse: streamed,
      };
    },
  };
}
