/**
 * Fuzz target: the configuration parser (`parseConfig`). An input is the text of a sluice.yaml.
 * Properties:
 * - it throws nothing but `ConfigError`, whose message starts with the file's name;
 * - it never changes Object.prototype, whatever keys the YAML holds;
 * - a configuration it accepts names, for each org, an upstream that is one of its own
 *   `upstreams` (not a name found on an object's prototype), and keeps every org and upstream the
 *   YAML names (a name it cannot keep is refused, not dropped);
 * - parsing is a function of the text: twice gives the same configuration.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseConfig, type SluiceConfig, upstreamsOf } from '../../../src/control/config.js';

const ENV = { UPSTREAM_KEY: 'sk-ant-upstream', ADMIN_TOKEN: 'admin-token-0123456789' };
const prototypeNames = () => Object.getOwnPropertyNames(Object.prototype).sort().join();
const PROTOTYPE = prototypeNames();

export function fuzz(data: Buffer): void {
  const text = data.toString('utf8');
  const config = parsed(text);
  if (prototypeNames() !== PROTOTYPE) throw new Error('parsing changed Object.prototype');
  if (!config) return;
  const yaml = parseYaml(text) as { orgs?: object; upstreams?: object };
  for (const part of ['orgs', 'upstreams'] as const) {
    const named = Object.keys(yaml[part] ?? {}).sort();
    const kept = Object.keys(config[part]).sort();
    if (!isDeepStrictEqual(named, kept))
      throw new Error(`${part}: the YAML names ${named.join()}, the configuration has ${kept.join()}`);
  }
  for (const [name, org] of Object.entries(config.orgs))
    for (const upstream of upstreamsOf(org))
      if (!Object.hasOwn(config.upstreams, upstream))
        throw new Error(`org ${name} names upstream "${upstream}", which is not one of its upstreams`);
  if (!isDeepStrictEqual(parseConfig(text, 'fuzz.yaml', ENV), config))
    throw new Error('two parses of one text differ');
}

/** The configuration, or null for a refusal that is a ConfigError naming the file. */
function parsed(text: string): SluiceConfig | null {
  try {
    return parseConfig(text, 'fuzz.yaml', ENV);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (!err.message.startsWith('fuzz.yaml: '))
      throw new Error(`a ConfigError that does not name the file: ${err.message}`, { cause: err });
    return null;
  }
}
