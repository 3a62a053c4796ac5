/** Code hosting: GitHub, GitLab, Bitbucket and Atlassian. */
import type { DetectionRule } from '../types.js';
import { assignment, token } from './define.js';
import { ALNUM, BASE64URL, HEX, fake } from './fake.js';

const URLSAFE = 'A-Za-z0-9_-';

const github = (id: string, prefix: string, what: string): DetectionRule =>
  token({
    id,
    description: `GitHub ${what} (${prefix}...)`,
    keywords: [prefix],
    token: `${prefix}[A-Za-z0-9]{36}`,
    tp: [prefix + fake(ALNUM, 36, id)],
    fp: [prefix + fake(ALNUM, 30, id + '-short'), prefix + 'x'.repeat(36)],
  });

const gitlab = (
  id: string,
  prefix: string,
  what: string,
  body = '[A-Za-z0-9_-]{20,64}',
  sample = fake(ALNUM, 20, id),
): DetectionRule =>
  token({
    id,
    description: `GitLab ${what} (${prefix}...)`,
    keywords: [prefix.toLowerCase()],
    token: prefix + body,
    boundary: URLSAFE + '.',
    tp: [prefix + sample],
    fp: [prefix + fake(ALNUM, 8, id + '-short')],
  });

export const codeHostingRules: DetectionRule[] = [
  github('github-pat', 'ghp_', 'personal access token (classic)'),
  github('github-oauth-token', 'gho_', 'OAuth access token'),
  github('github-user-to-server-token', 'ghu_', 'user-to-server token'),
  github('github-server-to-server-token', 'ghs_', 'app installation (server-to-server) token'),
  github('github-refresh-token', 'ghr_', 'refresh token'),
  token({
    id: 'github-fine-grained-pat',
    description: 'GitHub fine-grained personal access token (github_pat_...)',
    keywords: ['github_pat_'],
    token: 'github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}',
    tp: ['github_pat_' + fake(ALNUM, 22, 'gfg1') + '_' + fake(ALNUM, 59, 'gfg2')],
    fp: ['github_pat_' + fake(ALNUM, 22, 'gfg3'), 'github_pat_<token>'],
  }),
  gitlab(
    'gitlab-pat',
    'glpat-',
    'personal, project or group access token',
    '[A-Za-z0-9_.-]{20,64}',
    fake(ALNUM, 27, 'glpat'),
  ),
  gitlab('gitlab-deploy-token', 'gldt-', 'deploy token'),
  gitlab(
    'gitlab-runner-token',
    'glrt-',
    'runner authentication token',
    '[A-Za-z0-9_.-]{20,64}',
    fake(ALNUM, 26, 'glrt'),
  ),
  gitlab(
    'gitlab-pipeline-trigger-token',
    'glptt-',
    'pipeline trigger token',
    '[0-9a-f]{40}',
    fake(HEX, 40, 'glptt'),
  ),
  gitlab('gitlab-feed-token', 'glft-', 'feed token'),
  gitlab(
    'gitlab-ci-job-token',
    'glcbt-',
    'CI/CD job token',
    '[0-9a-f]{1,5}_[A-Za-z0-9_-]{20,64}',
    '7e_' + fake(ALNUM, 30, 'glcbt'),
  ),
  gitlab('gitlab-scim-token', 'glsoat-', 'SCIM OAuth token'),
  gitlab(
    'gitlab-agent-token',
    'glagent-',
    'Kubernetes agent token',
    '[A-Za-z0-9_-]{50,64}',
    fake(ALNUM, 50, 'glagent'),
  ),
  gitlab(
    'gitlab-oauth-app-secret',
    'gloas-',
    'OAuth application secret',
    '[0-9a-f]{64}',
    fake(HEX, 64, 'gloas'),
  ),
  gitlab('gitlab-runner-registration-token', 'GR1348941', 'runner registration token'),
  token({
    id: 'bitbucket-app-password',
    description: 'Bitbucket app password (ATBB...)',
    keywords: ['atbb'],
    token: 'ATBB[A-Za-z0-9_=.-]{32,40}',
    boundary: URLSAFE + '=.',
    tp: ['ATBB' + fake(ALNUM, 24, 'atbb') + fake(HEX.toUpperCase(), 8, 'atbb2')],
    fp: ['ATBB' + fake(ALNUM, 10, 'atbb-short')],
  }),
  token({
    id: 'atlassian-api-token',
    description: 'Atlassian (Jira, Confluence, Bitbucket) API token (ATATT3... / ATCTT3...)',
    keywords: ['atatt3', 'atctt3'],
    token: 'AT[AC]TT3[A-Za-z0-9_=-]{150,250}',
    boundary: URLSAFE + '=',
    tp: ['ATATT3' + fake(BASE64URL, 170, 'atl') + '=' + fake(HEX.toUpperCase(), 8, 'atl2')],
    fp: ['ATATT3' + fake(BASE64URL, 40, 'atl-short')],
  }),
  assignment({
    id: 'atlassian-legacy-api-token',
    description: 'Legacy Atlassian / Jira / Confluence API token assigned to an Atlassian name',
    name: 'atlassian|jira|confluence',
    keywords: ['atlassian', 'jira', 'confluence'],
    value: '[A-Za-z0-9]{24}',
    minEntropy: 3.5,
    validate: (v) => /[a-z]/.test(v) && /[A-Z]/.test(v) && /\d/.test(v),
    tp: [`JIRA_API_TOKEN=${fake(ALNUM, 24, 'jira')}`, `confluence_token: "${fake(ALNUM, 24, 'conf')}"`],
    fp: ['JIRA_URL=https://acme.atlassian.net', 'jira_project: ACMEPLATFORM2024RELEASES'],
  }),
];
