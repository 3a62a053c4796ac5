/** Who runs a CLI verb, for the admin log. */
import { userInfo } from 'node:os';

/** `cli:<os user>`: the user behind sudo, else the process's account, else the environment's word. */
export function cliActor(): string {
  if (process.env.SUDO_USER) return `cli:${process.env.SUDO_USER}`;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // No passwd entry (some containers): the uid still says who.
    return `cli:${process.env.USER ?? process.env.USERNAME ?? `uid:${process.getuid?.() ?? 'unknown'}`}`;
  }
}
