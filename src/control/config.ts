/** `sluice.yaml`: the declarative configuration, validated by a declared schema. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { EgressPolicy } from '../egress/policy.js';
import { allowPatternError } from '../guard/allowlist.js';
import { detectionRules } from '../guard/rules/index.js';
import { profileSchema } from '../policy/profile.js';
import { publicKeyError } from './admin-log-key.js';
import { checkSignInOrgs, signinSchema } from './signin-config.js';
import { isUnder, urlProblem } from '../sandbox/repository.js';

const guardAction = z.enum(['off', 'log', 'redact', 'block']);
const PII_KINDS = detectionRules.filter((r) => r.kind === 'pii').map((r) => r.id);

/** Client model id -> the upstream's own id for it; adds to and overrides the shipped table. */
const modelTable = z.record(z.string().min(1), z.string().min(1)).default({});
/** Milliseconds to wait for the upstream's response headers, and between pieces of its body. */
const timeoutMs = z.number().int().positive().default(600_000);
const optionalSecret = z.string().min(1, 'must not be empty').optional();

const anthropicUpstream = z
  .object({
    provider: z.literal('anthropic'),
    baseUrl: z.string().url(),
    apiKey: z.string().min(1, 'must not be empty'),
    models: modelTable,
    timeoutMs,
  })
  .strict();

/**
 * A git forge whose token Sluice holds for sandboxed sessions (the token never enters a sandbox).
 * The token is named, not written: only `sluice sandbox run` reads it from its environment, so the
 * gateway process never holds a forge token.
 */
