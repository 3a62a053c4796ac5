/** The sign-in secrets, read when the gateway starts: never from the config text, never into a log line. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SignInConfig } from '../control/config.js';

/** A secret that could not be read: names where it was looked for, never its value. */
export class SignInSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInSecretError';
  }
}

async function readSecretFile(what: string, file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new SignInSecretError(
      `${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/** The client secret and the signing keys (newest first); files relative to `configDir`. */
export async function loadSignInSecrets(
  cfg: SignInConfig,
  configDir: string,
  env: Record<string, string | undefined>,
): Promise<{ clientSecret: string; signingKeys: string[]; scimTokens: string[] | null }> {
  let clientSecret: string;
  if (cfg.clientSecretEnv) {
    const v = env[cfg.clientSecretEnv];
    if (!v)
      throw new SignInSecretError(
        `signin.clientSecretEnv: environment variable ${cfg.clientSecretEnv} is not set`,
      );
    clientSecret = v;
  } else
    clientSecret = await readSecretFile('signin.clientSecretFile', resolve(configDir, cfg.clientSecretFile!));
  const signingKeys: string[] = [];
  for (const [i, file] of cfg.signingKeys.entries()) {
    const key = await readSecretFile(`signin.signingKeys.${i}`, resolve(configDir, file));
    if (key.length < 32)
      throw new SignInSecretError(
        `signin.signingKeys.${i}: ${file} holds fewer than 32 characters; use a longer random key`,
      );
    signingKeys.push(key);
  }
  return { clientSecret, signingKeys, scimTokens: await scimTokens(cfg, configDir, env) };
}

/** The SCIM bearer tokens (`signin.scim`), or null when SCIM is off. */
async function scimTokens(
  cfg: SignInConfig,
  configDir: string,
  env: Record<string, string | undefined>,
): Promise<string[] | null> {
  if (!cfg.scim) return null;
  let tokens: string[];
  if (cfg.scim.tokenEnv) {
    const v = env[cfg.scim.tokenEnv]?.trim();
    if (!v)
      throw new SignInSecretError(
        `signin.scim.tokenEnv: environment variable ${cfg.scim.tokenEnv} is not set`,
      );
    tokens = [v];
  } else {
    const text = await readSecretFile('signin.scim.tokenFile', resolve(configDir, cfg.scim.tokenFile!));
    tokens = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }
  const short = tokens.findIndex((t) => t.length < 32);
  if (short >= 0 || !tokens.length)
    throw new SignInSecretError(
      `signin.scim: ${cfg.scim.tokenEnv ? `$${cfg.scim.tokenEnv}` : cfg.scim.tokenFile} holds a token of fewer than 32 characters; use a longer random token`,
    );
  return tokens;
}
