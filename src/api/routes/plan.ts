// GET /plan and GET /plan/now: the battery plan in the home's hands (read from the store, no Temporal call).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppConfig } from '../../config/load.js';
import { openStoreReadOnly, type StoreDb } from '../../store/db.js';
import { readLatestPlan, readPlanNow } from '../../store/plan.js';
import { detailSchema } from '../schemas.js';

const eurKwh = (what: string) => z.number().nullable().describe(`${what}, EUR/kWh (tariff: jobs/battery/tariff.py)`);

export const planHourSchema = z
  .object({
    ts: z.string().describe('start of the hour, UTC ISO 8601').meta({ example: '2026-12-03T05:00:00Z' }),
    action: z.string().nullable().describe('charge | discharge | idle'),
    power_kw: z.number().nullable().describe('battery power setpoint, kW (+ charges, - discharges)'),
    energy_kwh: z.number().nullable().describe('energy into (+) or out of (-) the battery in the hour, kWh'),
    soc_kwh: z.number().nullable().describe('stored energy at the end of the hour, kWh'),
    soc_pct: z.number().nullable().describe('state of charge at the end of the hour, % of capacity'),
    price_buy_eur_kwh: eurKwh('import price (spot + grid fee + energy tax, with VAT)'),
    price_sell_eur_kwh: eurKwh('export price (spot - export fee)'),
    cost_eur: z.number().nullable().describe("the hour's grid cost with the battery (wear included), EUR"),
    cost_no_battery_eur: z.number().nullable().describe("the hour's grid cost without a battery, EUR"),
    why: z.string().nullable().describe('why the plan does this in this hour'),
    mode: z.string().nullable().describe('setpoint (follow power_kw) | self_consumption (cover the load, store the surplus)'),
  })
  .describe('One hour of the plan');

const planHeader = {
  issued_at: z.string().describe('when the plan was made, UTC'),
  controller: z.string().describe('the controller that made it: mpc | rule_based | rl_agent'),
  soc_source: z.string().nullable().describe('where the starting state of charge came from: measured | last_plan | initial'),
  expected_saving_eur: z.number().describe('cost without the battery minus cost with it, over the plan, EUR'),
};

export const planSchema = z
  .object({
    ...planHeader,
    start: z.string().describe('first hour, UTC'),
    end: z.string().describe('end of the last hour, UTC'),
    expected_cost_eur: z.number().describe('grid cost with the battery over the plan, EUR'),
    expected_cost_no_battery_eur: z.number().describe('grid cost without a battery over the plan, EUR'),
    expected_saving_eur_per_month: z.number().describe('the saving scaled to an average month (730.5 h), EUR'),
    hours: z.array(planHourSchema),
  })
  .describe('The latest battery plan');

export const planNowSchema = z
  .object({
    ...planHeader,
    now: planHourSchema.nullable().describe('the hour under way, from the newest plan that covers it'),
    next: planHourSchema.nullable().describe('the next hour'),
  })
  .describe('What the battery does now and next');

const NO_PLAN = 'No battery plan yet: the daily pipeline or a re-plan (hea run battery-replan) writes one';

export const planRoutes: FastifyPluginAsyncZod<{ config: AppConfig }> = async (app, { config }) => {
  // The store may not exist yet on a fresh clone: open it on first use, and keep it once it does.
  let db: StoreDb | undefined;
  const store = () => (db ??= openStoreReadOnly(config.storeUrl, config.root));
  app.addHook('onClose', async () => db?.close());

  app.get(
    '/plan',
    {
      schema: {
        summary: 'The battery plan, hour by hour',
        description:
          'The latest plan from the next full hour to the end of tomorrow: per hour the action, power, energy, state of ' +
          'charge, import and export price, cost with and without the battery and why; with who made it, from which ' +
          'state of charge, and the expected saving. 404 until a first plan exists.',
        tags: ['battery'],
        response: { 200: planSchema, 404: detailSchema },
      },
    },
    async (_request, reply) => {
      const handle = store();
      const plan = handle && readLatestPlan(handle);
      return plan ? reply.send(plan) : reply.code(404).send({ detail: NO_PLAN });
    },
  );

  app.get(
    '/plan/now',
    {
      schema: {
        summary: 'What the battery does now and next',
        description: 'The planned hour under way and the next one. 404 until a first plan exists.',
        tags: ['battery'],
        querystring: z.object({
          at: z.iso.datetime({ offset: true }).optional().describe('an instant instead of the current time (ISO 8601)'),
        }),
        response: { 200: planNowSchema, 404: detailSchema, 422: detailSchema },
      },
    },
    async (request, reply) => {
      const handle = store();
      const now = handle && readPlanNow(handle, request.query.at ? new Date(request.query.at) : new Date());
      return now ? reply.send(now) : reply.code(404).send({ detail: NO_PLAN });
    },
  );
};
