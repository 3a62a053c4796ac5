/** Work tools with APIs: Linear, Notion, Airtable, Figma, Postman. */
import type { DetectionRule } from '../types.js';
import { token } from './define.js';
import { ALNUM, DIGITS, HEX, fake } from './fake.js';

export const productivityRules: DetectionRule[] = [
  token({
    id: 'linear-api-key',
    description: 'Linear personal API key (lin_api_...)',
    keywords: ['lin_api_'],
    token: 'lin_api_[A-Za-z0-9]{40}',
    tp: ['lin_api_' + fake(ALNUM, 40, 'linear')],
    fp: ['lin_api_' + fake(ALNUM, 20, 'linear-short')],
  }),
  token({
    id: 'linear-oauth-token',
    description: 'Linear OAuth access token (lin_oauth_...)',
    keywords: ['lin_oauth_'],
    token: 'lin_oauth_[a-f0-9]{64}',
    tp: ['lin_oauth_' + fake(HEX, 64, 'linear-oauth')],
    fp: ['lin_oauth_' + fake(HEX, 30, 'linear-oauth-short')],
  }),
  token({
    id: 'notion-integration-token',
    description: 'Notion integration token (ntn_... or legacy secret_...)',
    keywords: ['ntn_', 'secret_'],
    token: 'ntn_[0-9]{11}[A-Za-z0-9]{32,36}|secret_[A-Za-z0-9]{43}',
    tp: ['ntn_' + fake(DIGITS, 11, 'ntn') + fake(ALNUM, 35, 'ntn2'), 'secret_' + fake(ALNUM, 43, 'notion')],
    fp: ['secret_key_base', 'secret_' + fake(ALNUM, 20, 'notion-short')],
  }),
  token({
    id: 'airtable-pat',
    description: 'Airtable personal access token (pat<14>.<64 hex>)',
    keywords: ['pat'],
    token: String.raw`pat[A-Za-z0-9]{14}\.[a-f0-9]{64}`,
    tp: ['pat' + fake(ALNUM, 14, 'airtable') + '.' + fake(HEX, 64, 'airtable2')],
    fp: ['pattern' + fake(ALNUM, 8, 'airtable3') + '.' + fake(HEX, 64, 'airtable4'), 'path.join(dir, file)'],
  }),
  token({
    id: 'figma-pat',
    description: 'Figma personal access token (figd_...)',
    keywords: ['figd_'],
    token: 'figd_[A-Za-z0-9_-]{40,43}',
    boundary: 'A-Za-z0-9_-',
    tp: ['figd_' + fake(ALNUM, 40, 'figma')],
    fp: ['figd_' + fake(ALNUM, 10, 'figma-short')],
  }),
  token({
    id: 'postman-api-key',
    description: 'Postman API key (PMAK-...)',
    keywords: ['pmak-'],
    token: 'PMAK-[a-f0-9]{24}-[a-f0-9]{34}',
    boundary: 'A-Za-z0-9_-',
    tp: ['PMAK-' + fake(HEX, 24, 'pmak') + '-' + fake(HEX, 34, 'pmak2')],
    fp: ['PMAK-' + fake(HEX, 24, 'pmak3')],
  }),
];
