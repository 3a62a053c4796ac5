/**
 * Access tokens for Vertex AI from google-auth-library: a service-account key file (the library
 * signs the JWT assertion, exchanges it and caches the token until it nears expiry), or
 * Application Default Credentials. A key file's `token_uri` names its token endpoint; the library
 * always asks Google's, so its request is sent where the key file says (the same for real keys).
 */
import { readFile } from 'node:fs/promises';
import { GoogleAuth, JWT } from 'google-auth-library';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

interface ServiceAccountKey {
  type?: string;
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  token_uri?: string;
}

async function keyFileClient(path: string): Promise<JWT> {
  let key: ServiceAccountKey;
  try {
    key = JSON.parse(await readFile(path, 'utf8')) as ServiceAccountKey;
  } catch (err) {
    // The message names the file and what is wrong with it, never its content: JSON.parse's own
    // message (the cause) can quote the file, private key included.
    const code = (err as NodeJS.ErrnoException).code;
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`cannot read the key file ${path}: ${code ?? 'not JSON'}`);
  }
  if (key.type !== 'service_account' || !key.client_email || !key.private_key)
    throw new Error(`${path} is not a service-account key file (type, client_email, private_key)`);
  const client = new JWT({
    email: key.client_email,
    key: key.private_key,
    ...(key.private_key_id ? { keyId: key.private_key_id } : {}),
    scopes: [SCOPE],
  });
  const tokenUri = key.token_uri;
  if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL)
    client.transporter.interceptors.request.add({
      resolved: async (options) => {
        if (String(options.url) === GOOGLE_TOKEN_URL) options.url = new URL(tokenUri);
        return options;
      },
    });
  return client;
}

/** A function that gives a current access token (cached by the library), or throws saying why not. */
export function googleTokens(keyFile: string | undefined): () => Promise<string> {
  if (!keyFile) {
    const auth = new GoogleAuth({ scopes: [SCOPE] });
    return async () => {
      const token = await auth.getAccessToken();
      if (!token) throw new Error('Application Default Credentials gave no access token');
      return token;
    };
  }
  let client: Promise<JWT> | null = null;
  return async () => {
    client ??= keyFileClient(keyFile);
    const current = client;
    // A key file that failed to load is read again next time (it may have been fixed).
    current.catch(() => (client = null));
    const { token } = await (await current).getAccessToken();
    if (!token) throw new Error('the token endpoint gave no access token');
    return token;
  };
}
