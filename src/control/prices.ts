/**
 * Model prices, USD per million tokens, as Anthropic publishes them (https://www.anthropic.com/pricing
 * and https://docs.claude.com/en/docs/about-claude/pricing): input, output, cache write (5-minute
 * writes, 1.25x input) and cache read (0.1x input). A request's model id matches the longest entry
 * it starts with, so dated ids (`claude-sonnet-4-5-20250929`) find their family. `prices:` in the
 * configuration overrides or adds entries.
 */

export interface Price {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

const per = (input: number, output: number): Price => ({
  input,
  output,
  cacheWrite: input * 1.25,
  cacheRead: input * 0.1,
});

export const defaultPrices: Record<string, Price> = {
  'claude-opus-4-5': per(5, 25),
  'claude-opus-4-1': per(15, 75),
  'claude-opus-4': per(15, 75),
  'claude-sonnet-4-5': per(3, 15),
  'claude-sonnet-4': per(3, 15),
  'claude-3-7-sonnet': per(3, 15),
  'claude-haiku-4-5': per(1, 5),
  'claude-3-5-haiku': per(0.8, 4),
  'claude-3-haiku': per(0.25, 1.25),
};

/** The price of `model` in `table` (the longest matching prefix), or undefined. */
export function priceOf(model: string, table: Record<string, Price>): Price | undefined {
  if (table[model]) return table[model];
  let best: string | undefined;
  for (const id of Object.keys(table))
    if (model.startsWith(id) && (best === undefined || id.length > best.length)) best = id;
  return best === undefined ? undefined : table[best];
}

/** Token counts of one request, as the audit record keeps them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

/** What `usage` costs at `price`, USD. */
export function costOf(usage: TokenUsage, price: Price): number {
  return (
    (usage.inputTokens * price.input +
      usage.outputTokens * price.output +
      usage.cacheCreationInputTokens * price.cacheWrite +
      usage.cacheReadInputTokens * price.cacheRead) /
    1_000_000
  );
}
