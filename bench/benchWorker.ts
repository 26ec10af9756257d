// The benches' worker: bench/worker.ts in its own process (so its memory can be read), ready when it says so.
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

export interface BenchWorker {
  proc: ResultPromise;
  pid: number;
  stop(): Promise<void>;
}

export interface BenchWorkerOptions {
  address: string;
  taskQueue: string;
  configFile: string;
  bundlePath: string;
  meterTaskQueue?: string;
}

export async function startBenchWorker(root: string, options: BenchWorkerOptions): Promise<BenchWorker> {
  const proc = execa('node', ['--import', 'tsx', join(root, 'bench', 'worker.ts'), JSON.stringify(options)], {
    cwd: root,
    reject: false,
    stdin: 'ignore',
    stderr: 'inherit',
    buffer: false,
  });
  await new Promise<void>((ok, fail) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && ok());
    void proc.then((r) => fail(new Error(`bench worker exited (${r.exitCode ?? r.signal})`)));
  });
  return {
    proc,
    pid: proc.pid!,
    stop: async () => {
      proc.kill('SIGTERM');
      await proc;
    },
  };
}
