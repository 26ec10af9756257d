// `--param key=value` pairs (hea run) to a flow's typed, validated input.
import { validateFlowParams, type FlowName, type ParamsResult } from '../contracts/flows.js';

/** Turns `--param key=value` strings into typed, validated workflow input. */
export function parseFlowParams(flow: FlowName, pairs: string[]): ParamsResult {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push(`--param ${pair}: expected key=value`);
      continue;
    }
    const key = pair.slice(0, eq);
    // A parameter name, never an object's internals (`__proto__=1` was dropped silently).
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
      problems.push(`--param ${key}: not a parameter name`);
      continue;
    }
    raw[key] = coerce(pair.slice(eq + 1));
  }
  if (problems.length) return { ok: false, problems };
  return validateFlowParams(flow, raw, '--param ');
}

function coerce(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}
