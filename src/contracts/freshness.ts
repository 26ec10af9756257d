// The freshness check's verdicts: written by the checkFreshness activity, carried in the dataFreshness
// report, counted by `hea freshness`.

/** One dataset's verdict, as the organizer's check_data_freshness gave it (is_fresh and a reason). */
export interface DatasetFreshness {
  dataset: string;
  target: string;
  is_fresh: boolean;
  reason: string;
  latest?: string;
  age_hours?: number;
  max_age_hours: number;
  /** The store's status could not be read: neither fresh nor stale, and no alert or remediation. */
  unknown?: boolean;
  remediate?: { flow: string; workflow: string };
}

/** A series' row count and time range, as the store_status job reports it. */
export interface SeriesStatus {
  rows?: number;
  first?: string | null;
  latest?: string | null;
}

/** Stale: not fresh, and known to be so (an unreadable store status is no verdict). */
export function isStale(v: DatasetFreshness): boolean {
  return !v.is_fresh && !v.unknown;
}
