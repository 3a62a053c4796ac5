/**
 * SCIM 2.0 discovery (RFC 7644 §4): what this server supports, the schemas of its resources and
 * their types. Static documents; `base` is `<publicUrl>/scim/v2`.
 */
type Json = Record<string, unknown>;

const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

const attribute = (name: string, type: string, extra: Json = {}): Json => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

const multi = (name: string, subs: Json[]): Json =>
  attribute(name, 'complex', { multiValued: true, subAttributes: subs });

const USER_ATTRIBUTES = [
  attribute('userName', 'string', { required: true, uniqueness: 'server' }),
  attribute('externalId', 'string', { caseExact: true }),
  attribute('displayName', 'string'),
  attribute('name', 'complex', {
    subAttributes: ['formatted', 'givenName', 'familyName'].map((n) => attribute(n, 'string')),
  }),
  multi('emails', [
    attribute('value', 'string'),
    attribute('type', 'string'),
    attribute('primary', 'boolean'),
  ]),
  attribute('active', 'boolean'),
  multi('groups', [
    attribute('value', 'string', { mutability: 'readOnly' }),
    attribute('display', 'string', { mutability: 'readOnly' }),
  ]),
];

const GROUP_ATTRIBUTES = [
  attribute('displayName', 'string', { required: true, uniqueness: 'server' }),
  attribute('externalId', 'string', { caseExact: true }),
  multi('members', [
    attribute('value', 'string', { mutability: 'immutable' }),
    attribute('display', 'string'),
  ]),
];

function schemas(base: string): Json {
  const schema = (id: string, name: string, attributes: Json[]) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id,
    name,
    attributes,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` },
  });
  const resources = [
    schema('urn:ietf:params:scim:schemas:core:2.0:User', 'User', USER_ATTRIBUTES),
    schema('urn:ietf:params:scim:schemas:core:2.0:Group', 'Group', GROUP_ATTRIBUTES),
  ];
  return { schemas: [LIST], totalResults: 2, itemsPerPage: 2, startIndex: 1, Resources: resources };
}

function resourceTypes(base: string): Json {
  const type = (id: string, schema: string) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id,
    name: id,
    endpoint: `/${id}s`,
    schema,
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${id}` },
  });
  const resources = [
    type('User', 'urn:ietf:params:scim:schemas:core:2.0:User'),
    type('Group', 'urn:ietf:params:scim:schemas:core:2.0:Group'),
  ];
  return { schemas: [LIST], totalResults: 2, itemsPerPage: 2, startIndex: 1, Resources: resources };
}

function serviceProviderConfig(base: string): Json {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: 1000 },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'The token of signin.scim in sluice.yaml, as Authorization: Bearer <token>.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

/** The discovery endpoints by their path segment. */
export const SCIM_DISCOVERY: Record<string, (base: string) => Json> = {
  ServiceProviderConfig: serviceProviderConfig,
  Schemas: schemas,
  ResourceTypes: resourceTypes,
};
