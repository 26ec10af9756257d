// Shared reads (src/api/trainings/reused.ts) without a server: the load function is a stand-in for
// describe() that reads the "server's" state when it begins and answers when the test lets it.
import { Reused } from '../../src/api/trainings/reused.js';

/** A store whose reads see the state as it was when they began, and end only when released. */
function slowStore(initial: string) {
  let state = initial;
  const pending: { seen: string; release: () => void; fail: (err: Error) => void }[] = [];
  return {
    write(value: string) {
      state = value;
    },
    load: (): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        const seen = state;
        pending.push({ seen, release: () => resolve(seen), fail: reject });
      }),
    /** Reads begun so far (ended or not). */
    begun: () => pending.length,
    /** Ends the i-th read begun. */
    end(i: number) {
      pending[i]!.release();
    },
    failRead(i: number) {
      pending[i]!.fail(new Error('unavailable'));
    },
  };
}

/** Reads asked for before this begin (the tests' Reused waits 0 ms for more callers; timers keep their order). */
const turn = () => new Promise((r) => setTimeout(r, 0));
/** Shares reads like the API's, without the batching wait (its own test below). */
const reused = () => new Reused<string, string>(10_000, { batchMs: 0 });
const NEVER_REUSED = () => 0;
const FINAL = (s: string) => (s === 'FAILED' ? Infinity : 0);
/** A read that never begins or never ends hangs: fail fast instead. */
const QUICK = 5_000;

test(
  'a request after a write never gets a read that began before it (terminate, then GET)',
  async () => {
    const store = slowStore('RUNNING');
    const reads = reused();
    const before = reads.get('task', store.load, FINAL);
    await turn();
    expect(store.begun()).toBe(1); // a slow read of RUNNING is in flight
    store.write('FAILED'); // the terminate returns
    const after = reads.get('task', store.load, FINAL); // then the GET arrives
    await turn();
    store.end(0);
    expect(await before).toBe('RUNNING'); // it asked before the write: either answer is right
    store.end(1);
    expect(await after).toBe('FAILED');
  },
  QUICK,
);

test(
  'requests that arrive in the same turn share one read',
  async () => {
    const store = slowStore('RUNNING');
    const reads = reused();
    const answers = Array.from({ length: 10 }, () => reads.get('task', store.load, NEVER_REUSED));
    await turn();
    expect(store.begun()).toBe(1);
    store.end(0);
    expect(await Promise.all(answers)).toEqual(Array(10).fill('RUNNING'));
  },
  QUICK,
);

test(
  'at most two reads of a key in flight: later requests join the next, which begins when one ends',
  async () => {
    const store = slowStore('v1');
    const reads = reused();
    const a = reads.get('task', store.load, NEVER_REUSED);
    await turn();
    const b = reads.get('task', store.load, NEVER_REUSED); // a's read is in flight: b does not wait for it
    await turn();
    expect(store.begun()).toBe(2);
    store.write('v2');
    const c = reads.get('task', store.load, NEVER_REUSED);
    await turn();
    const d = reads.get('task', store.load, NEVER_REUSED);
    await turn();
    expect(store.begun()).toBe(2); // c and d wait for a third read, not begun yet
    store.end(1);
    expect(await b).toBe('v1');
    await turn();
    expect(store.begun()).toBe(3);
    store.end(2);
    expect(await Promise.all([c, d])).toEqual(['v2', 'v2']);
    store.end(0);
    expect(await a).toBe('v1');
    // Other keys are not held up.
    const other = reads.get('other', store.load, NEVER_REUSED);
    await turn();
    expect(store.begun()).toBe(4);
    store.end(3);
    expect(await other).toBe('v2');
  },
  QUICK,
);

test(
  'a final value is kept and reused; an older read ending later does not replace it',
  async () => {
    const store = slowStore('RUNNING');
    const reads = reused();
    const old = reads.get('task', store.load, FINAL);
    await turn();
    store.write('FAILED');
    const fresh = reads.get('task', store.load, FINAL);
    await turn();
    store.end(1);
    expect(await fresh).toBe('FAILED');
    store.end(0);
    expect(await old).toBe('RUNNING');
    expect(await reads.get('task', store.load, FINAL)).toBe('FAILED');
    expect(store.begun()).toBe(2); // read once for good
  },
  QUICK,
);

test(
  'a value within its ttl is reused; a failed read is not kept',
  async () => {
    const store = slowStore('v1');
    const reads = reused();
    const first = reads.get('k', store.load, () => 60_000);
    await turn();
    store.end(0);
    expect(await first).toBe('v1');
    store.write('v2');
    expect(await reads.get('k', store.load, () => 60_000)).toBe('v1');
    expect(store.begun()).toBe(1);

    const failing = reads.get('f', store.load, () => 60_000);
    await turn();
    store.failRead(1);
    await expect(failing).rejects.toThrow('unavailable');
    const again = reads.get('f', store.load, () => 60_000);
    await turn();
    expect(store.begun()).toBe(3);
    store.end(2);
    expect(await again).toBe('v2');
  },
  QUICK,
);

test(
  'a read waits batchMs for more callers: requests a moment apart share it',
  async () => {
    const store = slowStore('RUNNING');
    const reads = new Reused<string, string>(10, { batchMs: 1_000 });
    const first = reads.get('task', store.load, NEVER_REUSED);
    await new Promise((r) => setImmediate(r)); // a later turn, as the next poller's request
    const second = reads.get('task', store.load, NEVER_REUSED);
    expect(store.begun()).toBe(0);
    const deadline = Date.now() + QUICK;
    while (store.begun() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(store.begun()).toBe(1);
    store.end(0);
    expect(await Promise.all([first, second])).toEqual(['RUNNING', 'RUNNING']);
  },
  QUICK,
);
