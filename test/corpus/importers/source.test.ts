import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';
import { openTestKb, type TestKb } from './kb.js';

let dir: string;
let cleanup: () => void;
let kb: TestKb;
let tree: string;

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  kb = openTestKb(dir);
  tree = join(dir, 'project');
  mkdirSync(join(tree, 'src', 'net'), { recursive: true });
  mkdirSync(join(tree, 'include'), { recursive: true });
  mkdirSync(join(tree, '.git'), { recursive: true });
  writeFileSync(join(tree, 'src', 'main.c'), '#include <stdio.h>\n\nstatic int twice(int x)\n{\n  return 2 * x;\n}\n\nint main(void)\n{\n  return twice(1);\n}\n');
  writeFileSync(
    join(tree, 'src', 'net', 'conn.cpp'),
    'namespace net {\nclass Conn {\npublic:\n  int fd() const { return fd_; }\nprivate:\n  int fd_;\n};\n}\nbool net::open(const char *host)\n{\n  return host != nullptr;\n}\n',
  );
  writeFileSync(join(tree, 'include', 'util.h'), 'static inline int clamp(int v) { return v < 0 ? 0 : v; }\n');
  writeFileSync(join(tree, 'include', 'vec.hpp'), 'template <typename T>\nT first(const T *v) { return v[0]; }\n');
  writeFileSync(join(tree, 'src', 'blob.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02]));
  writeFileSync(join(tree, 'src', 'latin1.c'), Buffer.concat([Buffer.from('/* caf'), Buffer.from([0xe9]), Buffer.from(' */\nint f(void) { return 0; }\n')]));
  writeFileSync(join(tree, 'src', 'empty.c'), '');
  writeFileSync(join(tree, 'src', 'blank.h'), '\n\n   \n');
  writeFileSync(join(tree, 'src', 'huge.c'), `int big(void) { return 0; }\n/*${'x'.repeat(5000)}*/\n`);
  writeFileSync(
    join(tree, 'src', 'long.c'),
    `int short_one(void) { return 1; }\n\nint long_one(void)\n{\n${'  step();\n'.repeat(40)}}\n\nint broken( { x = ; }\n`,
  );
  writeFileSync(join(tree, 'README.md'), '# not source\n');
  writeFileSync(join(tree, '.git', 'hooks.c'), 'int hidden(void) { return 0; }\n');
});
afterEach(() => {
  kb.close();
  cleanup();
});

describe('source tree importer', () => {
  it('splits every source file into unlabelled functions keyed by path, name and line', async () => {
    const s = await kb.ingest('source', tree, { maxFileBytes: 4000, maxFunctionLines: 30 });
    const keys = kb.sources().map((r) => r.source_key);
    expect(keys).toEqual([
      'include/util.h#clamp:1',
      'include/vec.hpp#first:1',
      'src/long.c#short_one:1',
      'src/main.c#twice:3',
      'src/main.c#main:8',
      'src/net/conn.cpp#net::Conn::fd:4',
      'src/net/conn.cpp#net::open:9',
    ]);
    expect(s).toMatchObject({ inputs: 10, read: 10, samples: 7, inserted: 7 });
    const twice = kb.samples().find((x) => x.function_name === 'twice')!;
    expect(twice).toMatchObject({
      label: null,
      language: 'c',
      file: 'src/main.c',
      signature: 'static int twice(int x)',
      start_line: 3,
      end_line: 6,
      code: 'static int twice(int x)\n{\n  return 2 * x;\n}',
    });
    expect(kb.samples().find((x) => x.function_name === 'first')!.language).toBe('cpp');
  });

  it('skips binary, non-UTF-8, empty and oversized files and over-long functions, recording why', async () => {
    const s = await kb.ingest('source', tree, { maxFileBytes: 4000, maxFunctionLines: 30 });
    const rejections = kb.rejections().map((r) => [r.source, r.line, r.reason]);
    expect(rejections).toEqual([
      ['src/blank.h', null, 'empty file'],
      ['src/blob.c', null, 'binary file (contains NUL bytes)'],
      ['src/empty.c', null, 'empty file'],
      ['src/huge.c', null, expect.stringMatching(/^file is 50\d\d bytes, over corpus\.max_file_bytes \(4000\)$/)],
      ['src/latin1.c', null, 'not UTF-8 text (first invalid byte on line 1)'],
      ['src/long.c', 47, 'syntax error: no function could be extracted from line 47 ("int broken( { x = ; }")'],
      ['src/long.c', 3, 'function long_one is 43 lines, over corpus.max_function_lines (30)'],
    ]);
    expect(s.rejected).toBe(7);
    expect(kb.logger.lines.filter((l) => l.startsWith('warning:'))).toContain(`warning: ${join(tree, 'src/blob.c')}: binary file (contains NUL bytes)`);
  });

  it('adds nothing on a re-import, and picks up only a changed file', async () => {
    await kb.ingest('source', tree, { maxFileBytes: 4000, maxFunctionLines: 30 });
    const again = await kb.ingest('source', tree, { maxFileBytes: 4000, maxFunctionLines: 30 });
    expect(again).toMatchObject({ read: 0, inserted: 0, unchangedInputs: 10 });
    writeFileSync(join(tree, 'src', 'main.c'), '#include <stdio.h>\n\nstatic int twice(int x)\n{\n  return 2 * x;\n}\n\nint thrice(int x) { return 3 * x; }\n');
    const changed = await kb.ingest('source', tree, { maxFileBytes: 4000, maxFunctionLines: 30 });
    expect(changed).toMatchObject({ read: 1, inserted: 1, alreadyImported: 1, unchangedInputs: 9 });
    expect(kb.sources().map((r) => r.source_key)).toContain('src/main.c#thrice:8');
  });
});