const forgeSchema = z
  .object({
    /** Where its repositories live: https://github.com, or https://git.example.com/group. */
    baseUrl: z.string().superRefine((url, ctx) => {
      const problem = urlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable'),
    /** Sent with the token as HTTP Basic: GitHub takes x-access-token, GitLab oauth2, Gitea any name. */
    username: z.string().min(1, 'must not be empty').default('x-access-token'),
  })
  .strict();

/** Variables Sluice sets inside a sandbox itself; a policy's `env` may not replace them. */
const SANDBOX_RESERVED_ENV =
  /^(ANTHROPIC_.*|CLAUDE_CODE_USE_.*|HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy|ALL_PROXY|all_proxy|HOME|PATH|USER|SHELL|TMPDIR|GIT_.*|SSH_.*|LD_.*|NODE_OPTIONS)$/;

const sandboxLimitsDefault = { cpus: 2, memoryMb: 4096, processes: 512, wallMinutes: 60, diskMb: 2048 };

/** Whether an org's people may run sandboxed sessions (`sluice sandbox run`), on what, and within what. */
const sandboxSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Repository URLs a session may clone and push its branch to; `…/*` allows every one under a path. */
    repositories: z
      .array(
        z.string().superRefine((url, ctx) => {
          const problem = urlProblem(url, true);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .min(1, 'list at least one repository URL the sandboxes may clone'),
    /** Hosts a session may reach through the egress proxy; nothing else leaves (deny wins). */
    egress: z
      .object({ allow: z.array(z.string()).default([]), deny: z.array(z.string()).default([]) })
      .strict()
      .default({ allow: [], deny: [] }),
    limits: z
      .object({
        /** CPU time, in cores (1.5 = one and a half). */
        cpus: z.number().positive().max(1024).default(sandboxLimitsDefault.cpus),
        memoryMb: z.number().int().min(256, 'at least 256').default(sandboxLimitsDefault.memoryMb),
        processes: z.number().int().min(32, 'at least 32').default(sandboxLimitsDefault.processes),
        /** The session is stopped, and its sandbox destroyed, after this many minutes. */
        wallMinutes: z.number().int().positive().max(1440).default(sandboxLimitsDefault.wallMinutes),
        /** Size of the sandbox's own file systems (clone, home, /tmp), each; they live in memory. */
        diskMb: z.number().int().min(64, 'at least 64').default(sandboxLimitsDefault.diskMb),
      })
      .strict()
      .default(sandboxLimitsDefault),
    /** How the client treats tool permissions inside (the sandbox is the boundary, so by default it does not ask). */
    permissionMode: z
      .enum(['bypassPermissions', 'acceptEdits', 'default', 'plan'])
      .default('bypassPermissions'),
    /** Extra environment inside the sandbox, fixed values only (nothing of the host's passes through). */
    env: z
      .record(z.string(), z.string())
      .default({})
      .superRefine((env, ctx) => {
        for (const name of Object.keys(env))
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
            ctx.addIssue({ code: 'custom', path: [name], message: 'not a variable name' });
          else if (SANDBOX_RESERVED_ENV.test(name))
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: 'Sluice sets this inside the sandbox itself; it cannot be overridden',
            });
      }),
  })
  .strict();

/** Amazon Bedrock: credentials from the AWS default chain, or a Bedrock API key (`apiKey`). */
const bedrockUpstream = z
  .object({
    provider: z.literal('bedrock'),
    region: z.string().regex(/^[a-z0-9-]+$/, 'expected an AWS region such as us-east-1'),
    /** Endpoint override, as the AWS SDKs allow; default https://bedrock-runtime.REGION.amazonaws.com. */
    baseUrl: z.string().url().optional(),
    /** A Bedrock API key (sent as a bearer token instead of a SigV4 signature). */
    apiKey: optionalSecret,
    /** A named profile of the shared AWS config files (default: AWS_PROFILE, then "default"). */
    profile: z.string().min(1).optional(),
    models: modelTable,
    timeoutMs,
  })
  .strict();

/** Google Vertex AI: a service-account key file, or Application Default Credentials. */
const vertexUpstream = z
  .object({
    provider: z.literal('vertex'),
    project: z.string().min(1),
    region: z.string().regex(/^[a-z0-9-]+$/, 'expected a Vertex AI region such as us-east5 or global'),
    baseUrl: z.string().url().optional(),
    /** Path of a service-account key file (relative to the configuration's folder). */
    credentials: z.string().min(1).optional(),
    models: modelTable,
    timeoutMs,
  })
  .strict();

/** Microsoft Foundry: its Anthropic endpoint, with an API key or an Entra ID token. */
const foundryUpstream = z
  .object({
    provider: z.literal('foundry'),
    baseUrl: z.string().url().optional(),
    /** The Foundry resource name: https://RESOURCE.services.ai.azure.com/anthropic. */
    resource: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/i, 'expected a resource name')
      .optional(),
    apiKey: optionalSecret,
    models: modelTable,
    timeoutMs,
  })
  .strict()
  .refine((u) => (u.baseUrl === undefined) !== (u.resource === undefined), {
    message: 'give one of baseUrl or resource',
  });

const upstreamSchema = z.discriminatedUnion('provider', [
  anthropicUpstream,
  bedrockUpstream,
  vertexUpstream,
  foundryUpstream,
]);

const money = z.number().positive();
const priceSchema = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cacheWrite: z.number().nonnegative(),
    cacheRead: z.number().nonnegative(),
  })
  .strict();
const spendLimits = z.object({ daily: money.optional(), monthly: money.optional() }).strict();

/**
 * A group of an org's users (`sluice keys create --group`, or IdP groups of signed-in people): a spend
 * limit, a model list, guard actions and content logging of its own.
 */
const groupSchema = z
  .object({
    /** USD the group's members may spend together, by UTC day and month. */
    budgets: spendLimits.default({}),
    /** The models the group's members may use (within the org's); every model the org allows when absent. */
    models: z.array(z.string().min(1)).min(1, 'list at least one model, or leave models out').optional(),
    /** The guard's actions for the group's members, in place of the org's (control/group-policy.ts). */
    guard: z.object({ secrets: guardAction.optional(), pii: guardAction.optional() }).strict().optional(),
    /** What is kept of the group's members' requests, in place of the org's; never anything under zdr. */
    contentLogging: z.enum(['none', 'redacted', 'full']).optional(),
  })
  .strict();

