/** Findings placed in a file (1-based line and column, masked preview) and their SARIF 2.1.0 form. */
import { mask } from './mask.js';
import type { Detection, DetectionKind, DetectionRule } from './types.js';

/** One detection as a report shows it: where it is and what it was, never the value itself. */
export interface Finding {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  rule: string;
  kind: DetectionKind;
  preview: string;
}

/** Places `detections` of `text` at 1-based lines and columns (UTF-16 code units) in `file`. */
export function locate(file: string, text: string, detections: readonly Detection[]): Finding[] {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const position = (offset: number): [number, number] => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return [lo + 1, offset - (lineStarts[lo] as number) + 1];
  };
  return detections.map((d) => {
    const [line, column] = position(d.start);
    const [endLine, endColumn] = position(d.end);
    return { file, line, column, endLine, endColumn, rule: d.rule, kind: d.kind, preview: mask(d.value) };
  });
}

/**
 * The SARIF 2.1.0 envelope every Sluice report uses (`scan` here, `audit` too): one run of the
 * `sluice` tool with `rules`, and the run's other fields (`results`, ...).
 */
export function sarifLog(version: string, rules: object[], run: Record<string, unknown>): object {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'sluice', version, rules } }, ...run }],
  };
}

/** A SARIF 2.1.0 log: the rule catalog as the tool's rules, one result per finding. */
export function toSarif(
  findings: readonly Finding[],
  rules: readonly DetectionRule[],
  version: string,
): object {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  return sarifLog(
    version,
    rules.map((r) => ({
      id: r.id,
      name: r.id,
      shortDescription: { text: r.description },
      defaultConfiguration: { level: 'error' },
      properties: { kind: r.kind, tags: [r.kind] },
    })),
    {
      columnKind: 'utf16CodeUnits',
      results: findings.map((f) => ({
        ruleId: f.rule,
        ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
        level: 'error',
        message: { text: `${f.kind === 'pii' ? 'Personal data' : 'Secret'} (${f.rule}): ${f.preview}` },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: f.file.split('\\').join('/') },
              region: {
                startLine: f.line,
                startColumn: f.column,
                endLine: f.endLine,
                endColumn: f.endColumn,
              },
            },
          },
        ],
      })),
    },
  );
}
