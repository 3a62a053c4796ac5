/** The policy model's vocabulary: what a setup is (Profile) and where its data goes (Flow). */

export type Plan = 'free' | 'pro' | 'max' | 'team' | 'enterprise' | 'api' | 'gov';
export type Provider = 'anthropic' | 'bedrock' | 'vertex' | 'foundry';

/** A setup to evaluate. Everything but `plan`/`provider` is optional; the engine states its assumptions. */
export interface Profile {
  plan: Plan;
  /** The route the setup names; the client takes it only with the matching CLAUDE_CODE_USE_* set to 1. */
  provider: Provider;
  /** The Claude Code version (`claude --version`), for rules that differ by client version. */
  clientVersion?: string;
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
  | 'thumbs-feedback'
  | 'session-survey'
  | 'local-transcripts'
  | 'analytics'
  | 'third-party'
  | 'cloud-session'
  | 'install-update'
  | 'console-auth';

export type Destination =
  | 'anthropic'
  | 'aws-bedrock'
  | 'google-vertex'
  | 'microsoft-foundry'
  | 'statsig'
  | 'sentry'
  | 'datadog'
  | 'npm-registry'
  | 'local-disk'
  | 'third-party';

export type FeatureId = 'claude-code-on-the-web' | 'remote-sessions' | 'feedback';

/** Whether the receiving party may train on a flow; `unstated` where no source says. */
export type TrainingUse = 'yes' | 'no' | 'unstated';

/** Fields of a flow that no source states for this setup (shown as unstated, never guessed). */
export type UnstatedField = 'trainingUse' | 'retentionDays';

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
  trainingUse: TrainingUse;
  /** Days kept by the receiving party; 0 for none; null where another party's policy governs or no source gives a period. */
  retentionDays: number | null;
  /** The fields no source states (a null retention listed here is unstated, not another party's). */
  unstated: UnstatedField[];
  /** What the flow carries (empty when disabled). */
  data: string[];
  encryption: { inTransit: string; atRest: string };
  sources: Source[];
  /** Ids of the catalog rules that decided this flow (rules a later rule overrode are left out). */
  rules: string[];
  /** Why, in a sentence or two, for people; assumptions start with "Assumed:". */
  notes: string[];
}

/** A warning, an assumption or a note of the result: a message with the rules and sources behind it. */
export interface Remark {
  id: string;
  message: string;
  sources: Source[];
  rules: string[];
}

export type Warning = Remark;

export interface DisabledFeature {
  id: FeatureId;
  reason: string;
  sources: Source[];
  rules: string[];
}

/** Who a readiness item is for: the route article's two checklists, its corporate checkpoints, the ZDR page. */
export type Audience = 'individual' | 'team' | 'corporate' | 'zdr';

/** A readiness item the sources ask of this setup (`sluice checklist` answers it from what it can see). */
export interface Check {
  id: string;
  question: string;
  audience: Audience;
  sources: Source[];
  rules: string[];
}

export interface ExplainResult {
  profile: Profile;
  at: string;
  /** The client version evaluated; `assumed` names the version range assumed when none was given. */
  client: { version: string | null; assumed?: string };
  flows: Flow[];
  disabledFeatures: DisabledFeature[];
  warnings: Warning[];
  /** What the answer had to assume because no source or profile field says. */
  assumptions: Remark[];
  /** Further points the sources make about this setup (not warnings). */
  notes: Remark[];
  checks: Check[];
}
