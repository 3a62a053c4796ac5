/** The policy model's vocabulary: what a setup is (Profile) and where its data goes (Flow). */

export type Plan = 'free' | 'pro' | 'max' | 'team' | 'enterprise' | 'api' | 'gov';
export type Provider = 'anthropic' | 'bedrock' | 'vertex' | 'foundry';

/** A setup to evaluate. Everything but `plan`/`provider` is optional; the engine states its assumptions. */
export interface Profile {
  plan: Plan;
  provider: Provider;
  /** Zero data retention enabled for the organization. */
  zdr?: boolean;
  /** Consumer "help improve Claude" setting; undefined = the user has not chosen. */
  trainingOptIn?: boolean;
  /** When the training setting was last changed (ISO date). */
  trainingSettingChangedAt?: string;
  /** The training setting before `trainingSettingChangedAt`; defaults to the opposite of `trainingOptIn`. */
  trainingOptInBefore?: boolean;
  session?: { startedAt?: string; resumedAt?: string };
  developmentPartnerProgram?: boolean;
  /** Effective environment variables (name -> value), as the client sees them. */
  env?: Record<string, string>;
  /** Effective Claude Code settings (for example `cleanupPeriodDays`). */
  settings?: Record<string, unknown>;
  /** Names of configured MCP servers. */
  mcpServers?: string[];
  /** ISO date to evaluate at; the CLI fills in today. */
  at?: string;
}

export type FlowId =
  | 'inference'
  | 'telemetry'
  | 'error-reporting'
  | 'feedback'
  | 'session-survey'
  | 'local-transcripts'
  | 'analytics'
  | 'third-party'
  | 'cloud-session';

export type Destination =
  | 'anthropic'
  | 'aws-bedrock'
  | 'google-vertex'
  | 'microsoft-foundry'
  | 'statsig'
  | 'sentry'
  | 'local-disk'
  | 'third-party';

export type FeatureId = 'claude-code-on-the-web' | 'remote-sessions' | 'feedback';

/** Where a rule comes from: a seed file and section, and the public page the seed names. */
export interface Source {
  seed: string;
  section: string;
  url: string;
}

export interface Flow {
  id: FlowId;
  enabled: boolean;
  destination: Destination;
  trainingUse: 'yes' | 'no';
  /** Days kept by the receiving party; 0 for none; null where another party's policy governs or no source gives a period. */
  retentionDays: number | null;
  /** What the flow carries (empty when disabled). */
  data: string[];
  encryption: { inTransit: string; atRest: string };
  sources: Source[];
  /** Ids of the catalog rules that decided this flow. */
  rules: string[];
  /** Why, in a sentence or two, for people. */
  notes: string[];
}

export interface Warning {
  id: string;
  message: string;
  sources: Source[];
  rules: string[];
}

export interface DisabledFeature {
  id: FeatureId;
  reason: string;
  sources: Source[];
  rules: string[];
}

export interface ExplainResult {
  profile: Profile;
  at: string;
  flows: Flow[];
  disabledFeatures: DisabledFeature[];
  warnings: Warning[];
}