/** A group's name: letters, digits, `.`, `_` and `-`. */
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const orgSchema = z
  .object({
    /** One upstream's name, or an ordered list to fail over along. */
    upstream: z.union([z.string().min(1), z.array(z.string().min(1)).min(1, 'name at least one upstream')]),
    /** The models this org may use (client model ids); every model when absent. */
    models: z.array(z.string().min(1)).min(1, 'list at least one model, or leave models out').optional(),
    zdr: z.boolean().default(false),
    contentLogging: z.enum(['none', 'redacted', 'full']).default('none'),
    retentionDays: z.number().int().positive().default(30),
    guard: z
      .object({
        secrets: guardAction.default('redact'),
        pii: guardAction.default('log'),
        /** Per-kind PII switches (email, phone, ...); all on unless listed false. */
        piiKinds: z
          .record(z.string(), z.boolean())
          .default({})
          .superRefine((kinds, ctx) => {
            for (const id of Object.keys(kinds))
              if (!PII_KINDS.includes(id))
                ctx.addIssue({
                  code: 'custom',
                  path: [id],
                  message: `unknown personal-data kind; expected one of ${PII_KINDS.join(', ')}`,
                });
          }),
        /** Values that are not findings in this org: whole values, `*` for any run of characters. */
        allow: z
          .array(z.string())
          .default([])
          .superRefine((patterns, ctx) => {
            patterns.forEach((pattern, i) => {
              const error = allowPatternError(pattern);
              if (error) ctx.addIssue({ code: 'custom', path: [i], message: error });
            });
          }),
        /** Refuse (false, default) or forward unscanned (true) when the guard fails. */
        failOpen: z.boolean().default(false),
        /** Scan time budget for one request, milliseconds. */
        timeoutMs: z.number().int().positive().default(2_000),
      })
      .strict()
      .default({ secrets: 'redact', pii: 'log', piiKinds: {}, allow: [], failOpen: false, timeoutMs: 2_000 }),
    restore: z.boolean().default(false),
    /** USD spend limits, per user and for the whole org, by UTC day and month. */
    budgets: z.object({ perUser: spendLimits.optional(), org: spendLimits.optional() }).strict().default({}),
    rateLimits: z
      .object({
        perUser: z
          .object({
            requestsPerMinute: z.number().int().positive().optional(),
            tokensPerMinute: z.number().int().positive().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
    /** A model with no known price: charged at the dearest of its family (`dearest`), at this rate, or refused where the org has budgets. */
    unpricedModel: z.union([z.literal('dearest'), z.literal('refuse'), priceSchema]).default('dearest'),
    /** The org's setup as `sluice explain` reads it; decides the egress policy's defaults. */
    profile: profileSchema.optional(),
    /**
     * Hosts this org's clients may reach through the egress proxy (deny wins; unlisted is denied).
     * Added to what `profile` implies; without a profile, `allow` defaults to every host.
     */
    egress: z
      .object({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).default([]) })
      .strict()
      .optional(),
    /** How long records of blocked requests (metadata only) are kept, days. */
    flaggedRetentionDays: z.number().int().positive().default(730),
    /** Sandboxed sessions (`sluice sandbox run`); absent: not allowed. */
    sandbox: sandboxSchema.optional(),
    /** Groups of this org's users, by name: each with its own budgets and model list. */
    groups: z
      .record(
        z.string().regex(GROUP_NAME, 'a group name is letters, digits, ".", "_" and "-" (at most 64)'),
        groupSchema,
      )
      .optional(),
  })
  .strict();

const adminLogPublicKey = z.string().superRefine((text, ctx) => {
  const error = publicKeyError(text);
  if (error) ctx.addIssue({ code: 'custom', message: error });
});

/** The admin log's signed checkpoints (docs/admin-log.md). Relative paths are relative to this file. */
const adminLogSchema = z
  .object({
    /** Ed25519 private key (PKCS#8 PEM, 0600) that signs checkpoints; made when missing. Keep it off the store's host. */
    key: z.string().min(1).default('.sluice/admin-log.key'),
    /** The public key verify checks this gateway's checkpoints with; default: derived from `key`. */
    publicKey: adminLogPublicKey.optional(),
    /** Append-only file (0600) this process writes every checkpoint to. */
    checkpoints: z.string().min(1).default('.sluice/admin-log.checkpoints'),
    /** The name in each checkpoint; default: the host name. */
    signer: z.string().min(1).optional(),
    /** Also POST every checkpoint (JSON) here, retried with backoff. */
    webhook: z
      .object({
        url: z
          .string()
          .url()
          .refine((u) => /^https?:/i.test(u), 'expected an http:// or https:// URL'),
        headers: z.record(z.string(), z.string()).default({}),
        attempts: z.number().int().min(1).max(20).default(6),
      })
      .strict()
      .optional(),
    /** Other signers (gateways sharing this store, retired keys): their public keys and checkpoint files. */
    trust: z
      .array(z.object({ publicKey: adminLogPublicKey, checkpoints: z.string().min(1).optional() }).strict())
      .default([]),
  })
  .strict();

/** `budget:N`: a budget reached N % of its limit (1-100); `guard:block`: the guard blocked a request. */
const alertEvent = z
  .string()
  .regex(/^(budget:(100|[1-9]\d?)|guard:block)$/, 'expected budget:N (N from 1 to 100) or guard:block');

/** One alert webhook: where it goes, in which body shape, for which events. */
const alertSchema = z
  .object({
    url: z
      .string()
      .url()
      .refine((u) => /^https?:/i.test(u), 'expected an http:// or https:// URL'),
    /** `slack`: {"text": ...} for Slack-compatible incoming webhooks; `generic`: the event as JSON. */
    format: z.enum(['slack', 'generic']).default('generic'),
    on: z.array(alertEvent).min(1, 'list at least one event, such as budget:80 or guard:block'),
    headers: z.record(z.string(), z.string()).default({}),
    /** Tries before an alert is given up (logged), with backoff from one second. */
    attempts: z.number().int().min(1).max(20).default(6),
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8787),
        /** Largest request body accepted, bytes. */
        maxBodyBytes: z
          .number()
          .int()
          .positive()
          .default(32 * 1024 * 1024),
        /** A request's head must arrive within this, ms (a client that never finishes it is dropped). */
        headersTimeoutMs: z.number().int().positive().default(20_000),
        /** The whole request, body included, must arrive within this, ms (a trickled body is cut off). */
        requestTimeoutMs: z.number().int().positive().default(120_000),
        /** Open client connections at most; past it new connections are closed at once and logged. */
        maxConnections: z.number().int().positive().default(4096),
        /** Serve HTTPS with these PEM files (relative to this file); re-read on every reload. */
        tls: z
          .object({ cert: z.string().min(1), key: z.string().min(1) })
          .strict()
          .optional(),
        /** Also serve /metrics without a token on this loopback address (`127.0.0.1:9464`). */
        metricsListen: z
          .string()
          .regex(
            /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d{1,5}$/,
            'expected a loopback HOST:PORT such as 127.0.0.1:9464',
          )
          .optional(),
      })
      .strict()
      .prefault({}),
    storage: z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'expected sqlite:PATH or postgres://...')
      .default('sqlite:./.sluice/sluice.db'),
    upstreams: z.record(z.string(), upstreamSchema),
    /**
     * The local audit journal every record passes through before the store (src/store/journal.ts):
     * a request is forwarded only once it is begun there.
     */
    journal: z
      .object({
        /** Its folder, relative to the config file; one slot per running gateway inside. */
        dir: z.string().min(1).default('./.sluice/journal'),
        /** How often written lines are flushed to disk (fdatasync), ms: what power loss can take. */
        fsyncEveryMs: z.number().int().positive().default(200),
        /** Records the store refused, held for retry; past this the gateway refuses requests (503). */
        maxBacklogBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024),
      })
      .strict()
      .default({ dir: './.sluice/journal', fsyncEveryMs: 200, maxBacklogBytes: 64 * 1024 * 1024 }),
    /** The egress proxy (HTTPS_PROXY / HTTP_PROXY for clients); off unless configured. */
    egress: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8788),
        /** Idle tunnels and slow clients are closed after this many milliseconds. */
        idleTimeoutMs: z.number().int().positive().default(300_000),
        /** Client connections served at once; more are answered 503 egress_busy (docs/egress-hardening.md). */
        maxConnections: z.number().int().positive().max(100_000).default(256),
      })
      .strict()
      .optional(),
    /** Bearer tokens for /admin/v1 with the admin role over every org (keep them in the environment). */
    admin: z
      .object({ tokens: z.array(z.string().min(16, 'must be at least 16 characters')).default([]) })
      .strict()
      .default({ tokens: [] }),
    /**
     * How admission bounds a request's cost against budgets: its input is taken as one token per
     * `bytesPerToken` bytes of the body (1 bounds every text and image body; 2, the default, still
     * over-counts English, code and JSON, which run at about 3-4 bytes a token).
     */
    budgetAdmission: z
      .object({ bytesPerToken: z.number().positive().max(8).default(2) })
      .strict()
      .default({ bytesPerToken: 2 }),
    /** USD per million tokens, by model id or id prefix; adds to and overrides the shipped table. */
    prices: z.record(z.string(), priceSchema).default({}),
    /** Git forges whose tokens sandboxed sessions use through Sluice (each token in an environment variable). */
    forges: z.record(z.string(), forgeSchema).default({}),
    /** This host's side of sandboxed sessions. */
    sandbox: z
      .object({
        /** Host user and group the sandboxes run as when Sluice runs as root (never root itself). */
        uid: z.number().int().min(1, 'must not be 0 (root)').default(65534),
        gid: z.number().int().min(1, 'must not be 0 (root)').default(65534),
        /** Where kept transcripts go (relative to the config file), one folder per org. */
        transcripts: z.string().min(1).default('./.sluice/transcripts'),
      })
      .strict()
      .default({ uid: 65534, gid: 65534, transcripts: './.sluice/transcripts' }),
    orgs: z.record(z.string(), orgSchema),
    adminLog: adminLogSchema.prefault({}),
    /** Webhooks for budget thresholds and guard blocks (docs/operations.md, "Alerts"). */
    alerts: z.array(alertSchema).default([]),
    /** Company sign-in through the organisation's OpenID provider (docs/sign-in.md); off unless configured. */
    signin: signinSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.server.headersTimeoutMs > cfg.server.requestTimeoutMs)
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'headersTimeoutMs'],
        message: `must not be longer than server.requestTimeoutMs (${cfg.server.requestTimeoutMs})`,
      });
    checkSignInOrgs(cfg.signin, cfg.orgs, ctx);
    for (const [name, org] of Object.entries(cfg.orgs)) {
      if (org.sandbox) checkSandbox(cfg.forges, name, org.sandbox, ctx);
      for (const list of ['allow', 'deny'] as const)
        (org.egress?.[list] ?? []).forEach((entry, i) => {
          try {
            new EgressPolicy([entry], []);
          } catch (err) {
            ctx.addIssue({
              code: 'custom',
              path: ['orgs', name, 'egress', list, i],
              message: (err as Error).message,
            });
          }
        });
      const names = upstreamsOf(org);
      names.forEach((upstream, i) => {
        if (names.indexOf(upstream) !== i)
          ctx.addIssue({
            code: 'custom',
            path: ['orgs', name, 'upstream', i],
            message: `names upstream "${upstream}" twice`,
          });
        if (Object.hasOwn(cfg.upstreams, upstream)) return;
        ctx.addIssue({
          code: 'custom',
          path: ['orgs', name, 'upstream', ...(Array.isArray(org.upstream) ? [i] : [])],
          message: `names upstream "${upstream}", which is not defined under upstreams (have: ${Object.keys(cfg.upstreams).join(', ') || 'none'})`,
        });
      });
    }
  });

