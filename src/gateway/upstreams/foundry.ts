/**
 * Microsoft Foundry's Anthropic endpoint (`https://RESOURCE.services.ai.azure.com/anthropic`): the
 * Messages API as it is, with Foundry's model names, and an API key or a Microsoft Entra ID token
 * from @azure/identity (the default Azure credential chain unless one is given).
 */
import type { TokenCredential } from '@azure/identity';
import type { UpstreamConfig } from '../../control/config.js';
import { errors, type CloudUpstream } from '../../errors/catalog.js';
import { passedHeaders, type ModelCall, type RawAnswer, type UpstreamAdapter } from './adapter.js';
import { bodyFor } from './anthropic.js';
import { passedCloudAnswer, scrub } from './cloud-errors.js';
import { upstreamModelId } from './models.js';

type FoundryConfig = Extract<UpstreamConfig, { provider: 'foundry' }>;

/** The scope of Entra ID tokens for Foundry (as Anthropic's Foundry SDK asks for them). */
export const FOUNDRY_SCOPE = 'https://ai.azure.com/.default';

export function foundryAdapter(
  name: string,
  up: FoundryConfig,
  entra: () => TokenCredential,
): UpstreamAdapter {
  const base = new URL(up.baseUrl ?? `https://${up.resource}.services.ai.azure.com/anthropic`);
  const prefix = base.pathname.replace(/\/$/, '');
  const cloud: CloudUpstream = { name, cloud: 'Microsoft Foundry', host: base.host };
  let credential: TokenCredential | null = null;

  async function auth(): Promise<Record<string, string>> {
    if (up.apiKey) return { 'x-api-key': up.apiKey };
    try {
      credential ??= entra();
      const token = await credential.getToken(FOUNDRY_SCOPE);
      if (!token) throw new Error('the credential chain gave no token');
      return { authorization: `Bearer ${token.token}` };
    } catch (err) {
      throw errors.cloudCredentials(cloud, `no Microsoft Entra ID token: ${scrub((err as Error).message)}`);
    }
  }

  return {
    name,
    provider: 'foundry',
    origin: base.origin,
    host: base.host,
    timeoutMs: up.timeoutMs,
    modelTable: `upstreams.${name}.models`,
    modelId: (model) => upstreamModelId('foundry', up.models, model),
    prepare: async (call) => ({
      method: call.operation === 'models' ? 'GET' : 'POST',
      path: prefix + call.path,
      headers: { ...passedHeaders(call.headers), ...(await auth()) },
      body: bodyFor(call),
    }),
    answer: (raw: RawAnswer, call: ModelCall) => passedCloudAnswer(cloud, raw, call),
  };
}
