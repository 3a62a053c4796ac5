/** The shape of a catalog rule: when it applies (data, not code), what it does, and where it comes from. */
import type {
  Audience,
  Destination,
  FeatureId,
  Flow,
  FlowId,
  Plan,
  Profile,
  Provider,
  Source,
  TrainingUse,
} from './types.js';

/** The consumer training choice in force for the session being evaluated. */
export type TrainingState = 'on' | 'off' | 'unset';

/** Yes/no facts the engine derives from a profile before any rule runs. */
export type Flag =
  | 'zdr'
  | 'partnerProgram'
  | 'hasMcpServers'
  /** The session started before the training setting changed and was not resumed since. */
  | 'sessionKeepsEarlierChoice'
  /** A CLAUDE_CODE_USE_* variable picks a different provider than the profile names. */
  | 'providerFromEnv'
  | 'multipleProvidersInEnv'
  /** The cloud provider in effect has its CLAUDE_CODE_USE_* variable set to 1 (true). */
  | 'providerVariableSet'
  /** The profile names a cloud provider whose CLAUDE_CODE_USE_* is set to a value that is not true ("0"). */
  | 'providerVariableOff'
  /** `settings.cleanupPeriodDays` is present but not an integer >= 1. */
  | 'cleanupPeriodInvalid'
  /** The profile records a consumer training choice (`trainingOptIn`). */
  | 'trainingChoiceGiven'
  /** The profile records when the training setting changed, or the choice before it. */
  | 'trainingHistoryGiven'
  /** `trainingOptInBefore` or `session` is given without `trainingSettingChangedAt`, which they need. */
  | 'trainingHistoryIncomplete';

/** Every listed part must hold; an empty condition always holds. */
export interface Condition {
  plans?: Plan[];
  /** The effective provider (CLAUDE_CODE_USE_* in env wins over `profile.provider`). */
  providers?: Provider[];
  training?: TrainingState[];
  flags?: Partial<Record<Flag, boolean>>;
  /** Any of these variables has a non-empty value ("0" and "false" count: these opt out on any value). */
  envSet?: string[];
  /** Any of these variables is a standard true boolean (not "", "0", "false", "no", "off"). */
  envTruthy?: string[];
  /** Any of these variables is set to a value that reads as false ("0", "false", "no", "off"). */
  envFalsyLooking?: string[];
  any?: Condition[];
  not?: Condition;
}

/** A retention period read from a Claude Code setting, with the documented default. */
export interface SettingValue {
  setting: string;
  default: number;
}

export interface FlowPatch {
  enabled?: boolean;
  destination?: Destination;
  trainingUse?: TrainingUse;
  /** `unstated`: no source gives a period for this setup (shown as unstated, with a warning). */
  retentionDays?: number | null | 'unstated' | SettingValue;
  /** What the flow carries; `{mcpServers}` expands to the configured server names. */
  data?: string[];
  encryption?: Partial<Flow['encryption']>;
  /** Take these fields from another flow once every rule has run (cloud sessions follow inference). */
  sameAs?: { flow: FlowId; fields: ('trainingUse' | 'retentionDays')[] };
}

export type Effect =
  /** `assumed`: the note is an assumption (labelled, and listed among the result's assumptions). */
  | { flow: FlowId; set?: FlowPatch; note: string; assumed?: true }
  | { feature: FeatureId; reason: string }
  | { warning: string; message: string }
  | { assumption: string; message: string }
  | { info: string; message: string }
  | { check: string; question: string; audience: Audience };

/** Client versions a rule holds for: `from` inclusive, `until` exclusive (Claude Code versions, x.y.z). */
export interface ClientRange {
  from?: string;
  until?: string;
}

/** What a rule's worked example must produce; only the listed parts are checked. */
export interface Expectation {
  flows?: Partial<
    Record<FlowId, Partial<Pick<Flow, 'enabled' | 'destination' | 'trainingUse' | 'retentionDays'>>>
  >;
  disabledFeatures?: FeatureId[];
  warnings?: string[];
  assumptions?: string[];
  notes?: string[];
  checks?: string[];
}

export interface Rule {
  /** Stable kebab-case id, printed with every decision it takes part in. */
  id: string;
  summary: string;
  when: Condition;
  /** Inclusive ISO date from which the rule holds. */
  validFrom?: string;
  /** Exclusive ISO date until which the rule holds. */
  validUntil?: string;
  /** The client versions a source vouches for; without it the rule holds for every version. */
  clients?: ClientRange;
  effects: Effect[];
  sources: Source[];
  /** Ids of the seed statements the rule implements (`catalog/seed-statements.txt`). */
  statements?: string[];
  /** A profile the rule applies to, and what evaluating it at `at` must give. */
  example: { profile: Profile; at: string; expect: Expectation };
}
