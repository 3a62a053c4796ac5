/** `GET /v1/models` for a cloud upstream, which has no such list in the Messages API's shape: its table. */
import { DEFAULT_MODELS, shortModelId, type Provider } from './models.js';

interface ListedModel {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
}

/** The models `provider` serves by default or by its table, by the ids clients ask for. */
export function modelList(provider: Provider, table: Readonly<Record<string, string>>) {
  const ids = new Set<string>();
  for (const [short, m] of Object.entries(DEFAULT_MODELS)) if (m[provider]) ids.add(short);
  for (const id of Object.keys(table)) ids.add(shortModelId(id) ?? id);
  const data: ListedModel[] = [...ids].map((id) => ({
    type: 'model',
    id,
    display_name: id,
    // The list's shape asks for a date; the table has none to give.
    created_at: '1970-01-01T00:00:00Z',
  }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
