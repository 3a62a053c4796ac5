/**
 * `signin:` in sluice.yaml: company sign-in through the organisation's OpenID Connect provider
 * (docs/sign-in.md). Secrets are named, not written: the client secret comes from an environment
 * variable or a file, the signing keys from files, all read when the gateway starts.
 */
import { z } from 'zod';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable');
const role = z.enum(['admin', 'auditor', 'member']);

/** Who a signed-in person is in Sluice: the first rule that fits decides their org and role. */
const mappingRule = z
  .object({
    /** Fits when the person is in any of these IdP groups (exact, case-sensitive). */
    groups: z.array(z.string().min(1)).min(1).optional(),
    /** Fits when the email's domain (after the last @) is this one (case-insensitive). */
    emailDomain: z.string().min(1).optional(),
    org: z.string().min(1),
    role: role.default('member'),
  })
  .strict();

/** The managed settings a signed-in client gets: the first rule that fits serves its policy file. */
const settingsRule = z
  .object({
    groups: z.array(z.string().min(1)).min(1).optional(),
    org: z.string().min(1).optional(),
    /** An organization policy (YAML or JSON), as `sluice managed-settings --policy` reads it. */
    policy: z.string().min(1),
  })
  .strict();

/** SCIM 2.0 provisioning at /scim/v2: the bearer token the IdP presents, from the environment or a file. */
const scimSchema = z
  .object({
    tokenEnv: envName.optional(),
    /** A file (0600) holding the token; each non-empty line is a token, so a new one can be added before the IdP switches. */
    tokenFile: z.string().min(1).optional(),
  })
  .strict()
  .refine((s) => (s.tokenEnv === undefined) !== (s.tokenFile === undefined), {
    message: 'give one of tokenEnv or tokenFile',
  });

export const signinSchema = z
  .object({
    /** The gateway's URL as clients reach it; every URL Sluice hands out is built from it. */
    publicUrl: z
      .string()
      .url()
      .refine((u) => /^https?:/i.test(u), 'expected an http:// or https:// URL')
      .transform((u) => u.replace(/\/+$/, '')),
    /** The OpenID provider's issuer (its discovery document is at ISSUER/.well-known/openid-configuration). */
    issuer: z.string().url(),
    clientId: z.string().min(1),
    /** The provider's name on the console's "Sign in with …" button (default: the issuer's host). */
    displayName: z
      .string()
      .min(1, 'expected a name of 1 to 60 characters')
      .max(60, 'expected a name of 1 to 60 characters')
      .optional(),
    /** The client secret: the name of an environment variable holding it, or a file (0600) holding it. */
    clientSecretEnv: envName.optional(),
    clientSecretFile: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email', 'offline_access']),
    /** The id_token claims that carry the email and the groups. */
    emailClaim: z.string().min(1).default('email'),
    groupsClaim: z.string().min(1).default('groups'),
    /** Only these email domains may sign in (empty: any). */
    allowedEmailDomains: z.array(z.string().min(1)).default([]),
    /** Identity to org and role, in order; a person no rule fits cannot sign in. */
    map: z.array(mappingRule).min(1, 'map at least one group or email domain to an org'),
    /** Lifetime of the access tokens Sluice signs, minutes. */
    accessTokenMinutes: z.number().positive().max(1440).default(60),
    /** A session ends when it was not refreshed for this many days. */
    refreshTokenDays: z.number().positive().max(365).default(30),
    /**
     * Files holding the HMAC secrets (at least 32 characters each) that sign access tokens: the first
     * signs, all verify, so a new key goes first and the old one stays until its tokens expired.
     */
    signingKeys: z.array(z.string().min(1)).min(1, 'name at least one signing key file'),
    managedSettings: z.array(settingsRule).default([]),
    /** SCIM 2.0 provisioning (Okta, Entra ID); off when absent. */
    scim: scimSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.clientSecretEnv === undefined) === (s.clientSecretFile === undefined))
      ctx.addIssue({ code: 'custom', message: 'give one of clientSecretEnv or clientSecretFile' });
    if (!s.scopes.includes('openid'))
      ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include openid' });
  });

export type SignInConfig = z.infer<typeof signinSchema>;

/** The orgs a sign-in config names exist under `orgs`. */
export function checkSignInOrgs(
  signin: SignInConfig | undefined,
  orgs: Record<string, unknown>,
  ctx: z.RefinementCtx,
): void {
  const have = Object.keys(orgs).join(', ') || 'none';
  for (const [list, rules] of [
    ['map', signin?.map ?? []],
    ['managedSettings', signin?.managedSettings ?? []],
  ] as const)
    rules.forEach((rule, i) => {
      if (rule.org !== undefined && !Object.hasOwn(orgs, rule.org))
        ctx.addIssue({
          code: 'custom',
          path: ['signin', list, i, 'org'],
          message: `names org "${rule.org}", which is not defined under orgs (have: ${have})`,
        });
    });
}
