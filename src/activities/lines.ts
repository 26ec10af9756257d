import type { Readable } from 'node:stream';

/**
 * Splits a byte stream into lines of at most `maxBytes` bytes. A longer line is cut at the limit (the
 * rest is dropped up to its newline) so a job that prints megabytes without a newline cannot make the
 * runner hold them in memory. Bytes that are not UTF-8 are replaced, never fatal.
 */
export async function* boundedLines(stream: Readable, maxBytes = 64 * 1024): AsyncGenerator<{ line: string; truncated: boolean }> {
  let parts: Buffer[] = [];
  let size = 0;
  let dropping = false;
  const flush = () => {
    const line = Buffer.concat(parts, size).toString('utf8').replace(/\r$/, '');
    parts = [];
    size = 0;
    return line;
  };
  for await (const chunk of stream) {
    let buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    while (buf.length > 0) {
      const nl = buf.indexOf(10);
      const piece = nl === -1 ? buf : buf.subarray(0, nl);
      if (!dropping) {
        const room = maxBytes - size;
        if (piece.length > room) {
          parts.push(piece.subarray(0, room));
          size += room;
          yield { line: flush(), truncated: true };
          dropping = true;
        } else {
          parts.push(piece);
          size += piece.length;
        }
      }
      if (nl === -1) break;
      if (dropping) dropping = false;
      else yield { line: flush(), truncated: false };
      buf = buf.subarray(nl + 1);
    }
  }
  if (size > 0 && !dropping) yield { line: flush(), truncated: false };
}
