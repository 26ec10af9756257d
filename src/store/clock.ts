// Time for the dashboard's store reads: "now" (HEA_NOW, as the jobs read it, so a replayed or tested
// store is seen at its own time) and local calendar days in the home's time zone, without a date library.

/** Now in UTC epoch seconds: HEA_NOW when set (the jobs' fixed clock), else the wall clock. */
export function nowSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const fixed = env.HEA_NOW?.trim();
  if (fixed) {
    const ms = Date.parse(fixed);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  return Math.floor(Date.now() / 1000);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

function parts(epochS: number, tz: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(epochS * 1000))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** The local date (YYYY-MM-DD) of an instant in `tz`. */
export function localDate(epochS: number, tz: string): string {
  const p = parts(epochS, tz);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The zone's offset from UTC at an instant, in seconds (east positive). */
function offsetSeconds(epochS: number, tz: string): number {
  const p = parts(epochS, tz);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) / 1000 - epochS;
}

/** The instant local midnight starts `date` (YYYY-MM-DD) in `tz`, daylight-saving changes included. */
export function localMidnight(date: string, tz: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d) / 1000;
  let guess = wall - offsetSeconds(wall, tz);
  guess = wall - offsetSeconds(guess, tz);
  return guess;
}

/** The local date `days` after `date`. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export const iso = (epochS: number) => new Date(epochS * 1000).toISOString().replace('.000Z', 'Z');
