/** The readiness checklist's vocabulary: what Sluice can see, and each item's answer. */
import type { Audience, Check, Profile, Source } from '../../policy/types.js';
import type { AuditReport } from '../audit.js';
import type { EgressLine } from '../egress.js';
import type { Severity } from '../types.js';

export type Status = 'pass' | 'fail' | 'cannot-tell';

/** The gateway's view of one org, from `sluice.yaml` (only the fields the checklist reads). */
export interface GatewayOrg {
  /** The configuration file it came from. */
  file: string;
  name: string;
  /** `server.host:server.port` of the gateway (port 0: chosen at start, so unknown here). */
  listen: { host: string; port: number };
  upstreamProvider: string;
  zdr: boolean;
  contentLogging: 'none' | 'redacted' | 'full';
  guard: { secrets: string; pii: string };
  profile?: Profile;
  /** The egress proxy is configured for the gateway. */
  egressProxy: boolean;
  budgets: boolean;
  rateLimits: boolean;
  /** The org's sandboxed sessions (`sluice sandbox run`), when its sandbox policy is enabled. */
  sandbox?: { repositories: string[]; egressAllow: string[] };
}

/** What the gateway's store holds about the org. */
export interface StoreView {
  /** Requests recorded for the org, with the users and models seen and the latest time. */
  requests: number;
  users: string[];
  models: string[];
  latest: string | null;
  /** Records that name the user who sent them. */
  attributed: number;
  keys: { user: string; role: string; revoked: boolean }[];
  /** Egress proxy records of the org in the period read. */
  egress: EgressLine[];
  adminLog: { entries: number; intact: boolean; brokenAt?: number; reason?: string };
}

/** An attestation as written in the attestations file. */
export interface Attestation {
  item: string;
  answer: 'yes' | 'no';
  by: string;
  date: string;
  note?: string;
  /** For one organization only (zdr-enabled-per-organization, ...); without it, every org. */
  org?: string;
}

/** An attestation with its place in the admin log, when it has been recorded there. */
export interface RecordedAttestation extends Attestation {
  digest: string;
  adminLogSeq?: number;
}

export interface ChecklistEvidence {
  now: Date;
  /** This machine, read as `sluice audit` reads it. */
  audit: AuditReport;
  gateway?: GatewayOrg;
  store?: StoreView;
  attestations: RecordedAttestation[];
  /** Where attestations are kept, for the "how to record" hints. */
  attestationsFile: string;
  /** An attestation older than this many days is due for review (the route article: six months). */
  maxAgeDays: number;
}

export interface Answer {
  status: Status;
  evidence: string[];
  /** What to do when it fails or cannot be told. */
  fix?: string;
}

/** How one readiness item is answered: its weight, and a pure function of the evidence. */
export interface ItemAnswerer {
  severity: Severity;
  /** Only an attestation can answer it (a form sent, a contract signed, an approval given). */
  attestationOnly?: boolean;
  answer(e: ChecklistEvidence, check: Check): Answer;
}

export interface ChecklistItem {
  id: string;
  question: string;
  audience: Audience;
  severity: Severity;
  status: Status;
  evidence: string[];
  fix?: string;
  /** The attestation that answered or completed it. */
  attestation?: RecordedAttestation;
  sources: Source[];
  rules: string[];
}

export interface ChecklistReport {
  at: string;
  org?: string;
  plan: string;
  /** The Claude Code version the answers were evaluated for (null: not known, see assumptions). */
  client: string | null;
  /** Assumptions the answers rest on (the machine audit's and the policy engine's). */
  assumptions: string[];
  items: ChecklistItem[];
}
