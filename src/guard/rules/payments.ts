/** Payments and commerce: Stripe, Square, PayPal/Braintree, Shopify, Shippo. */
import type { DetectionRule } from '../types.js';
import { token } from './define.js';
import { ALNUM, BASE64URL, HEX, LOWER_ALNUM, fake } from './fake.js';

const URLSAFE = 'A-Za-z0-9_-';

export const paymentRules: DetectionRule[] = [
  token({
    id: 'stripe-secret-key',
    description: 'Stripe live secret key (sk_live_...)',
    keywords: ['sk_live_'],
    token: 'sk_live_[A-Za-z0-9]{24,247}',
    tp: ['sk_live_' + fake(ALNUM, 99, 'stripe-live')],
    fp: ['sk_live_' + fake(ALNUM, 10, 'stripe-short'), 'pk_live_' + fake(ALNUM, 99, 'stripe-pk')],
  }),
  token({
    id: 'stripe-restricted-key',
    description: 'Stripe live restricted key (rk_live_...)',
    keywords: ['rk_live_'],
    token: 'rk_live_[A-Za-z0-9]{24,247}',
    tp: ['rk_live_' + fake(ALNUM, 99, 'stripe-rk')],
    fp: ['rk_live_' + fake(ALNUM, 12, 'stripe-rk-short')],
  }),
  token({
    id: 'stripe-test-secret-key',
    description: 'Stripe test-mode secret or restricted key (sk_test_..., rk_test_...)',
    keywords: ['sk_test_', 'rk_test_'],
    token: '[sr]k_test_[A-Za-z0-9]{24,247}',
    tp: ['sk_test_' + fake(ALNUM, 99, 'stripe-test')],
    fp: ['sk_test_' + fake(ALNUM, 8, 'stripe-test-short'), 'pk_test_' + fake(ALNUM, 99, 'stripe-pk-test')],
  }),
  token({
    id: 'stripe-webhook-secret',
    description: 'Stripe webhook signing secret (whsec_...)',
    keywords: ['whsec_'],
    token: 'whsec_[A-Za-z0-9+/=]{32,64}',
    boundary: 'A-Za-z0-9_+/=',
    tp: ['whsec_' + fake(ALNUM, 32, 'whsec')],
    fp: ['whsec_' + fake(ALNUM, 16, 'whsec-short')],
  }),
  token({
    id: 'square-access-token',
    description: 'Square access token (EAAA... or sq0atp-...)',
    keywords: ['eaaa', 'sq0atp-'],
    token: 'EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22}',
    boundary: URLSAFE,
    tp: ['EAAA' + fake(BASE64URL, 60, 'square'), 'sq0atp-' + fake(BASE64URL, 22, 'square-old')],
    fp: ['EAAA' + fake(BASE64URL, 30, 'square-short')],
  }),
  token({
    id: 'square-oauth-secret',
    description: 'Square OAuth application secret (sq0csp-...)',
    keywords: ['sq0csp-'],
    token: 'sq0csp-[A-Za-z0-9_-]{43}',
    boundary: URLSAFE,
    tp: ['sq0csp-' + fake(BASE64URL, 43, 'sq0csp')],
    fp: ['sq0csp-' + fake(BASE64URL, 20, 'sq0csp-short')],
  }),
  token({
    id: 'braintree-access-token',
    description: 'PayPal Braintree access token (access_token$production$...)',
    keywords: ['access_token$'],
    token: String.raw`access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}`,
    tp: ['access_token$production$' + fake(LOWER_ALNUM, 16, 'bt1') + '$' + fake(HEX, 32, 'bt2')],
    fp: ['access_token$production$' + fake(LOWER_ALNUM, 16, 'bt3'), '$access_token$'],
  }),
  token({
    id: 'shopify-access-token',
    description: 'Shopify Admin API access token (shpat_, shpca_, shppa_)',
    keywords: ['shpat_', 'shpca_', 'shppa_'],
    token: 'shp(?:at|ca|pa)_[a-fA-F0-9]{32}',
    tp: ['shpat_' + fake(HEX, 32, 'shpat'), 'shppa_' + fake(HEX, 32, 'shppa')],
    fp: ['shpat_' + fake(HEX, 20, 'shpat-short')],
  }),
  token({
    id: 'shopify-shared-secret',
    description: 'Shopify app shared secret (shpss_...)',
    keywords: ['shpss_'],
    token: 'shpss_[a-fA-F0-9]{32}',
    tp: ['shpss_' + fake(HEX, 32, 'shpss')],
    fp: ['shpss_' + 'g'.repeat(32)],
  }),
  token({
    id: 'shippo-api-token',
    description: 'Shippo API token (shippo_live_ / shippo_test_)',
    keywords: ['shippo_'],
    token: 'shippo_(?:live|test)_[a-fA-F0-9]{40}',
    tp: ['shippo_live_' + fake(HEX, 40, 'shippo')],
    fp: ['shippo_live_' + fake(HEX, 12, 'shippo-short')],
  }),
];
