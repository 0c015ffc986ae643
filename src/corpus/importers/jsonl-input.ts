import { hashFile, listInputFiles, openText, readLines } from './files.js';
import type { Row } from './fields.js';
import type { InputFile, OpenedInput, Unit } from './types.js';

/** Files a JSONL format reads from a directory PATH (a file PATH is read whatever its name). */
export function listJsonlFiles(path: string): InputFile[] {
  return listInputFiles(path, (rel) => /\.(jsonl|ndjson)(\.gz)?$/i.test(rel));
}

/**
 * Opens a JSONL (or JSONL.gz) input as one unit per line. Blank lines are units that count as
 * nothing; a line that is not a JSON object becomes a rejection naming the line.
 */
export async function openJsonl(input: InputFile, toUnit: (row: Row, line: number) => Omit<Unit, 'line'>): Promise<OpenedInput> {
  const contentHash = await hashFile(input.path);
  let fraction = (): number => 0;
  return {
    contentHash,
    fraction: () => fraction(),
    async *units(skip: number): AsyncIterable<Unit> {
      const text = openText(input.path, input.size);
      fraction = text.fraction;
      for await (const { line, text: raw } of readLines(text.stream, skip)) {
        if (raw.trim() === '') {
          yield { line, samples: [], rejections: [], counts: false };
          continue;
        }
        let row: unknown;
        try {
          row = JSON.parse(raw);
        } catch (err) {
          yield { line, samples: [], rejections: [{ reason: `malformed JSON: ${(err as Error).message}` }] };
          continue;
        }
        if (row === null || typeof row !== 'object' || Array.isArray(row)) {
          const reason =
            Array.isArray(row) && line === 1 && row.length > 0 && typeof row[0] === 'object'
              ? 'a JSON array, not JSON Lines (one object per line): convert it first, e.g. jq -c ".[]"'
              : 'expected a JSON object per line';
          yield { line, samples: [], rejections: [{ reason }] };
          continue;
        }
        yield { line, ...toUnit(row as Row, line) };
      }
    },
  };
}
