/** MCP servers and other integrations: data leaves under each service's own terms. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const thirdPartyRules: Rule[] = [
  {
    id: 'third-party-integrations',
    summary: 'Data sent to MCP servers and integrations follows those services’ practices, not Anthropic’s.',
    when: {},
    effects: [
      {
        flow: 'third-party',
        set: {
          enabled: false,
          destination: 'third-party',
          trainingUse: 'unstated',
          retentionDays: null,
          data: ['tool calls and results exchanged with MCP servers: {mcpServers}'],
          encryption: { inTransit: 'depends on each server', atRest: 'depends on each server' },
        },
        note: 'Each integration’s own terms govern retention and training; no source here states them.',
      },
    ],
    sources: [SRC.zdrNotCovered, SRC.routeMcp],
    statements: ['zdr-not-third-party'],
    example: {
      profile: { plan: 'team', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { 'third-party': { enabled: false } } },
    },
  },
  {
    id: 'third-party-mcp-configured',
    summary: 'Configured MCP servers are an outbound route for code and data.',
    when: { flags: { hasMcpServers: true } },
    effects: [
      {
        flow: 'third-party',
        set: { enabled: true },
        note: 'MCP servers are configured: whatever the agent passes to their tools leaves the machine.',
      },
    ],
    sources: [SRC.zdrNotCovered, SRC.routeMcp],
    statements: ['zdr-not-third-party', 'ra-no-mcp'],
    example: {
      profile: { plan: 'team', provider: 'anthropic', mcpServers: ['github'] },
      at: '2026-01-15',
      expect: { flows: { 'third-party': { enabled: true, retentionDays: null } } },
    },
  },
];
