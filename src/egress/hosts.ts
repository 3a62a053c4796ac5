/**
 * The hosts Claude Code contacts, from its network requirements (shared/reference/
 * claude-code-network.md §1.8, §3.1, §5): what each is used for, which data flow of the policy
 * model it carries (src/policy/types.ts FlowId, plus `client` for what the client needs to run at
 * all and `packages` for package registries), and the preset of policy.ts that lists it. One table
 * for both, so a preset's hosts and their flows cannot drift apart.
 */
import type { Destination, FlowId } from '../policy/types.js';

export type HostFlow = FlowId | 'client' | 'packages';

export interface HostUse {
  pattern: string;
  flows: HostFlow[];
  use: string;
  /** For inference hosts: the route (the engine's inference destination) they serve. */
  destination?: Destination;
  /** The preset of policy.ts that lists the host. */
  preset?: string;
}

export const HOSTS: HostUse[] = [
  {
    pattern: 'api.anthropic.com:443',
    preset: 'anthropic-api',
    flows: ['inference', 'telemetry'],
    destination: 'anthropic',
    use: 'the Claude API; also WebFetch domain check, feature flags, event logging, managed settings',
  },
  {
    pattern: 'statsig.anthropic.com:443',
    preset: 'claude-code-nonessential',
    flows: ['telemetry'],
    use: 'Statsig metrics (older clients)',
  },
  {
    pattern: 'sentry.io:443',
    preset: 'claude-code-nonessential',
    flows: ['error-reporting'],
    use: 'Sentry error reports (older clients)',
  },
  {
    pattern: '*.sentry.io:443',
    preset: 'claude-code-nonessential',
    flows: ['error-reporting'],
    use: 'Sentry error reports (older clients)',
  },
  {
    pattern: 'http-intake.logs.us5.datadoghq.com:443',
    preset: 'claude-code-nonessential',
    flows: ['telemetry'],
    use: 'operational telemetry (DISABLE_TELEMETRY, DO_NOT_TRACK)',
  },
  {
    pattern: 'browser-intake-us5-datadoghq.com:443',
    preset: 'claude-code-nonessential',
    flows: ['error-reporting'],
    use: 'error reports (DISABLE_ERROR_REPORTING)',
  },
  { pattern: 'claude.ai:443', preset: 'claude-code-essential', flows: ['client'], use: 'claude.ai sign-in' },
  {
    pattern: 'claude.com:443',
    preset: 'claude-code-essential',
    flows: ['client'],
    use: 'sign-in redirect; docs lookups',
  },
  {
    pattern: 'platform.claude.com:443',
    preset: 'claude-code-essential',
    flows: ['client'],
    use: 'Console sign-in, OAuth tokens',
  },
  {
    pattern: 'downloads.claude.ai:443',
    preset: 'claude-code-essential',
    flows: ['client'],
    use: 'installer, auto-updater, plugin executables',
  },
  {
    pattern: 'storage.googleapis.com:443',
    preset: 'claude-code-essential',
    flows: ['client'],
    use: 'plugin metadata; legacy updater',
  },
  { pattern: 'code.claude.com:443', flows: ['client'], use: 'docs lookups' },
  { pattern: 'raw.githubusercontent.com:443', flows: ['client'], use: '/release-notes changelog' },
  {
    pattern: 'mcp-proxy.anthropic.com:443',
    flows: ['third-party'],
    use: 'claude.ai MCP connectors (ENABLE_CLAUDEAI_MCP_SERVERS=false)',
  },
  {
    pattern: '*.frame.claudeusercontent.com:443',
    flows: ['client'],
    use: 'Artifact reads (CLAUDE_CODE_DISABLE_ARTIFACT)',
  },
  { pattern: 'bridge.claudeusercontent.com:443', flows: ['client'], use: 'Claude in Chrome bridge' },
  {
    pattern: 'bedrock-runtime.*.amazonaws.com:443',
    preset: 'bedrock',
    flows: ['inference'],
    destination: 'aws-bedrock',
    use: 'Amazon Bedrock inference',
  },
  {
    pattern: 'bedrock.*.amazonaws.com:443',
    preset: 'bedrock',
    flows: ['inference'],
    destination: 'aws-bedrock',
    use: 'Amazon Bedrock model listing',
  },
  {
    pattern: '*-aiplatform.googleapis.com:443',
    preset: 'vertex',
    flows: ['inference'],
    destination: 'google-vertex',
    use: 'Vertex AI inference (regional)',
  },
  {
    pattern: 'aiplatform.googleapis.com:443',
    preset: 'vertex',
    flows: ['inference'],
    destination: 'google-vertex',
    use: 'Vertex AI inference (global)',
  },
  {
    pattern: 'aiplatform.*.rep.googleapis.com:443',
    preset: 'vertex',
    flows: ['inference'],
    destination: 'google-vertex',
    use: 'Vertex AI inference (multi-region)',
  },
  {
    pattern: 'oauth2.googleapis.com:443',
    preset: 'vertex',
    flows: ['client'],
    use: 'Google sign-in for Vertex',
  },
  {
    pattern: '*.services.ai.azure.com:443',
    preset: 'foundry',
    flows: ['inference'],
    destination: 'microsoft-foundry',
    use: 'Microsoft Foundry inference',
  },
  {
    pattern: 'login.microsoftonline.com:443',
    preset: 'foundry',
    flows: ['client'],
    use: 'Entra ID sign-in for Foundry',
  },
  { pattern: 'package-registries', flows: ['packages'], use: 'package registry' },
];
