/** The admin log: its entries and whether the hash chain verifies (config admin tokens only). */
import { admin } from '../api.js';
import { Async, Time, useData } from '../ui.js';

interface Entry {
  seq: number;
  time: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}
type Check = { ok: true; entries: number } | { ok: false; seq: number; reason: string };

export function AdminLogPage() {
  const check = useData<Check>(admin('/admin-log/verify'));
  const log = useData<{ entries: Entry[] }>(admin('/admin-log'));
  return (
    <>
      <Async loaded={check} what="the chain check">
        {(c) =>
          c.ok ? (
            <p class="state ok" role="status">
              The chain verifies: {c.entries} entries, each linked to the one before.
            </p>
          ) : (
            <p class="state error" role="alert">
              The chain does not verify at entry {c.seq}: {c.reason}.
            </p>
          )
        }
      </Async>
      <Async loaded={log} what="the admin log" empty={(d) => d.entries.length === 0}>
        {(d) => (
          <table>
            <caption>Entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {[...d.entries].reverse().map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>
                    <Time iso={e.time} />
                  </td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>
                    <code>{e.target}</code>
                  </td>
                  <td>
                    <code>{JSON.stringify(e.details)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Async>
    </>
  );
}
