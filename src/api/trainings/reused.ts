// Answers shared by concurrent callers and reused for a while, so one Temporal round-trip serves many
// requests: 50 pollers of one task cost one describe() per interval, and a closed run is read once.

interface Entry<V> {
  at: number;
  /** Infinity while the load is in flight: every caller until then shares it. */
  ttlMs: number;
  value: Promise<V>;
}

export class Reused<K, V> {
  private readonly entries = new Map<K, Entry<V>>();

  constructor(private readonly maxEntries = 10_000) {}

  /**
   * The value for `key`: a fresh one from `load`, or one loaded at most `ttlOf(value)` ms ago (Infinity for
   * what never changes, such as a closed run's status). A failed load is not kept.
   */
  get(key: K, load: () => Promise<V>, ttlOf: (value: V) => number): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < hit.ttlMs) return hit.value;
    const entry: Entry<V> = { at: now, ttlMs: Infinity, value: load() };
    this.entries.delete(key); // re-inserted last: the map's order is the eviction order
    this.entries.set(key, entry);
    entry.value.then(
      (value) => {
        entry.ttlMs = ttlOf(value);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    return entry.value;
  }
}
