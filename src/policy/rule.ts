/** The shape of a catalog rule: when it applies (data, not code), what it does, and where it comes from. */
import type { Destination, FeatureId, Flow, FlowId, Plan, Profile, Provider, Source } from './types.js';

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
  /** `settings.cleanupPeriodDays` is present but not an integer >= 1. */
  | 'cleanupPeriodInvalid';

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
  trainingUse?: Flow['trainingUse'];
  retentionDays?: number | null | SettingValue;
  /** What the flow carries; `{mcpServers}` expands to the configured server names. */
  data?: string[];
  encryption?: Partial<Flow['encryption']>;
  /** Take these fields from another flow once every rule has run (cloud sessions follow inference). */
  sameAs?: { flow: FlowId; fields: ('trainingUse' | 'retentionDays')[] };
}

export type Effect =
  | { flow: FlowId; set?: FlowPatch; note: string }
  | { feature: FeatureId; reason: string }
  | { warning: string; message: string };

/** What a rule's worked example must produce; only the listed parts are checked. */
export interface Expectation {
  flows?: Partial<
    Record<FlowId, Partial<Pick<Flow, 'enabled' | 'destination' | 'trainingUse' | 'retentionDays'>>>
  >;
  disabledFeatures?: FeatureId[];
  warnings?: string[];
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
  effects: Effect[];
  sources: Source[];
  /** A profile the rule applies to, and what evaluating it at `at` must give. */
  example: { profile: Profile; at: string; expect: Expectation };
}
