// The flows by name: what the CLI, the schedules, the config and the freshness check share.
import { z } from 'zod';
import { batteryReplanParams, dailyPipelineParams, freshnessParams, rlTrainingParams, weeklyTrainingParams } from './flowParams.js';

/**
 * The flows a person can start by name (`hea run <flow>`, schedules, freshness remediation): the
 * organizer's flow names, each with its workflow and its parameters' schema. Parameters are validated
 * where a run is started, so a bad one is refused before anything runs.
 */
export interface FlowDefinition {
  workflow: string;
  description: string;
  params: z.ZodType<Record<string, unknown>>;
  /** Parameter names and their types, for help texts. */
  paramHelp: string;
}

const noParams = z.object({}).strict();

export const FLOWS = {
  'daily-pipeline': {
    workflow: 'dailyEnergyPipeline',
    description: 'data updates, then solar/price/demand forecasts, then the battery plan',
    params: dailyPipelineParams,
    paramHelp:
      'updateData=bool runPricePredictions=bool priceModel=trend|peak|valley horizonDays=num runSolarPredictions=bool runDemandPredictions=bool runBatteryPlan=bool',
  },
  'hourly-exogenic': {
    workflow: 'hourlyExogenousData',
    description: 'spot prices, CO2/gas/coal and weather, in parallel',
    params: noParams,
    paramHelp: '(none)',
  },
  'home-data': {
    workflow: 'homeData',
    description: 'household consumption and the heat pump',
    params: noParams,
    paramHelp: '(none)',
  },
  'solar-data': {
    workflow: 'solarData',
    description: 'actual solar production, then the solar forecast',
    params: noParams,
    paramHelp: '(none)',
  },
  'weekly-training': {
    workflow: 'weeklyModelTraining',
    description: 'fresh data, then the price models (trend, peak, valley) and the demand model',
    params: weeklyTrainingParams,
    paramHelp: 'updateData=bool trainPriceModels=bool trainDemandModel=bool demandTrials=int',
  },
  'rl-training': {
    workflow: 'rlTraining',
    description: 'fresh data, then the battery agent, evaluated against the optimum',
    params: rlTrainingParams,
    paramHelp: 'updateData=bool sanityCheckSteps=int startDate=YYYY-MM-DD endDate=YYYY-MM-DD totalTimesteps=int',
  },
  'battery-replan': {
    workflow: 'batteryReplan',
    description: 'the battery plan again, on the latest prices and the measured state of charge, then to the home (MQTT)',
    params: batteryReplanParams,
    paramHelp: 'trigger=publication|new-prices|hourly|manual fetchPrices=bool republishWithinMinutes=int',
  },
  freshness: {
    workflow: 'dataFreshness',
    description: 'checks every dataset against its maximum age; alerts and starts fetches for stale ones',
    params: freshnessParams,
    paramHelp: 'remediate=bool alert=bool',
  },
} satisfies Record<string, FlowDefinition>;

export type FlowName = keyof typeof FLOWS;
export const FLOW_NAMES = Object.keys(FLOWS) as FlowName[];

export function isFlowName(name: string): name is FlowName {
  return Object.hasOwn(FLOWS, name);
}

export type ParamsResult = { ok: true; value: Record<string, unknown> } | { ok: false; problems: string[] };

export function validateFlowParams(flow: FlowName, raw: unknown, prefix = ''): ParamsResult {
  const parsed = FLOWS[flow].params.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const key = issue.path.join('.') || ('keys' in issue ? (issue.keys as string[]).join(', ') : '');
      return `${prefix}${key}: ${issue.message}`;
    }),
  };
}
