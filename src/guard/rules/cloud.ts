/** Cloud providers: AWS, Google Cloud, Azure, Alibaba, DigitalOcean, Heroku, Cloudflare. */
import type { DetectionRule } from '../types.js';
import { assignment, token } from './define.js';
import { ALNUM, BASE32, BASE64, BASE64URL, HEX, fake } from './fake.js';

const awsSecret = fake(BASE64, 40, 'aws-secret');
const azureKey = fake(BASE64, 86, 'azure-storage') + '==';
const sbKey = fake(BASE64, 43, 'azure-sb') + '=';
const pemBody = Array.from({ length: 6 }, (_, i) => fake(BASE64, 64, `gcp-pem-${i}`)).join('\\n');
const gcpPem = '-----BEGIN ' + 'PRIVATE KEY-----\\n' + pemBody + '\\n-----END PRIVATE KEY-----\\n';
const cfToken = fake(BASE64URL, 40, 'cf-token');
const uuid = [8, 4, 4, 4, 12].map((n, i) => fake(HEX, n, `heroku-${i}`)).join('-');

export const cloudRules: DetectionRule[] = [
  token({
    id: 'aws-access-key-id',
    description: 'AWS access key id (long-term AKIA or temporary ASIA)',
    keywords: ['akia', 'asia', 'abia', 'acca'],
    token: '(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}',
    tp: ['AKIA' + fake(BASE32, 16, 'akia'), 'ASIA' + fake(BASE32, 16, 'asia')],
    fp: [
      'AKIA' + 'IOSFODNN7' + 'EXAMPLE',
      'AKIA' + fake(BASE32, 15, 'short'),
      'xAKIA' + fake(BASE32, 16, 'akia'),
    ],
  }),
  assignment({
    id: 'aws-secret-access-key',
    description: 'AWS secret access key assigned to an AWS secret-key name',
    name: String.raw`aws[_-]?secret[_-]?(?:access[_-]?)?key|secret[_-]?access[_-]?key`,
    keywords: ['aws_secret', 'aws-secret', 'awssecret', 'secret_access', 'secret-access', 'secretaccess'],
    value: '[A-Za-z0-9/+]{40}',
    minEntropy: 4,
    tp: [
      `AWS_SECRET_ACCESS_KEY=${awsSecret}`,
      `aws_secret_access_key = ${awsSecret}`,
      `"SecretAccessKey": "${awsSecret}"`,
    ],
    fp: [
      'aws_secret_access_key = ' + 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY',
      'AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}',
      `AWS_SECRET_ACCESS_KEY=${awsSecret.slice(0, 30)}`,
    ],
  }),
  token({
    id: 'aws-mws-key',
    description: 'Amazon Marketplace Web Service auth token',
    keywords: ['amzn.mws.'],
    token: String.raw`amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
    boundary: 'A-Za-z0-9_.-',
    tp: ['amzn.mws.' + [8, 4, 4, 4, 12].map((n, i) => fake(HEX, n, `mws${i}`)).join('-')],
    fp: ['amzn.mws.' + fake(HEX, 8, 'x') + '-' + fake(HEX, 4, 'y')],
  }),
  token({
    id: 'gcp-api-key',
    description: 'Google Cloud / Firebase / Gemini API key',
    keywords: ['aiza'],
    token: '(?:AIza)[A-Za-z0-9_-]{35}',
    boundary: 'A-Za-z0-9_-',
    tp: ['AIza' + fake(BASE64URL, 35, 'gcp')],
    fp: ['AIza' + fake(BASE64URL, 30, 'gcp-short'), 'AIza' + 'x'.repeat(35)],
  }),
  {
    id: 'gcp-service-account-key',
    kind: 'secret',
    description: 'Private key inside a Google Cloud service-account JSON file',
    keywords: ['"private_key"'],
    keywordWithin: 0,
    pattern:
      /"private_key"\s{0,3}:\s{0,3}"(-----BEGIN (?:RSA )?PRIVATE KEY-----(?:\\n|[A-Za-z0-9+/=]){64,8192}-----END (?:RSA )?PRIVATE KEY-----(?:\\n)?)"/,
    secretGroup: 1,
    samples: {
      tp: [`{"type": "service_account", "private_key_id": "abc", "private_key": "${gcpPem}"}`],
      fp: ['{"private_key": ""}', '{"private_key": "${GCP_PRIVATE_KEY}"}'],
    },
  },
  token({
    id: 'azure-storage-account-key',
    description: 'Azure storage account key in a connection string (AccountKey=...)',
    keywords: ['accountkey='],
    token: 'AccountKey=[A-Za-z0-9+/]{86}==',
    boundary: 'A-Za-z0-9+/=',
    tp: [
      `DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=${azureKey};EndpointSuffix=core.windows.net`,
    ],
    fp: ['AccountKey=' + fake(BASE64, 40, 'az-short') + '==', 'AccountKey={storage_key}'],
  }),
  token({
    id: 'azure-shared-access-key',
    description: 'Azure Service Bus / Event Hubs / IoT Hub shared access key (SharedAccessKey=...)',
    keywords: ['sharedaccesskey='],
    token: 'SharedAccessKey=[A-Za-z0-9+/]{42,44}={0,2}',
    boundary: 'A-Za-z0-9+/=',
    tp: [
      `Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${sbKey}`,
    ],
    fp: ['SharedAccessKey=<key>', 'SharedAccessKeyName=RootManageSharedAccessKey;'],
  }),
  token({
    id: 'azure-ad-client-secret',
    keywordInside: true,
    description: 'Microsoft Entra ID (Azure AD) application client secret',
    keywords: ['q~'],
    token: String.raw`[A-Za-z0-9_.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}`,
    boundary: 'A-Za-z0-9_~.-',
    tp: [fake(ALNUM, 3, 'ad1') + '8Q~' + fake(ALNUM, 34, 'ad2')],
    fp: ['abc8Q~' + fake(ALNUM, 20, 'ad3'), 'Q~' + fake(ALNUM, 34, 'ad4')],
  }),
  token({
    id: 'alibaba-access-key-id',
    description: 'Alibaba Cloud AccessKey id',
    keywords: ['ltai'],
    token: 'LTAI[A-Za-z0-9]{20}',
    tp: ['LTAI' + fake(ALNUM, 20, 'ali')],
    fp: ['LTAI' + fake(ALNUM, 12, 'ali-short'), 'ALTAI' + fake(ALNUM, 20, 'ali')],
  }),
  token({
    id: 'digitalocean-pat',
    description: 'DigitalOcean personal access token',
    keywords: ['dop_v1_'],
    token: 'dop_v1_[0-9a-f]{64}',
    tp: ['dop_v1_' + fake(HEX, 64, 'do')],
    fp: ['dop_v1_' + fake(HEX, 40, 'do-short')],
  }),
  token({
    id: 'digitalocean-oauth-token',
    description: 'DigitalOcean OAuth access token',
    keywords: ['doo_v1_'],
    token: 'doo_v1_[0-9a-f]{64}',
    tp: ['doo_v1_' + fake(HEX, 64, 'doo')],
    fp: ['doo_v1_' + 'G'.repeat(64)],
  }),
  token({
    id: 'digitalocean-refresh-token',
    description: 'DigitalOcean OAuth refresh token',
    keywords: ['dor_v1_'],
    token: 'dor_v1_[0-9a-f]{64}',
    tp: ['dor_v1_' + fake(HEX, 64, 'dor')],
    fp: ['dor_v1_' + fake(HEX, 63, 'dor') + 'z'],
  }),
  token({
    id: 'heroku-api-key-v2',
    description: 'Heroku platform API key (HRKU- format)',
    keywords: ['hrku-'],
    token: 'HRKU-AA[0-9A-Za-z_-]{58}',
    boundary: 'A-Za-z0-9_-',
    tp: ['HRKU-AA' + fake(BASE64URL, 58, 'hrku')],
    fp: ['HRKU-AA' + fake(BASE64URL, 20, 'hrku-short')],
  }),
  assignment({
    id: 'heroku-api-key',
    description: 'Heroku API key (UUID) assigned to a Heroku name',
    name: 'heroku',
    keywords: ['heroku'],
    value: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
    tp: [`HEROKU_API_KEY=${uuid}`, `heroku_token: "${uuid}"`],
    fp: ['HEROKU_APP_NAME=acme-prod', `heroku_api_key = ${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`],
  }),
  assignment({
    id: 'cloudflare-api-token',
    description: 'Cloudflare API token assigned to a Cloudflare name',
    name: String.raw`cloudflare|cf[_-]api|cf[_-]token`,
    keywords: ['cloudflare', 'cf_api', 'cf-api', 'cf_token', 'cf-token'],
    value: '[A-Za-z0-9_-]{40}',
    minEntropy: 3.5,
    tp: [`CLOUDFLARE_API_TOKEN=${cfToken}`, `cf_api_token: "${cfToken}"`],
    fp: [`CLOUDFLARE_ZONE_ID=${fake(HEX, 32, 'zone')}`, 'CLOUDFLARE_API_TOKEN=${{ secrets.CF_TOKEN }}'],
  }),
  assignment({
    id: 'cloudflare-global-api-key',
    description: 'Cloudflare global API key (37 hex) assigned to a Cloudflare name',
    name: String.raw`cloudflare|cf[_-]api`,
    keywords: ['cloudflare', 'cf_api', 'cf-api'],
    value: '[0-9a-f]{37}',
    minEntropy: 3,
    tp: [`CLOUDFLARE_GLOBAL_API_KEY=${fake(HEX, 37, 'cfg')}`],
    fp: [`CLOUDFLARE_ACCOUNT_ID=${fake(HEX, 32, 'cfa')}`],
  }),
  token({
    id: 'cloudflare-origin-ca-key',
    description: 'Cloudflare Origin CA key',
    keywords: ['v1.0-'],
    token: String.raw`v1\.0-[0-9a-f]{24}-[0-9a-f]{146}`,
    tp: ['v1.0-' + fake(HEX, 24, 'oca1') + '-' + fake(HEX, 146, 'oca2')],
    fp: ['v1.0-' + fake(HEX, 24, 'oca3') + '-beta'],
  }),
];
