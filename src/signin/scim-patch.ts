/**
 * SCIM 2.0's small languages, as pure functions over JSON: list filters (RFC 7644 §3.4.2.2, the
 * equality subset Okta and Entra ID send) and PATCH operations (§3.5.2), including Entra ID's
 * habits (capitalised `op`, `"False"` for false, `remove` with a value list, `add` to a filtered
 * path that matches nothing). Attribute names are case-insensitive, as SCIM has them.
 */

/** A SCIM error (RFC 7644 §3.12): its status, `scimType` and the detail the IdP's log shows. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: string | null,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  body(): Record<string, unknown> {
    return {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.detail,
    };
  }
}

type Json = Record<string, unknown>;

/** One `attr eq "value"` of a filter; `attr` lower-cased, with its sub-attribute (`emails.value`). */
export interface Equality {
  attr: string;
  value: string;
}

const EQ = /^([A-Za-z][\w.:-]*?)(?:\[\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\])?\s+eq\s+"((?:[^"\\]|\\.)*)"$/i;
const MEMBER_EQ = /^members\s*\[\s*value\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\]$/i;

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

/**
 * A filter as equalities that must all hold: `userName eq "a@b.c"`, `externalId eq "x" and …`,
 * `members[value eq "id"]`. Anything else is the IdP's `invalidFilter`, naming what is served.
 */
export function parseFilter(filter: string): Equality[] {
  const parts = filter.trim().split(/\s+and\s+/i);
  return parts.map((part) => {
    const member = MEMBER_EQ.exec(part.trim());
    if (member) return { attr: 'members.value', value: unescape(member[1]!) };
    const m = EQ.exec(part.trim());
    if (!m || m[2] !== undefined)
      throw new ScimError(
        400,
        'invalidFilter',
        `The filter "${filter}" is not supported: use attribute eq "value", joined by and.`,
      );
    return { attr: m[1]!.toLowerCase(), value: unescape(m[4]!) };
  });
}

/** A PATCH path: an attribute (under an extension schema or not), an optional filter, a sub-attribute. */
interface Path {
  schema: string | null;
  attr: string;
  filter: Equality | null;
  sub: string | null;
}

const PATH =
  /^(?:(urn:[^\s[\]]+):)?([A-Za-z][\w-]*)(?:\[\s*([A-Za-z][\w.-]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\])?(?:\.([A-Za-z][\w-]*))?$/i;

export function parsePath(path: string): Path {
  const m = PATH.exec(path.trim());
  if (!m) throw new ScimError(400, 'invalidPath', `The path "${path}" is not one this server understands.`);
  return {
    schema: m[1] ?? null,
    attr: m[2]!,
    filter: m[3] ? { attr: m[3].toLowerCase(), value: unescape(m[4]!) } : null,
    sub: m[5] ?? null,
  };
}

/** The key of `obj` equal to `name` ignoring case, or `name` itself when none is. */
export function keyOf(obj: Json, name: string): string {
  const lc = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lc) ?? name;
}

