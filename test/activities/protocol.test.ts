import { Readable } from 'node:stream';
import { boundedLines } from '../../src/activities/lines.js';
import { classifyExit, parseLine } from '../../src/activities/protocol.js';
import { failureHeadline } from '../../src/activities/runJob.js';
import { warmCapable } from '../../src/process/jobHost.js';

async function collect(chunks: (string | Buffer)[], max = 16) {
  const out: { line: string; truncated: boolean }[] = [];
  for await (const l of boundedLines(Readable.from(chunks), max)) out.push(l);
  return out;
}

test('lines are split across chunks, CRLF is trimmed and the last line needs no newline', async () => {
  expect(await collect(['ab', 'c\nde\r\n', 'f'])).toEqual([
    { line: 'abc', truncated: false },
    { line: 'de', truncated: false },
    { line: 'f', truncated: false },
  ]);
});

test('an over-long line is cut at the limit and the rest of it dropped', async () => {
  const out = await collect(['x'.repeat(40), 'y'.repeat(10), '\nnext\n']);
  expect(out).toEqual([
    { line: 'x'.repeat(16), truncated: true },
    { line: 'next', truncated: false },
  ]);
});

test('binary garbage does not break the splitter', async () => {
  const out = await collect([Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x41])]);
  expect(out).toHaveLength(2);
  expect(out[1]!.line).toBe('A');
});

test('protocol lines are recognised, everything else is a log line', () => {
  expect(parseLine('{"progress": 42, "stage": "training", "message": "fold 3"}')).toEqual({
    kind: 'progress',
    progress: { progress: 42, stage: 'training', message: 'fold 3' },
  });
  expect(parseLine('{"result": {"rows": 3}}')).toEqual({ kind: 'result', result: { rows: 3 } });
  expect(parseLine('plain text')).toEqual({ kind: 'log', text: 'plain text' });
  expect(parseLine('{"level": "info", "msg": "structured log"}').kind).toBe('log');
  expect(parseLine('{not json').kind).toBe('log');
  expect(parseLine('[1, 2]').kind).toBe('log');
  expect(parseLine('{"progress": 150}').kind).toBe('invalid');
  expect(parseLine('{"progress": "half"}').kind).toBe('invalid');
  expect(parseLine('{"result": [1]}').kind).toBe('invalid');
});

test('exit codes: 0 succeeds, sysexits are final, other codes and signals are retried', () => {
  expect(classifyExit(0, undefined)).toBeUndefined();
  expect(classifyExit(64, undefined)).toEqual({ type: 'UsageError', retryable: false });
  expect(classifyExit(65, undefined)).toEqual({ type: 'DataError', retryable: false });
  expect(classifyExit(78, undefined)).toEqual({ type: 'ConfigError', retryable: false });
  expect(classifyExit(1, undefined)).toEqual({ type: 'JobFailed', retryable: true });
  expect(classifyExit(79, undefined)).toEqual({ type: 'JobFailed', retryable: true });
  expect(classifyExit(127, undefined)).toEqual({ type: 'JobNotFound', retryable: false });
  expect(classifyExit(undefined, 'SIGKILL')).toEqual({ type: 'JobKilled', retryable: true });
});

test('the error line: type, message and an optional field; a malformed one is a warning, not an error', () => {
  expect(parseLine('{"error": {"type": "DataError", "message": "3 days of readings, need 28", "field": "meter_id"}}')).toEqual({
    kind: 'error',
    error: { type: 'DataError', message: '3 days of readings, need 28', field: 'meter_id' },
  });
  expect(parseLine('{"error": {"type": "ConfigError", "message": "HEA_STORE_URL is not a URL"}}')).toEqual({
    kind: 'error',
    error: { type: 'ConfigError', message: 'HEA_STORE_URL is not a URL' },
  });
  const bad = parseLine('{"error": "something broke"}');
  expect(bad.kind).toBe('invalid');
  expect(bad.kind === 'invalid' && bad.problem).toContain('error');
});

test("the failure headline carries the job's own error line", () => {
  expect(failureHeadline('job meter_train exited with code 65', undefined)).toBe('job meter_train exited with code 65');
  expect(failureHeadline('job meter_train exited with code 65', { type: 'DataError', message: 'too little data\nmore', field: 'meter_id' })).toBe(
    'job meter_train exited with code 65: DataError: too little data (field meter_id)',
  );
});

test("warm-capable: the host's interpreter with -m, -c or a script; anything else is exec'd", () => {
  const py = '/p/.venv/bin/python';
  expect(warmCapable(py, { command: py, args: ['-m', 'jobs.meters.train', '--meter-id', 'x'] })).toBe(true);
  expect(warmCapable(py, { command: py, args: ['-c', 'print(1)'] })).toBe(true);
  expect(warmCapable(py, { command: py, args: ['/jobs/x.py', 'a'] })).toBe(true);
  expect(warmCapable(py, { command: py, args: ['-u', '-m', 'x'] })).toBe(false);
  expect(warmCapable(py, { command: py, args: ['-m'] })).toBe(false);
  expect(warmCapable(py, { command: '/usr/bin/python3', args: ['-m', 'x'] })).toBe(false);
  expect(warmCapable(py, { command: 'sleep', args: ['1'] })).toBe(false);
});
