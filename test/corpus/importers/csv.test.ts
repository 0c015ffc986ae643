import { describe, expect, it } from 'vitest';
import { readCsv, type CsvRecord } from '../../../src/corpus/importers/csv.js';

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function parse(text: string, size = 1 << 16): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of readCsv(chunked(text, size))) out.push(r);
  return out;
}

describe('readCsv', () => {
  const text = 'id,func,vul\r\n1,"int f(int a, int b)\r\n{\r\n  puts(""hi"");\r\n}",1\r\n2,plain,0\n\n3,"",0';

  it('reads quoted fields with commas, newlines and doubled quotes, and numbers lines, at any chunk size', async () => {
    const expected: CsvRecord[] = [
      { line: 1, fields: ['id', 'func', 'vul'] },
      { line: 2, fields: ['1', 'int f(int a, int b)\r\n{\r\n  puts("hi");\r\n}', '1'] },
      { line: 6, fields: ['2', 'plain', '0'] },
      { line: 7, fields: [''] },
      { line: 8, fields: ['3', '', '0'] },
    ];
    for (const size of [1, 2, 3, 5, 8, 13, 1000]) expect(await parse(text, size)).toEqual(expected);
  });

  it('flags text after a closing quote and goes on with the next record', async () => {
    const records = await parse('a,b\n"x"y,2\n3,4\n');
    expect(records[1]).toMatchObject({ line: 2, error: expect.stringMatching(/unexpected "y" after a closing quote/) });
    expect(records[2]).toEqual({ line: 3, fields: ['3', '4'] });
  });

  it('flags a quoted field that is never closed, naming the line it opened on', async () => {
    const records = await parse('a,b\n1,2\n3,"open\nmore\n');
    expect(records).toHaveLength(3);
    expect(records[2]!.error).toBe('malformed CSV: quoted field opened on line 3 is never closed');
  });

  it('keeps a last record without a final newline, and a trailing empty field', async () => {
    expect(await parse('a,b\n1,')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', ''] },
    ]);
  });
});
