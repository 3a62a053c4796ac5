/** Package registries and container hubs: npm, PyPI, RubyGems, Docker Hub. */
import type { DetectionRule } from '../types.js';
import { token } from './define.js';
import { ALNUM, BASE64URL, HEX, fake } from './fake.js';

const URLSAFE = 'A-Za-z0-9_-';

export const registryRules: DetectionRule[] = [
  token({
    id: 'npm-access-token',
    description: 'npm access token (npm_...)',
    keywords: ['npm_'],
    token: 'npm_[A-Za-z0-9]{36}',
    tp: ['npm_' + fake(ALNUM, 36, 'npm')],
    fp: ['npm_' + fake(ALNUM, 20, 'npm-short'), 'npm_config_' + fake(ALNUM, 25, 'npmcfg')],
  }),
  token({
    id: 'pypi-upload-token',
    description: 'PyPI API token (pypi-AgEIcHlwaS5vcmc...)',
    keywords: ['pypi-ageichlwas5vcmc'],
    token: 'pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,300}',
    boundary: URLSAFE,
    tp: ['pypi-' + 'AgEIcHlwaS5vcmc' + fake(BASE64URL, 150, 'pypi')],
    fp: ['pypi-' + 'AgEIcHlwaS5vcmc' + fake(BASE64URL, 20, 'pypi-short')],
  }),
  token({
    id: 'rubygems-api-key',
    description: 'RubyGems API key (rubygems_...)',
    keywords: ['rubygems_'],
    token: 'rubygems_[0-9a-f]{48}',
    tp: ['rubygems_' + fake(HEX, 48, 'rubygems')],
    fp: ['rubygems_' + fake(HEX, 30, 'rubygems-short')],
  }),
  token({
    id: 'dockerhub-pat',
    description: 'Docker Hub personal or organization access token (dckr_pat_, dckr_oat_)',
    keywords: ['dckr_pat_', 'dckr_oat_'],
    token: 'dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32}',
    boundary: URLSAFE,
    tp: ['dckr_pat_' + fake(BASE64URL, 27, 'dckr')],
    fp: ['dckr_pat_' + fake(BASE64URL, 12, 'dckr-short')],
  }),
];
