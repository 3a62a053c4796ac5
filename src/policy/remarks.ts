/** Collecting sources and remarks (warnings, assumptions, notes) without repeating any. */
import type { Rule } from './rule.js';
import type { Remark, Source } from './types.js';

export function addSources(into: Source[], more: readonly Source[]): void {
  for (const s of more) {
    if (!into.some((x) => x.seed === s.seed && x.section === s.section && x.url === s.url)) into.push(s);
  }
}

/** Adds a remark; the same id from several rules joins their messages, rules and sources. */
export function addRemark(into: Map<string, Remark>, id: string, message: string, rule: Rule): void {
  const r = into.get(id) ?? { id, message, sources: [], rules: [] };
  if (!r.message.includes(message)) r.message = `${r.message} ${message}`;
  into.set(id, r);
  if (!r.rules.includes(rule.id)) r.rules.push(rule.id);
  addSources(r.sources, rule.sources);
}
