import { afterAll, describe, expect, it } from 'vitest';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { openKb } from '../../src/kb/db.js';
import { cacheKeyFor, normalisedLineMap, remapReport, ScanCache } from '../../src/scan/cache.js';
import type { VulnerabilityReport } from '../../src/report/schema.js';
import { sha256 } from '../../src/util/hash.js';

const tmp = tempDir('finesec-scan-cache-');
afterAll(() => tmp.cleanup());

const code = 'int copy(const char *p)\n{\n    char b[4];\n    strcpy(b, p);\n    return b[0];\n}';
const report: VulnerabilityReport = {
  verdict: 'vulnerable',
  findings: [
    {
      cwe: 'CWE-121',
      title: 'strcpy into a 4-byte stack buffer',
      severity: 'high',
      location: { function: 'copy', start_line: 3, end_line: 4 },
      fragment: 'strcpy(b, p);',
      root_cause: 'The length of p is never checked.',
      trigger: 'p longer than 3 characters.',
      impact: 'Stack memory is overwritten.',
      remediation: 'Bound the copy.',
      evidence: [
        { line: 3, step: 'b holds 4 bytes' },
        { line: 4, step: 'strcpy copies all of p' },
      ],
      confidence: 0.9,
    },
  ],
  reasoning: ['strcpy is unbounded'],
};
const identity = { modelId: 'gguf:abc', adapterHash: '', promptVersion: 'report-1', requestHash: 'r1' };
const usage = { promptTokens: 10, completionTokens: 20 };

describe('scan cache', () => {
  const db = openKb(join(tmp.dir, 'kb.sqlite'));
  const cache = new ScanCache(db);
  afterAll(() => db.close());

  it('stores a report per (normalised code, model, adapters, prompt, request) and never mixes them', () => {
    const key = cacheKeyFor(code, identity);
    expect(cache.get(key, code)).toBeUndefined();
    cache.put(key, code, { status: 'grounded', report, usage });
    expect(cache.get(key, code)).toEqual({ status: 'grounded', report, usage });
    for (const other of [{ modelId: 'gguf:def' }, { adapterHash: 'lora' }, { promptVersion: 'report-2' }, { requestHash: 'r2' }]) {
      expect(cache.get(cacheKeyFor(code, { ...identity, ...other }), code)).toBeUndefined();
    }
    expect(cache.get(cacheKeyFor(code.replace('b[4]', 'b[5]'), identity), code.replace('b[4]', 'b[5]'))).toBeUndefined();
  });

  it('moves line numbers when only comments and layout changed', () => {
    const edited = 'int copy(const char *p)\n{\n    /* a comment\n       over two lines */\n\n    char b[4];\n    strcpy(b, p); // unsafe\n    return b[0];\n}';
    const key = cacheKeyFor(edited, identity);
    expect(key.codeHash).toBe(cacheKeyFor(code, identity).codeHash);
    const hit = cache.get(key, edited)!;
    expect(hit.report!.findings[0]!.location).toEqual({ function: 'copy', start_line: 6, end_line: 7 });
    expect(hit.report!.findings[0]!.evidence.map((e) => e.line)).toEqual([6, 7]);
  });

  it('keeps split markers only for the exact text, and round-trips parts and too_long reasons', () => {
    const key = cacheKeyFor(code, { ...identity, requestHash: 'fit' });
    cache.put(key, code, { status: 'split', parts: [[1, 3], [4, 6]], usage: { promptTokens: 0, completionTokens: 0 } });
    expect(cache.get(key, code)).toMatchObject({ status: 'split', parts: [[1, 3], [4, 6]] });
    expect(cache.get(key, code.replace('    char', '  char'))).toBeUndefined();
    cache.put(key, code, { status: 'too_long', error: 'line 4 alone does not fit', usage: { promptTokens: 0, completionTokens: 0 } });
    expect(cache.get(key, code)).toMatchObject({ status: 'too_long', error: 'line 4 alone does not fit' });
  });

  it('treats a stored report that no longer passes the schema as a miss', () => {
    const key = cacheKeyFor(code, { ...identity, requestHash: 'broken' });
    cache.put(key, code, { status: 'grounded', report, usage });
    db.prepare("UPDATE scan_cache SET report = '{\"verdict\":1}' WHERE request_hash = 'broken'").run();
    expect(cache.get(key, code)).toBeUndefined();
  });

  it('hashes a model file once per size and modification time', async () => {
    const file = join(tmp.dir, 'model.gguf');
    writeFileSync(file, 'first');
    expect(await cache.fileHash(file)).toBe(sha256('first'));
    db.prepare('UPDATE scan_file_hashes SET sha256 = ? WHERE path = ?').run('remembered', file);
    expect(await cache.fileHash(file)).toBe('remembered');
    writeFileSync(file, 'second!');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await cache.fileHash(file)).toBe(sha256('second!'));
  });

  it('remaps against the normalised line maps, and refuses maps that disagree', () => {
    expect(normalisedLineMap('a;\n\n// c\nb; /* x\n y */\nc;')).toEqual([1, 4, 6]);
    expect(remapReport(report, [1, 2], [1])).toBeUndefined();
  });
});
