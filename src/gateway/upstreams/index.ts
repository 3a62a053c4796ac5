/** One adapter per configured upstream, built once for the gateway's life (they cache credentials). */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { SluiceConfig } from '../../control/config.js';
import type { UpstreamAdapter } from './adapter.js';
import { anthropicAdapter } from './anthropic.js';
import { bedrockAdapter, type BedrockConfig } from './bedrock.js';
import { foundryAdapter } from './foundry.js';
import { vertexAdapter } from './vertex.js';

export interface CloudCredentials {
  /** AWS credentials of a Bedrock upstream (default: the AWS SDK's default chain, with its `profile`). */
  aws?: (up: BedrockConfig) => AwsCredentialIdentityProvider;
  /** Entra ID tokens of a Foundry upstream without an API key (default: DefaultAzureCredential). */
  azure?: () => TokenCredential;
  /** How long a translated stream may be silent before a ping is written (default 10 s). */
  pingEveryMs?: number;
}

export function buildAdapters(
  config: SluiceConfig,
  creds: CloudCredentials = {},
): Map<string, UpstreamAdapter> {
  const adapters = new Map<string, UpstreamAdapter>();
  for (const [name, up] of Object.entries(config.upstreams)) {
    if (up.provider === 'anthropic') adapters.set(name, anthropicAdapter(name, up));
    else if (up.provider === 'bedrock') {
      // The chain is memoized: credentials are looked up once and refreshed before they expire.
      const credentials = creds.aws?.(up) ?? defaultProvider(up.profile ? { profile: up.profile } : {});
      adapters.set(name, bedrockAdapter(name, up, { credentials, pingEveryMs: creds.pingEveryMs ?? 10_000 }));
    } else if (up.provider === 'vertex') adapters.set(name, vertexAdapter(name, up));
    else adapters.set(name, foundryAdapter(name, up, creds.azure ?? (() => new DefaultAzureCredential())));
  }
  return adapters;
}

export type { UpstreamAdapter } from './adapter.js';