/** A sandbox policy's repositories each lie under exactly one forge, and its egress rules parse. */
function checkSandbox(
  forges: Record<string, z.infer<typeof forgeSchema>>,
  org: string,
  sandbox: z.infer<typeof sandboxSchema>,
  ctx: z.RefinementCtx,
): void {
  const path = ['orgs', org, 'sandbox'];
  sandbox.repositories.forEach((repo, i) => {
    if (urlProblem(repo, true)) return;
    const under = Object.entries(forges).filter(
      ([, f]) => !urlProblem(f.baseUrl) && isUnder(repo, f.baseUrl),
    );
    if (under.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'repositories', i],
        message: under.length
          ? `lies under several forges (${under.map(([n]) => n).join(', ')}); make their baseUrls distinct`
          : `lies under no forge; add its forge under forges: with a baseUrl and token (have: ${Object.keys(forges).join(', ') || 'none'})`,
      });
  });
  for (const list of ['allow', 'deny'] as const)
    sandbox.egress[list].forEach((entry, i) => {
      try {
        new EgressPolicy([entry], []);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [...path, 'egress', list, i], message: (err as Error).message });
      }
    });
}

/** The upstreams an org fails over along, in order (one name is a list of one). */
export function upstreamsOf(org: { upstream: string | string[] }): string[] {
  return typeof org.upstream === 'string' ? [org.upstream] : org.upstream;
}

