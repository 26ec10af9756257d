// `hea job <name> --runs N | --each FILE [--concurrency C]`: the flags are checked before anything starts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseBatchFlags, parseEachFile } from '../../src/cli/job.js';
import { ROOT, tmpDir, uniqueTaskQueue, useTestServer, writeFixtureConfig } from '../helpers/env.js';

test('--runs with a default concurrency: the job slots', () => {
  expect(parseBatchFlags({ runs: '5' }, 4)).toEqual({ ok: true, batch: { runs: 5, concurrency: 4 } });
  expect(parseBatchFlags({ runs: '5', concurrency: '10' }, 4)).toEqual({ ok: true, batch: { runs: 5, concurrency: 10 } });
  expect(parseBatchFlags({}, 4)).toEqual({ ok: true });
});

test.each([
  [{ runs: '0' }, '--runs must be at least 1'],
  [{ runs: '2.5' }, '--runs must be a whole number'],
  [{ runs: 'ten' }, '--runs must be a whole number'],
  [{ runs: '5', concurrency: '0' }, '--concurrency must be at least 1'],
  [{ runs: '5', concurrency: '1000' }, '--concurrency must be at most 256'],
  [{ concurrency: '3' }, '--concurrency needs --runs or --each'],
  [{ runs: '3', each: 'x' }, '--runs and --each exclude each other'],
])('%j is refused: %s', (flags, problem) => {
  expect(parseBatchFlags(flags, 4)).toEqual({ ok: false, problems: [problem] });
});

test('--each: a JSON array of strings per line; blank lines and # comments skipped', () => {
  expect(parseEachFile('f', '["--day", "2026-01-01"]\n\n# a comment\n[]\n')).toEqual({ ok: true, each: [['--day', '2026-01-01'], []] });
});

test('--each: each bad line is named by its number', () => {
  const parsed = parseEachFile('f', '["ok"]\n--day 2026-01-01\n[1, 2]\n{"a": 1}\n');
  expect(parsed.ok).toBe(false);
  const problems = !parsed.ok ? parsed.problems : [];
  expect(problems).toHaveLength(3);
  expect(problems[0]).toMatch(/^--each f:2: not JSON/);
  expect(problems[1]).toMatch(/^--each f:3: expected a JSON array of strings/);
  expect(problems[2]).toMatch(/^--each f:4: expected a JSON array of strings/);
  expect(parseEachFile('f', '\n# nothing\n')).toEqual({ ok: false, problems: ['--each f: no runs (one JSON array of arguments per line)'] });
});

describe('through the command', () => {
  const env = useTestServer({ bundle: false });

  async function workflowCount(): Promise<number> {
    return (await env.client.workflowService.countWorkflowExecutions({ namespace: 'default', query: '' })).count?.toNumber() ?? 0;
  }

  test('bad flags exit 2 naming the flag, and start nothing', async () => {
    const dir = tmpDir();
    const config = writeFixtureConfig({ sleepy: { command: 'sleep', args: ['0'] } }, {}, dir);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '["ok"]\nnot json\n');
    const cases: [string[], string][] = [
      [['job', 'sleepy', '--runs', '0'], '--runs must be at least 1'],
      [['job', 'sleepy', '--runs', '3', '--concurrency', 'many'], '--concurrency must be a whole number'],
      [['job', 'sleepy', '--runs', '3', '--each', bad], '--runs and --each exclude each other'],
      [['job', 'sleepy', '--each', bad], `--each ${bad}:2: not JSON`],
      [['job', 'sleepy', '--each', join(dir, 'missing.jsonl')], 'no such file'],
      [['job', 'nope', '--runs', '3'], 'unknown job "nope"'],
    ];
    const before = await workflowCount();
    const failures: string[] = [];
    for (const [argv, text] of cases) {
      const res = await execa('node', [join(ROOT, 'bin', 'hea.js'), ...argv], {
        env: { HEA_CONFIG: config.file, TEMPORAL_ADDRESS: env.address, HEA_TASK_QUEUE: uniqueTaskQueue('jobcli'), LOG_LEVEL: 'error' },
        reject: false,
        stdin: 'ignore',
        timeout: 60_000,
      });
      if (res.exitCode !== 2 || !res.stderr.includes(text)) failures.push(`${argv.join(' ')}: exit ${res.exitCode}, stderr: ${res.stderr.slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
    expect(await workflowCount()).toBe(before);
  }, 180_000);

  test('--each runs the job once per line and prints the summary; a failed run makes the exit 1', async () => {
    const dir = tmpDir();
    const config = writeFixtureConfig({ exit_with: { command: '/bin/sh', args: ['-c', 'exit "$1"', 'exit_with'], local: true, retry: { maximumAttempts: 1 } } }, {}, dir);
    const lines = join(dir, 'runs.jsonl');
    writeFileSync(lines, '["0"]\n["0"]\n# skipped\n["65"]\n');
    const res = await execa('node', [join(ROOT, 'bin', 'hea.js'), 'job', 'exit_with', '--each', lines, '--concurrency', '2', '--json'], {
      env: { HEA_CONFIG: config.file, TEMPORAL_ADDRESS: env.address, HEA_TASK_QUEUE: uniqueTaskQueue('jobcli-ok'), LOG_LEVEL: 'error' },
      reject: false,
      stdin: 'ignore',
      timeout: 120_000,
    });
    expect([res.exitCode, res.stderr]).toEqual([1, '']);
    expect(JSON.parse(res.stdout)).toMatchObject({
      total: 3,
      succeeded: 2,
      failed: 1,
      local: true,
      concurrency: 2,
      failures: [{ index: 2, args: ['65'], errorType: 'DataError' }],
    });
  }, 180_000);
});
