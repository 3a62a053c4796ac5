/** The placeholders the restore targets know (their seeds use them): values that need JSON escaping, and one holding a placeholder. */
import { PlaceholderVault } from '../../src/guard/redact.js';

export function fuzzVault(): PlaceholderVault {
  const vault = new PlaceholderVault();
  vault.placeholder('github-pat', 'ghp_REAL"value\\1\n'); // [REDACTED:github-pat:1]
  vault.placeholder('email', 'a@b.example'); // [REDACTED:email:1]
  vault.placeholder('aws-access-key-id', 'AKIA[REDACTED:email:1]'); // [REDACTED:aws-access-key-id:1]
  return vault;
}