export type SluiceConfig = z.infer<typeof configSchema>;
export type SandboxPolicy = NonNullable<OrgConfig['sandbox']>;
export type ForgeConfig = SluiceConfig['forges'][string];
export type OrgConfig = SluiceConfig['orgs'][string];
export type UpstreamConfig = SluiceConfig['upstreams'][string];
export type AdminLogConfig = SluiceConfig['adminLog'];
export type AlertConfig = SluiceConfig['alerts'][number];
export type { SignInConfig } from './signin-config.js';

/** A configuration problem, with the key path and what was expected. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Replaces `${VAR}` in every string with the environment's value; an unset variable is an error. */
export function interpolateEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  path: string[] = [],
  options: LoadOptions = {},
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        if (options.allowUnsetEnv) return whole;
        throw new Error(`${path.join('.') || '(root)'}: environment variable ${name} is not set`);
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, [...path, String(i)], options));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, [...path, k], options)]),
    );
  }
  return value;
}

export interface LoadOptions {
  /**
   * Leave an unset \${VAR} as written instead of failing. Only for admin verbs (keys, logs) that never
   * contact an upstream; \`serve\` keeps the strict default.
   */
  allowUnsetEnv?: boolean;
}

/** The path of the first key named `__proto__` (which schema validation drops without a word), if any. */
function protoKeyPath(value: unknown, path: string[]): string | null {
  if (!value || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') return [...path, k].join('.');
    const found = protoKeyPath(v, [...path, k]);
    if (found) return found;
  }
  return null;
}

