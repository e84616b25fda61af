// The query API (docs/api.md) with the token the user gave once, kept in localStorage. A 401
// forgets the token and asks for it again.

const KEY = 'joulestream.token';

export const token = {
  get: () => localStorage.getItem(KEY),
  set: (t) => localStorage.setItem(KEY, t.trim()),
  clear: () => localStorage.removeItem(KEY),
};

export class AuthError extends Error {}

export async function get(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const url = `/api/v1/${path}${q.size ? `?${q}` : ''}`;
  const r = await fetch(url, { headers: { Authorization: `Bearer ${token.get() || ''}` } });
  if (r.status === 401) { token.clear(); throw new AuthError('the token was refused: give another'); }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || `${r.status} from ${url}`);
  return body;
}

/** Every event of one type of a run after sequence number `after` (pages of 5000). */
export async function events(run, type, after = 0) {
  const all = [];
  let last = after;
  for (;;) {
    const page = await get(`runs/${encodeURIComponent(run)}/events`, { type, after: last });
    all.push(...page.events);
    last = page.last;
    if (!page.more) return { events: all, last };
  }
}