/** Reads `name` case-insensitively. */
export function attr(obj: Json, name: string): unknown {
  return obj[keyOf(obj, name)];
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function matches(el: unknown, f: Equality): boolean {
  if (!isObject(el)) return false;
  const v = attr(el, f.attr);
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? String(v).toLowerCase() === f.value.toLowerCase()
    : false;
}

/** The object a path's attribute lives in: the resource, or its extension schema's object. */
function container(res: Json, p: Path, create: boolean): Json | undefined {
  if (!p.schema) return res;
  const key = keyOf(res, p.schema);
  const existing = res[key];
  if (isObject(existing)) return existing;
  if (!create) return undefined;
  const made: Json = {};
  res[key] = made;
  return made;
}

/** Same element, by `value` (members, emails) or whole JSON. */
const sameElement = (a: unknown, b: unknown) =>
  isObject(a) && isObject(b) && attr(a, 'value') !== undefined
    ? String(attr(a, 'value')) === String(attr(b, 'value'))
    : JSON.stringify(a) === JSON.stringify(b);

function addTo(at: Json, key: string, value: unknown, replace: boolean): void {
  const current = at[key];
  if (!replace && Array.isArray(current)) {
    const more = Array.isArray(value) ? value : [value];
    at[key] = [...current, ...more.filter((v) => !current.some((c) => sameElement(c, v)))];
  } else if (!replace && isObject(current) && isObject(value)) at[key] = { ...current, ...value };
  else at[key] = value;
}

/** add/replace to `path` on `res`. */
function setPath(res: Json, p: Path, value: unknown, replace: boolean): void {
  const at = container(res, p, true)!;
  const key = keyOf(at, p.attr);
  if (!p.filter) {
    if (p.sub) {
      const parent = isObject(at[key]) ? (at[key] as Json) : {};
      at[key] = parent;
      addTo(parent, keyOf(parent, p.sub), value, replace);
    } else addTo(at, key, value, replace);
    return;
  }
  const list = Array.isArray(at[key]) ? (at[key] as unknown[]) : [];
  at[key] = list;
  const hits = list.filter((el) => matches(el, p.filter!));
  // Entra ID adds `emails[type eq "work"].value` when there is no work email yet: make one.
  if (!hits.length) {
    const made: Json = { [p.filter.attr]: p.filter.value };
    list.push(made);
    hits.push(made);
  }
  for (const el of hits as Json[]) {
    if (p.sub) el[keyOf(el, p.sub)] = value;
    else if (isObject(value)) Object.assign(el, value);
    else throw new ScimError(400, 'invalidValue', `A value for ${p.attr}[…] must be an object.`);
  }
}

function removePath(res: Json, p: Path, value: unknown): void {
  const at = container(res, p, false);
  if (!at) return;
  const key = keyOf(at, p.attr);
  const current = at[key];
  if (p.filter) {
    if (!Array.isArray(current)) return;
    if (p.sub) {
      for (const el of current) if (matches(el, p.filter)) delete (el as Json)[keyOf(el as Json, p.sub)];
    } else at[key] = current.filter((el) => !matches(el, p.filter!));
    return;
  }
  if (p.sub) {
    if (isObject(current)) delete current[keyOf(current, p.sub)];
    return;
  }
  // Entra ID removes members as {"op":"Remove","path":"members","value":[{"value":"id"}]}.
  if (Array.isArray(current) && value !== undefined) {
    const gone = Array.isArray(value) ? value : [value];
    at[key] = current.filter((el) => !gone.some((g) => sameElement(el, g)));
    return;
  }
  delete at[key];
}

function applyOne(res: Json, op: unknown, i: number): void {
  if (!isObject(op)) throw new ScimError(400, 'invalidSyntax', `Operations[${i}] must be an object.`);
  const name = String(attr(op, 'op') ?? '').toLowerCase();
  const path = attr(op, 'path');
  const value = attr(op, 'value');
  if (path !== undefined && typeof path !== 'string')
    throw new ScimError(400, 'invalidPath', `Operations[${i}].path must be a string.`);
  if (name === 'remove') {
    if (!path) throw new ScimError(400, 'noTarget', `Operations[${i}]: remove needs a path.`);
    return removePath(res, parsePath(path), value);
  }
  if (name !== 'add' && name !== 'replace')
    throw new ScimError(
      400,
      'invalidSyntax',
      `Operations[${i}].op must be add, replace or remove, got ${JSON.stringify(attr(op, 'op') ?? null)}.`,
    );
  if (value === undefined) throw new ScimError(400, 'invalidValue', `Operations[${i}] has no value.`);
  if (path) return setPath(res, parsePath(path), value, name === 'replace');
  if (!isObject(value))
    throw new ScimError(
      400,
      'invalidValue',
      `Operations[${i}]: without a path, the value must be an object.`,
    );
  // No path: each key of the value is an attribute (or a path: Entra ID sends "name.givenName").
  for (const [k, v] of Object.entries(value)) setPath(res, parsePath(k), v, name === 'replace');
}

/** Applies a PatchOp body to a copy of `resource`; throws ScimError for a malformed body. */
export function applyPatch(resource: Json, body: unknown): Json {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', 'The body must be a PatchOp JSON object.');
  const schemas = attr(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.includes('urn:ietf:params:scim:api:messages:2.0:PatchOp'))
    throw new ScimError(
      400,
      'invalidSyntax',
      'schemas must list urn:ietf:params:scim:api:messages:2.0:PatchOp.',
    );
  const ops = attr(body, 'Operations');
  if (!Array.isArray(ops) || !ops.length)
    throw new ScimError(400, 'invalidSyntax', 'Operations must be a non-empty list.');
  const res = structuredClone(resource);
  ops.forEach((op, i) => applyOne(res, op, i));
  return res;
}

/** `true`, `"True"`, `"true"`: SCIM booleans as IdPs send them (Entra ID sends strings). */
export function scimBoolean(v: unknown, name: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ScimError(400, 'invalidValue', `${name} must be true or false, got ${JSON.stringify(v)}.`);
}