/** Parses and validates configuration text. Throws ConfigError naming the key path and what was expected. */
export function parseConfig(
  text: string,
  file: string,
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): SluiceConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`, file);
  }
  let expanded: unknown;
  try {
    expanded = interpolateEnv(raw ?? {}, env, [], options);
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`, file);
  }
  const proto = protoKeyPath(expanded, []);
  if (proto)
    throw new ConfigError(
      `${file}: invalid configuration\n  ${proto}: "__proto__" cannot be used as a name (it would be dropped); choose another`,
      file,
    );
  const parsed = configSchema.safeParse(expanded);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${file}: invalid configuration\n${lines.join('\n')}`, file);
  }
  // A key file is named relative to the configuration, as the store's path is.
  for (const up of Object.values(parsed.data.upstreams))
    if (up.provider === 'vertex' && up.credentials) up.credentials = resolve(dirname(file), up.credentials);
  const tls = parsed.data.server.tls;
  if (tls)
    Object.assign(tls, { cert: resolve(dirname(file), tls.cert), key: resolve(dirname(file), tls.key) });
  return parsed.data;
}

/** Reads and validates a configuration file. */
export async function loadConfig(
  file: string,
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): Promise<SluiceConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read configuration: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      file,
    );
  }
  return parseConfig(text, file, env, options);
}
