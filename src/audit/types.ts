/** The audit's vocabulary: a machine to read, the settings layers found on it, and the findings. */
import type { Detection } from '../guard/types.js';
import type { ExplainResult, Profile } from '../policy/types.js';

export type Severity = 'high' | 'medium' | 'low' | 'info';

/** Highest first, as the client ranks them. The command line (`--settings`) sits between managed and local. */
export type SettingsScope = 'managed' | 'local' | 'project' | 'user';

/** Where an effective value came from: a settings file, or the process environment. */
export interface Origin {
  scope: SettingsScope | 'process';
  file: string;
}

/** The machine to read: every path and the environment come in from outside, so tests build fixture homes. */
export interface Machine {
  home: string;
  project: string;
  /** The managed-settings directory, or a `managed-settings.json` file inside it. */
  managed: string;
  /** The process environment as the client would see it. */
  env: Record<string, string | undefined>;
  now: Date;
  /** Honour `CLAUDE_CONFIG_DIR` from `env` (false when the caller chose the home explicitly). */
  useConfigDirEnv?: boolean;
}

/** The files Claude Code reads on `Machine`, resolved. */
export interface MachinePaths {
  /** `~/.claude` or `$CLAUDE_CONFIG_DIR`. */
  configDir: string;
  /** `~/.claude.json` (global config: user- and local-scope MCP servers). */
  globalConfig: string;
  userSettings: string;
  projectSettings: string;
  localSettings: string;
  projectMcp: string;
  managedDir: string;
  managedSettings: string;
  managedDropIns: string;
  managedMcp: string;
  transcripts: string;
  history: string;
  telemetry: string;
}

/** One settings file that parsed to a JSON object. */
export interface SettingsLayer {
  scope: SettingsScope;
  file: string;
  settings: Record<string, unknown>;
}

export interface ListItem {
  value: unknown;
  origin: Origin;
}

/** The merged settings, with the file behind every effective key. */
export interface EffectiveSettings {
  values: Record<string, unknown>;
  /** Dot path of every scalar (or whole-value list) -> the file that set it. */
  origins: Record<string, Origin>;
  /** Dot path of every merged list -> its items, each with the file that added it. */
  lists: Record<string, ListItem[]>;
}

export interface EffectiveEnvVar {
  value: string;
  origin: Origin;
}

export type McpScope = 'managed' | 'local' | 'project' | 'user';

export interface McpServer {
  name: string;
  scope: McpScope;
  file: string;
  transport: 'stdio' | 'http' | 'sse' | 'unknown';
  command?: string;
  args?: string[];
  url?: string;
  /** False when the client would not start it (shadowed, denied, not allowlisted, managed-mcp.json exclusive). */
  active: boolean;
  inactiveReason?: string;
  /** The entry as written (may hold secrets: redact before printing). */
  config: Record<string, unknown>;
}

export interface Finding {
  /** Stable kind id, for example `secret-in-transcript`; SARIF ruleId. */
  id: string;
  severity: Severity;
  message: string;
  file?: string;
  line?: number;
  fix: string;
  /** Stable across runs for the same problem in the same place (hash; never derived from a secret in clear). */
  fingerprint: string;
  /** The detector that fired, for content findings. */
  rule?: string;
}

/** What the guard gives the audit: scanning and masking. Injected so the core stays testable. */
export interface Inspector {
  scan(text: string, options?: { kinds?: ('secret' | 'pii')[] }): Detection[];
  mask(value: string): string;
}

/** The policy engine bound to its catalog. */
export type Evaluator = (profile: Profile, at: string) => ExplainResult;

export interface AuditDeps {
  inspector: Inspector;
  evaluate: Evaluator;
}

export interface ProfileFlags {
  plan?: Profile['plan'];
  /** The Claude Code version; without it, the version of the installed client found. */
  clientVersion?: string;
  zdr?: boolean;
  trainingOptIn?: boolean;
  developmentPartnerProgram?: boolean;
}
