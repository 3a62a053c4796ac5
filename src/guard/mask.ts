/** Masked previews of detected values: enough to recognise which secret it was, never enough to use it. */

/** Values shorter than this show no characters at all. */
const MIN_VISIBLE_LENGTH = 12;

/**
 * At most the first 4 characters and the length: `ghp_…(40 chars)`. Values under 12 characters
 * show only their length, so a preview never holds more than a third of the value.
 *
 * @example mask('ghp_' + 'x'.repeat(36)) // 'ghp_…(40 chars)'
 */
export function mask(value: string): string {
  const chars = [...value];
  const shown = chars.length >= MIN_VISIBLE_LENGTH ? chars.slice(0, 4).join('') : '';
  return `${shown}…(${chars.length} chars)`;
}
