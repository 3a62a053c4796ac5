/**
 * The admin log's signing key: an Ed25519 key pair (node:crypto) whose private half lives in a file
 * outside the store (PKCS#8 PEM, mode 0600) and whose public half is what verifiers need. A key is
 * named by its id, `ed25519:` and the first 16 hex digits of the SHA-256 of its public key.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A public key checkpoints may be signed with. */
export interface TrustedKey {
  id: string;
  /** Base64 of the DER SubjectPublicKeyInfo: the text `adminLog.publicKey` and `sluice admin-log key` show. */
  text: string;
  key: KeyObject;
}

/** The private key this process signs with, and its public half. */
export interface SigningKey extends TrustedKey {
  privateKey: KeyObject;
  file: string;
}

function trusted(key: KeyObject): TrustedKey {
  const der = key.export({ type: 'spki', format: 'der' });
  return {
    id: `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`,
    text: der.toString('base64'),
    key,
  };
}

/** Parses a public key as `sluice admin-log key` prints it (base64 SPKI) or as a PEM block. */
export function parsePublicKey(text: string): TrustedKey {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new Error('not a public key: expected the base64 text sluice admin-log key prints');
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`not an Ed25519 public key (it is ${key.asymmetricKeyType ?? 'unknown'})`);
  return trusted(key);
}

/** The error `parsePublicKey` would throw for `text`, or undefined: for the config schema. */
export function publicKeyError(text: string): string | undefined {
  try {
    parsePublicKey(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Reads the key at `file`; refuses one other users can read (a copied key signs anything). */
export async function loadSigningKey(file: string): Promise<SigningKey> {
  const info = await stat(file);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0)
    throw new Error(
      `${file} can be read by other users (mode ${(info.mode & 0o777).toString(8)}): run chmod 600 ${file}`,
    );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(file, 'utf8'));
  } catch {
    throw new Error(`${file} does not hold a private key in PEM form`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`${file} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key, not an Ed25519 one`);
  return { ...trusted(createPublicKey(privateKey)), privateKey, file };
}

/** Reads the key at `file`, first writing a new one (0600, folder 0700) when there is none. */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey & { created: boolean }> {
  try {
    return { ...(await loadSigningKey(file)), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  try {
    // `wx`: when two processes race to make the key, one writes it and both use that one.
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { ...(await loadSigningKey(file)), created: false };
  }
  return { ...(await loadSigningKey(file)), created: true };
}
