/** Infrastructure and secret management: HashiCorp Vault, Terraform Cloud, Doppler, Pulumi, 1Password, Buildkite, age. */
import type { DetectionRule } from '../types.js';
import { token } from './define.js';
import { ALNUM, BASE64, BASE64URL, HEX, fake } from './fake.js';

const URLSAFE = 'A-Za-z0-9_-';
const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'.toUpperCase();

export const infraRules: DetectionRule[] = [
  token({
    id: 'vault-service-token',
    description: 'HashiCorp Vault service token (hvs....)',
    keywords: ['hvs.'],
    token: String.raw`hvs\.[A-Za-z0-9_-]{24,130}`,
    boundary: URLSAFE + '.',
    tp: ['hvs.' + fake(BASE64URL, 24, 'hvs'), 'hvs.CAESI' + fake(BASE64URL, 86, 'hvs2')],
    fp: ['hvs.' + fake(ALNUM, 10, 'hvs-short'), 'this.hvs.value'],
  }),
  token({
    id: 'vault-batch-token',
    description: 'HashiCorp Vault batch token (hvb....)',
    keywords: ['hvb.'],
    token: String.raw`hvb\.[A-Za-z0-9_-]{100,300}`,
    boundary: URLSAFE + '.',
    tp: ['hvb.AAAAAQ' + fake(BASE64URL, 130, 'hvb')],
    fp: ['hvb.' + fake(ALNUM, 30, 'hvb-short')],
  }),
  token({
    id: 'terraform-cloud-token',
    keywordInside: true,
    description: 'Terraform Cloud / Enterprise API token (<14>.atlasv1.<...>)',
    keywords: ['.atlasv1.'],
    token: String.raw`[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}`,
    boundary: URLSAFE + '=',
    tp: [fake(ALNUM, 14, 'tfc') + '.atlasv1.' + fake(BASE64URL, 67, 'tfc2')],
    fp: [fake(ALNUM, 14, 'tfc3') + '.atlasv1.' + fake(ALNUM, 10, 'tfc4')],
  }),
  token({
    id: 'doppler-token',
    description: 'Doppler personal, service, service-account, CLI, SCIM or audit token (dp.pt., dp.st., ...)',
    keywords: ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'],
    token: String.raw`dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{1,40}\.)?[A-Za-z0-9]{40,44}`,
    boundary: URLSAFE + '.',
    tp: ['dp.pt.' + fake(ALNUM, 43, 'doppler'), 'dp.st.prd.' + fake(ALNUM, 43, 'doppler2')],
    fp: ['dp.pt.' + fake(ALNUM, 12, 'doppler-short')],
  }),
  token({
    id: 'pulumi-access-token',
    description: 'Pulumi access token (pul-...)',
    keywords: ['pul-'],
    token: 'pul-[a-f0-9]{40}',
    boundary: URLSAFE,
    tp: ['pul-' + fake(HEX, 40, 'pulumi')],
    fp: ['pul-' + fake(HEX, 12, 'pulumi-short'), 'pull-request'],
  }),
  token({
    id: 'onepassword-service-account-token',
    description: '1Password service account token (ops_eyJ...)',
    keywords: ['ops_eyj'],
    token: 'ops_eyJ[A-Za-z0-9+/=_-]{100,2000}',
    boundary: 'A-Za-z0-9_+/=-',
    tp: ['ops_eyJ' + fake(BASE64, 400, 'ops')],
    fp: ['ops_eyJ' + fake(BASE64, 40, 'ops-short')],
  }),
  token({
    id: 'buildkite-agent-token',
    description: 'Buildkite user API access token (bkua_...)',
    keywords: ['bkua_'],
    token: 'bkua_[a-f0-9]{40}',
    tp: ['bkua_' + fake(HEX, 40, 'bkua')],
    fp: ['bkua_' + fake(HEX, 16, 'bkua-short')],
  }),
  token({
    id: 'age-secret-key',
    description: 'age encryption secret key (AGE-SECRET-KEY-1...)',
    keywords: ['age-secret-key-1'],
    token: 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}',
    boundary: URLSAFE,
    tp: ['AGE-SECRET-KEY-1' + fake(BECH32, 58, 'age')],
    fp: ['AGE-SECRET-KEY-1' + fake(BECH32, 20, 'age-short'), 'AGE-SECRET-KEY-1' + 'B'.repeat(58)],
  }),
];
