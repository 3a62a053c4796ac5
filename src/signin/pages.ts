/** The verification pages a person's browser sees (RFC 8628 §3.3): plain HTML, no script, no third party. */

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Sluice sign-in</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}input,button{font-size:1.1rem;padding:.4rem .8rem}code{font-size:1.3rem}</style></head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

/** The form asking for the code the device shows. */
export const enterCodePage = (): string =>
  page(
    'Sign in to Sluice',
    `<p>Enter the code your device shows.</p><form method="post" action="/device"><input name="user_code" placeholder="XXXX-XXXX" maxlength="9" autocomplete="off" autofocus required> <button type="submit">Continue</button></form>`,
  );

/** The code came in the link: the person confirms it matches their device (never submitted for them). */
export const confirmCodePage = (userCode: string): string =>
  page(
    'Sign in to Sluice',
    `<p>Check that your device shows this code:</p><p><code>${escape(userCode)}</code></p><form method="post" action="/device"><input type="hidden" name="user_code" value="${escape(userCode)}"><button type="submit">This matches my device — continue</button> <button type="submit" formaction="/device/deny">Deny</button></form>`,
  );

export const messagePage = (title: string, message: string): string =>
  page(title, `<p>${escape(message)}</p>`);

/** The headers of every page: no caching, no framing, forms only to Sluice and the IdP. */
export function pageHeaders(formOrigins: readonly string[]): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy':
      `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self' ${formOrigins.join(' ')}; base-uri 'none'`.replace(
        /\s+;/g,
        ';',
      ),
  };
}
