/** The device flow of company sign-in, played as the client and the browser do, for end-to-end tests. */
import { TestBrowser } from '../../src/signin/testing/idp.js';

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  email: string;
}

export const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Signs `login` in at the gateway `base` (its IdP's login form); the tokens, or an error saying what the page said. */
export async function deviceSignIn(base: string, login: string): Promise<Tokens> {
  const auth = await fetch(`${base}/oauth/device_authorization`, form({ surface: 'claude_code' }));
  if (auth.status !== 200) throw new Error(`device authorization: ${auth.status} ${await auth.text()}`);
  const grant = (await auth.json()) as Record<string, string | number>;
  const browser = new TestBrowser();
  await browser.request(String(grant.verification_uri_complete));
  const verified = await browser.request(`${base}/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams({ user_code: String(grant.user_code) }).toString(),
  });
  if (verified.status !== 302) throw new Error(`verification page: ${verified.status}`);
  const done = await browser.signInAtIdp(verified, `${base}/device`, login, `${base}/oauth/callback`);
  const poll = await fetch(
    `${base}/oauth/token`,
    form({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: String(grant.device_code),
    }),
  );
  if (poll.status === 200) return (await poll.json()) as Tokens;
  const said = done.body.replace(/<(style|title)>[\s\S]*?<\/\1>/g, '').replace(/<[^>]+>/g, ' ');
  throw new Error(
    `sign-in failed: ${said.replace(/\s+/g, ' ').trim()} (${poll.status} ${await poll.text()})`,
  );
}
