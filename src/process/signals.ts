// The stop signals of a service (start, dev, worker, api), heard from the command's first line. Without
// this, a SIGTERM during start-up reaches only the Temporal SDK's own handler, which stops the worker and
// nothing else: the service then reports a failure (exit 1), and whatever is not up yet when the signal
// lands is not stopped by it.

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** A start-up cut short by a stop signal: the command ends quietly (exit 0) once what was started is closed. */
export class StoppedDuringStart extends Error {
  override name = 'StoppedDuringStart';
}

export class StopSignals {
  /** The first stop signal received, if any. */
  received?: StopSignal;
  private readonly first: Promise<StopSignal>;
  private readonly controller = new AbortController();

  constructor() {
    this.first = new Promise((resolve) => {
      for (const signal of STOP_SIGNALS) {
        process.once(signal, () => {
          this.received ??= signal;
          this.controller.abort(new StoppedDuringStart(`${this.received} during start-up`));
          resolve(this.received);
        });
      }
    });
  }

  /** Aborted by the first stop signal: start-up steps check it (`throwIfAborted`) and stop starting. */
  get aborted(): AbortSignal {
    return this.controller.signal;
  }

  /** Resolves with the first stop signal (at once if it came already). */
  next(): Promise<StopSignal> {
    return this.first;
  }
}
