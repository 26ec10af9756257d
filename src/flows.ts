import { z } from 'zod';

/**
 * The flows a person can start by name (`hea run <flow>`, schedules, the freshness remediation): the
 * organizer's flow names, each with its workflow and its parameters' schema. Parameters are validated
 * here, where a run is started, so a bad one is refused before anything runs.
 */
export interface FlowDefinition {
  workflow: string;
  description: string;
  params: z.ZodObject;
}

const noParams = z.object({}).strict();

export const FLOWS = {
  'hourly-exogenic': {
    workflow: 'hourlyExogenousData',
    description: 'spot prices, CO2/gas/coal and weather, in parallel (hourly)',
    params: noParams,
  },
} satisfies Record<string, FlowDefinition>;

export type FlowName = keyof typeof FLOWS;

export function isFlowName(name: string): name is FlowName {
  return Object.hasOwn(FLOWS, name);
}

/** Turns `--param key=value` strings into typed, validated workflow input. */
export function parseFlowParams(flow: FlowName, pairs: string[]): { ok: true; value: Record<string, unknown> } | { ok: false; problems: string[] } {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push(`--param ${pair}: expected key=value`);
      continue;
    }
    const key = pair.slice(0, eq);
    const text = pair.slice(eq + 1);
    raw[key] = coerce(text);
  }
  const parsed = FLOWS[flow].params.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.') || ('keys' in issue ? (issue.keys as string[]).join(', ') : '');
      problems.push(`--param ${key}: ${issue.message}`);
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, value: parsed.data as Record<string, unknown> };
}

function coerce(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}
