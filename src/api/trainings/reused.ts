// Answers shared by concurrent callers and reused for a while, so one Temporal round-trip serves many
// requests: pollers of one task who ask together cost one describe(), and a closed run is read once.
//
// Never older than the request: a caller shares only a read that had not begun when it arrived, or a
// settled value its ttl still allows. A read begun before the caller arrived may predate a write the
// caller saw complete (a terminate, then a GET: the GET must not read RUNNING). So a read begins
// `batchMs` after the first caller asks (every caller until then shares it: pollers of one task arrive
// within a few ms of each other, and without the wait each would need its own read: the peer-shaped
// bench's status p50 went from ~15 to 90-160 ms), and a caller who finds a read in flight starts another
// rather than waiting for it to end; with `maxInFlight` reads of a key in flight, callers join the next
// one, which begins as soon as one of them ends.

interface Settled<V> {
  /** When the read began. */
  at: number;
  /** Which read it was (reads of the same millisecond are told apart). */
  seq: number;
  ttlMs: number;
  value: Promise<V>;
}

interface NextRead<V> {
  value: Promise<V>;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
  load: () => Promise<V>;
  ttlOf: (value: V) => number;
}

interface Slot<V> {
  settled?: Settled<V>;
  /** A read not begun yet: callers who arrive now join it. */
  next?: NextRead<V>;
  /** Reads begun and not ended. */
  inFlight: number;
}

export class Reused<K, V> {
  private readonly slots = new Map<K, Slot<V>>();
  private reads = 0;

  private readonly maxInFlight: number;
  private readonly batchMs: number;

  /**
   * @param maxEntries keys kept (the least recently asked go first)
   * @param options.maxInFlight reads of one key in flight at once (2: a caller never waits for a read it cannot use)
   * @param options.batchMs how long a read waits for more callers before it begins
   */
  constructor(
    private readonly maxEntries = 10_000,
    options: { maxInFlight?: number; batchMs?: number } = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 2;
    this.batchMs = options.batchMs ?? 2;
  }

  /**
   * The value for `key`: from a read that begins after this call, or from one that began at most
   * `ttlOf(value)` ms ago (0: never reused once ended; Infinity for what never changes, such as a closed
   * run's status). A failed read is not kept.
   */
  get(key: K, load: () => Promise<V>, ttlOf: (value: V) => number): Promise<V> {
    const now = Date.now();
    let slot = this.slots.get(key);
    if (slot?.settled && now - slot.settled.at < slot.settled.ttlMs) return slot.settled.value;
    if (slot?.next) return slot.next.value;
    if (!slot) {
      slot = { inFlight: 0 };
      if (this.slots.size >= this.maxEntries) this.slots.delete(this.slots.keys().next().value as K);
    }
    this.slots.delete(key); // re-inserted last: the map's order is the eviction order
    this.slots.set(key, slot);
    let resolve!: (value: V) => void;
    let reject!: (err: unknown) => void;
    const value = new Promise<V>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    const next: NextRead<V> = { value, resolve, reject, load, ttlOf };
    slot.next = next;
    const s = slot;
    if (slot.inFlight < this.maxInFlight) setTimeout(() => this.begin(key, s, next), this.batchMs);
    // else: it begins when one of the reads in flight ends (see begin)
    return value;
  }

  private begin(key: K, slot: Slot<V>, read: NextRead<V>): void {
    if (slot.next !== read) return; // begun already
    slot.next = undefined;
    slot.inFlight++;
    const at = Date.now();
    const seq = ++this.reads;
    let loaded: Promise<V>;
    try {
      loaded = read.load();
    } catch (err) {
      loaded = Promise.reject(err);
    }
    loaded
      .then(
        (value) => {
          // Reads may end out of order: keep the one that began last.
          if (!slot.settled || slot.settled.seq < seq) slot.settled = { at, seq, ttlMs: read.ttlOf(value), value: read.value };
          read.resolve(value);
        },
        (err: unknown) => read.reject(err),
      )
      .finally(() => {
        slot.inFlight--;
        if (slot.next) this.begin(key, slot, slot.next);
        else if (slot.inFlight === 0 && !(slot.settled && slot.settled.ttlMs > 0) && this.slots.get(key) === slot) this.slots.delete(key);
      });
  }
}
