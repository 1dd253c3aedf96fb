// A PostgreSQL URL as messages show it. Its own module so that parsing a store
// setting does not load `pg` (open-store.ts imports the PostgreSQL store only when
// one is used: `pg` costs ~10 % of a no-op CLI start).

/** A PostgreSQL URL as shown in messages: its password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable PostgreSQL URL)';
  }
}
