// Plain-text tables for the terminal: upper-case headers, columns padded to their widest cell.

/** Rows under a header; a missing cell prints as `-`. */
export function formatTable(header: string[], rows: unknown[][]): string {
  const text = (v: unknown) => String(v ?? '-');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i]).length)));
  const line = (cells: unknown[]) =>
    cells
      .map((c, i) => text(c).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}
