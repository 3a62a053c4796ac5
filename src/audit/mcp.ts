/** MCP servers from every scope, and whether the client would start each one. */
import { isDeepStrictEqual } from 'node:util';
import { isRecord, readJsonObject } from './files.js';
import type { EffectiveSettings, Finding, MachinePaths, McpScope, McpServer } from './types.js';

/** Reads `managed-mcp.json`, `~/.claude.json` (user and local scope) and `<project>/.mcp.json`. */
export async function loadMcpServers(
  paths: MachinePaths,
  project: string,
  settings: EffectiveSettings,
): Promise<{ servers: McpServer[]; findings: Finding[] }> {
  const findings: Finding[] = [];
  const servers: McpServer[] = [];
  const read = async (file: string, what: string) => {
    const r = await readJsonObject(file, what);
    if (r.status === 'error') findings.push(r.finding);
    return r.status === 'ok' ? r.data : undefined;
  };
  const add = (block: unknown, scope: McpScope, file: string) => {
    if (!isRecord(block)) return;
    for (const [name, config] of Object.entries(block)) {
      if (isRecord(config)) servers.push(toServer(name, scope, file, config));
    }
  };

  const managed = await read(paths.managedMcp, 'managed MCP file');
  add(managed?.mcpServers, 'managed', paths.managedMcp);
  const global = await read(paths.globalConfig, 'global config');
  const projects = global?.projects;
  if (isRecord(projects)) {
    const entry = projects[project] ?? projects[project.replace(/\\/g, '/')];
    if (isRecord(entry)) add(entry.mcpServers, 'local', paths.globalConfig);
  }
  const projectMcp = await read(paths.projectMcp, 'project MCP file');
  add(projectMcp?.mcpServers, 'project', paths.projectMcp);
  add(global?.mcpServers, 'user', paths.globalConfig);

  decideActive(servers, settings, managed !== undefined);
  return { servers, findings };
}

function toServer(name: string, scope: McpScope, file: string, config: Record<string, unknown>): McpServer {
  const type = typeof config.type === 'string' ? config.type : undefined;
  const url = typeof config.url === 'string' ? config.url : undefined;
  const command = typeof config.command === 'string' ? config.command : undefined;
  const args = Array.isArray(config.args) ? config.args.map(String) : undefined;
  const transport: McpServer['transport'] =
    type === 'http' || type === 'sse' || type === 'stdio'
      ? type
      : command
        ? 'stdio'
        : url
          ? 'http'
          : 'unknown';
  return { name, scope, file, transport, command, args, url, active: true, config };
}

/** Scope order for duplicate names (the whole entry wins): managed, local, project, user. */
const SCOPE_ORDER: McpScope[] = ['managed', 'local', 'project', 'user'];

function decideActive(servers: McpServer[], settings: EffectiveSettings, managedExclusive: boolean): void {
  const items = (path: string, managedOnly: boolean) =>
    (settings.lists[path] ?? [])
      .filter((i) => !managedOnly || i.origin.scope === 'managed')
      .map((i) => i.value)
      .filter(isRecord);
  const managedOnly = settings.values.allowManagedMcpServersOnly === true;
  const allowDefined =
    (settings.lists.allowedMcpServers ?? []).length > 0 || 'allowedMcpServers' in settings.values;
  const allowed = items('allowedMcpServers', managedOnly);
  const denied = items('deniedMcpServers', false);
  const disabledProject = new Set((settings.lists.disabledMcpjsonServers ?? []).map((i) => String(i.value)));

  const seen = new Set<string>();
  const sorted = [...servers].sort((a, b) => SCOPE_ORDER.indexOf(a.scope) - SCOPE_ORDER.indexOf(b.scope));
  for (const server of sorted) {
    const off = (reason: string) => {
      server.active = false;
      server.inactiveReason = reason;
    };
    if (managedExclusive && server.scope !== 'managed') off('managed-mcp.json takes exclusive control');
    else if (seen.has(server.name)) off('shadowed by a server of the same name in a higher scope');
    else if (denied.some((e) => matches(e, server))) off('denied by deniedMcpServers');
    else if ((allowDefined || managedOnly) && !allowed.some((e) => matches(e, server)))
      off(managedOnly ? 'not in the managed allowedMcpServers' : 'not in allowedMcpServers');
    else if (server.scope === 'project' && disabledProject.has(server.name))
      off('listed in disabledMcpjsonServers');
    seen.add(server.name);
  }
}

/** One allow/deny entry: exactly one of serverName, serverCommand (exact argv) or serverUrl (`*` wildcard). */
function matches(entry: Record<string, unknown>, server: McpServer): boolean {
  if (typeof entry.serverName === 'string') return entry.serverName === server.name;
  if (Array.isArray(entry.serverCommand)) {
    return (
      server.command !== undefined &&
      isDeepStrictEqual(entry.serverCommand, [server.command, ...(server.args ?? [])])
    );
  }
  if (typeof entry.serverUrl === 'string' && server.url) {
    const pattern = entry.serverUrl.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${pattern.join('.*')}$`).test(server.url);
  }
  return false;
}
