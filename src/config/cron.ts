// Checks a 5-field cron expression field by field, so a bad one is refused when config is validated
// (with the schedule's name in the path) instead of by the Temporal server when `hea start` applies it.

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  // 7 is Sunday too, as in most crons.
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

function value(field: CronField, text: string): number | string {
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index >= 0) return index + field.min;
  if (!/^\d+$/.test(text)) return `"${text}" is not a number${field.names ? ' or a name' : ''}`;
  const n = Number(text);
  if (n < field.min || n > field.max) return `${n} is not in range [${field.min}-${field.max}]`;
  return n;
}

function checkItem(field: CronField, item: string): string | undefined {
  const [range, step, extra] = item.split('/');
  if (extra !== undefined || range === undefined || range === '') return `"${item}" is not a value, range or step`;
  if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `step "${step}" is not a positive number`;
  if (range === '*') return undefined;
  const [from, to, more] = range.split('-');
  if (more !== undefined) return `"${range}" is not a range`;
  const a = value(field, from ?? '');
  if (typeof a === 'string') return a;
  if (to === undefined) return undefined;
  const b = value(field, to);
  if (typeof b === 'string') return b;
  return a > b ? `range ${range} runs backwards` : undefined;
}

/** Undefined when the expression is valid, else what is wrong, naming the field. */
export function cronProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) return `expected ${FIELDS.length} fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  for (const [i, field] of FIELDS.entries()) {
    for (const item of parts[i]!.split(',')) {
      const problem = checkItem(field, item);
      if (problem) return `${field.name}: ${problem}`;
    }
  }
  return undefined;
}
