// The benches' arithmetic: linear-interpolated quantiles and rounding for the printed tables.

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

export const median = (xs: number[]) => quantile(xs, 0.5);
