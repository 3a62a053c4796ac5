/**
 * Settings layers and their merge, with the client's precedence:
 * managed > command line (`--settings`; an audit sees no command line) > local > project > user.
 */
import { isDeepStrictEqual } from 'node:util';
import { isRecord, listDropIns, readJsonObject } from './files.js';
import type {
  EffectiveEnvVar,
  EffectiveSettings,
  Finding,
  ListItem,
  MachinePaths,
  Origin,
  SettingsLayer,
} from './types.js';

/** Reads every settings file, lowest precedence first; unusable files become findings. */
export async function loadSettingsLayers(
  paths: MachinePaths,
): Promise<{ layers: SettingsLayer[]; findings: Finding[] }> {
  const layers: SettingsLayer[] = [];
  const findings: Finding[] = [];
  const dropIns = await listDropIns(paths.managedDropIns);
  if (dropIns.finding) findings.push(dropIns.finding);
  const files: [SettingsLayer['scope'], string][] = [
    ['user', paths.userSettings],
    ['project', paths.projectSettings],
    ['local', paths.localSettings],
    ['managed', paths.managedSettings],
    // Drop-ins merge after the main managed file, alphabetically.
    ...dropIns.files.map((f): [SettingsLayer['scope'], string] => ['managed', f]),
  ];
  for (const [scope, file] of files) {
    const read = await readJsonObject(file, `${scope} settings file`);
    if (read.status === 'ok') layers.push({ scope, file, settings: read.data });
    else if (read.status === 'error') findings.push(read.finding);
  }
  return { layers, findings };
}

/** Lowest precedence first. */
const RANK: SettingsLayer['scope'][] = ['user', 'project', 'local', 'managed'];

/** Keys taken whole from the highest scope that sets them instead of merged as lists. */
const WHOLE_LISTS = new Set(['fallbackModel']);
/** Keys where `true` from any scope wins (the client's stricter-value exceptions). */
const STICKY_TRUE = new Set(['disableClaudeAiConnectors', 'isolatePeerMachines']);

/**
 * Merges `layers` in precedence order: lists merge as a union keeping each item's file, objects merge
 * per key, scalars come from the highest scope. A managed `availableModels` is taken as-is.
 */
export function mergeSettings(layers: SettingsLayer[]): EffectiveSettings {
  const effective: EffectiveSettings = { values: {}, origins: {}, lists: {} };
  // Stable sort: files of one scope (the managed drop-ins) keep their order.
  const ordered = [...layers].sort((a, b) => RANK.indexOf(a.scope) - RANK.indexOf(b.scope));
  for (const layer of ordered) {
    mergeInto(effective, effective.values, layer.settings, '', { scope: layer.scope, file: layer.file });
  }
  return effective;
}

function mergeInto(
  eff: EffectiveSettings,
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  prefix: string,
  origin: Origin,
): void {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isRecord(value)) {
      if (!isRecord(target[key])) {
        forget(eff, path);
        target[key] = {};
      }
      mergeInto(eff, target[key] as Record<string, unknown>, value, path, origin);
    } else if (Array.isArray(value)) {
      const whole = WHOLE_LISTS.has(path) || (path === 'availableModels' && origin.scope === 'managed');
      if (whole) {
        forget(eff, path);
        target[key] = structuredClone(value);
        eff.origins[path] = origin;
        continue;
      }
      if (!Array.isArray(target[key])) forget(eff, path);
      const items: ListItem[] = eff.lists[path] ?? [];
      for (const item of value) {
        if (!items.some((i) => isDeepStrictEqual(i.value, item))) items.push({ value: item, origin });
      }
      eff.lists[path] = items;
      target[key] = items.map((i) => i.value);
    } else {
      if (STICKY_TRUE.has(path) && target[key] === true && value !== true) continue;
      if (isRecord(target[key]) || Array.isArray(target[key])) forget(eff, path);
      target[key] = value;
      eff.origins[path] = origin;
    }
  }
}

/** Drops provenance at and below `path` when a higher scope replaces it with a different kind of value. */
function forget(eff: EffectiveSettings, path: string): void {
  for (const table of [eff.origins, eff.lists] as Record<string, unknown>[]) {
    for (const key of Object.keys(table)) {
      if (key === path || key.startsWith(`${path}.`)) delete table[key];
    }
  }
}

/**
 * The environment the client runs with: the process environment, overwritten per variable by the merged
 * settings `env` block (so a managed `ANTHROPIC_BASE_URL` beats any shell export).
 */
export function effectiveEnv(
  processEnv: Record<string, string | undefined>,
  settings: EffectiveSettings,
): Record<string, EffectiveEnvVar> {
  const env: Record<string, EffectiveEnvVar> = {};
  for (const [name, value] of Object.entries(processEnv)) {
    if (value !== undefined)
      env[name] = { value, origin: { scope: 'process', file: '(process environment)' } };
  }
  const block = settings.values.env;
  if (isRecord(block)) {
    for (const [name, value] of Object.entries(block)) {
      if (value === undefined || value === null) continue;
      const origin = settings.origins[`env.${name}`];
      if (origin) env[name] = { value: typeof value === 'string' ? value : JSON.stringify(value), origin };
    }
  }
  return env;
}

/** The value of a dot path in the merged settings. */
export function valueAt(settings: EffectiveSettings, path: string): unknown {
  let node: unknown = settings.values;
  for (const part of path.split('.')) {
    if (!isRecord(node)) return undefined;
    node = node[part];
  }
  return node;
}
