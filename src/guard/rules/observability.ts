/** Monitoring and observability: Datadog, New Relic, Sentry, Grafana. */
import type { DetectionRule } from '../types.js';
import { assignment, token } from './define.js';
import { ALNUM, BASE64, BASE64URL, HEX, UPPER_ALNUM, fake } from './fake.js';

const URLSAFE = 'A-Za-z0-9_-';
const sentryKey = fake(HEX, 32, 'sentry');

export const observabilityRules: DetectionRule[] = [
  assignment({
    id: 'datadog-api-key',
    description: 'Datadog API key assigned to a Datadog name',
    name: String.raw`(?:datadog|dd)[_-]?api[_-]?key`,
    keywords: ['datadog', 'dd_api', 'dd-api', 'ddapi'],
    value: '[0-9a-f]{32}',
    minEntropy: 3,
    tp: [`DD_API_KEY=${fake(HEX, 32, 'dd')}`, `datadog_api_key: "${fake(HEX, 32, 'dd2')}"`],
    fp: ['DD_API_KEY=${DD_API_KEY}', `DD_SITE=datadoghq.eu`],
  }),
  assignment({
    id: 'datadog-app-key',
    description: 'Datadog application key assigned to a Datadog name',
    name: String.raw`(?:datadog|dd)[_-]?app(?:lication)?[_-]?key`,
    keywords: ['datadog', 'dd_app', 'dd-app', 'ddapp'],
    value: '[0-9a-f]{40}',
    minEntropy: 3,
    tp: [`DD_APP_KEY=${fake(HEX, 40, 'ddapp')}`, `datadog_application_key = "${fake(HEX, 40, 'ddapp2')}"`],
    fp: [`DD_APP_KEY=${fake(HEX, 32, 'ddapp3')}`],
  }),
  token({
    id: 'newrelic-user-api-key',
    description: 'New Relic user API key (NRAK-...)',
    keywords: ['nrak-'],
    token: 'NRAK-[A-Z0-9]{27}',
    boundary: URLSAFE,
    tp: ['NRAK-' + fake(UPPER_ALNUM, 27, 'nrak')],
    fp: ['NRAK-' + fake(UPPER_ALNUM, 12, 'nrak-short')],
  }),
  token({
    id: 'newrelic-insert-key',
    description: 'New Relic insights insert or query key (NRII-, NRIQ-)',
    keywords: ['nrii-', 'nriq-'],
    token: 'NRI[IQ]-[A-Za-z0-9_-]{32}',
    boundary: URLSAFE,
    tp: ['NRII-' + fake(BASE64URL, 32, 'nrii')],
    fp: ['NRII-' + fake(BASE64URL, 10, 'nrii-short')],
  }),
  {
    id: 'sentry-dsn',
    kind: 'secret',
    description: 'Sentry DSN (the key in https://<key>@...sentry.../<project>)',
    keywords: ['sentry'],
    pattern:
      /https?:\/\/([0-9a-f]{32})(?::[0-9a-f]{32})?@[A-Za-z0-9.-]{0,100}sentry[A-Za-z0-9.-]{0,100}(?::\d{2,5})?\/(?:[a-z0-9_-]{1,64}\/){0,3}\d{1,20}/,
    secretGroup: 1,
    samples: {
      tp: [
        `SENTRY_DSN=https://${sentryKey}@o${fake(HEX, 6, 's1').replace(/[a-f]/g, '4')}.ingest.us.sentry.io/4507${fake(HEX, 8, 's2').replace(/[a-f]/g, '7')}`,
        `dsn: "https://${sentryKey}@sentry.internal.acme.io/12"`,
      ],
      fp: ['SENTRY_DSN=https://public@sentry.example.com/1', 'https://docs.sentry.io/platforms/'],
    },
  },
  token({
    id: 'sentry-org-token',
    description: 'Sentry organization auth token (sntrys_...)',
    keywords: ['sntrys_'],
    token: 'sntrys_eyJ[A-Za-z0-9+/=]{40,300}_[A-Za-z0-9+/=]{40,50}',
    boundary: 'A-Za-z0-9_+/=',
    tp: ['sntrys_eyJ' + fake(BASE64, 120, 'sntrys') + '_' + fake(BASE64, 43, 'sntrys2')],
    fp: ['sntrys_' + fake(ALNUM, 20, 'sntrys-short')],
  }),
  token({
    id: 'sentry-user-token',
    description: 'Sentry user auth token (sntryu_...)',
    keywords: ['sntryu_'],
    token: 'sntryu_[0-9a-f]{64}',
    tp: ['sntryu_' + fake(HEX, 64, 'sntryu')],
    fp: ['sntryu_' + fake(HEX, 30, 'sntryu-short')],
  }),
  token({
    id: 'grafana-cloud-token',
    description: 'Grafana Cloud access policy token (glc_...)',
    keywords: ['glc_'],
    token: 'glc_[A-Za-z0-9+/]{32,400}={0,2}',
    boundary: 'A-Za-z0-9_+/=',
    tp: ['glc_' + fake(BASE64, 120, 'glc') + '=='],
    fp: ['glc_' + fake(ALNUM, 12, 'glc-short')],
  }),
  token({
    id: 'grafana-service-account-token',
    description: 'Grafana service account token (glsa_...)',
    keywords: ['glsa_'],
    token: 'glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}',
    tp: ['glsa_' + fake(ALNUM, 32, 'glsa') + '_' + fake(HEX, 8, 'glsa2')],
    fp: ['glsa_' + fake(ALNUM, 32, 'glsa3')],
  }),
  token({
    id: 'grafana-api-key',
    description: 'Grafana legacy API key (base64 JSON starting eyJrIjoi)',
    keywords: ['eyjrijoi'],
    token: 'eyJrIjoi[A-Za-z0-9]{60,100}={0,2}',
    boundary: 'A-Za-z0-9_+/=',
    tp: ['eyJrIjoi' + fake(ALNUM, 72, 'grafana')],
    fp: ['eyJrIjoi' + fake(ALNUM, 20, 'grafana-short')],
  }),
];
