import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { inBaseline, readBaseline } from '../../src/scan/baseline.js';
import { assignFingerprints, fingerprintBases, FRAGMENT_FINGERPRINT, PRIMARY_FINGERPRINT } from '../../src/scan/fingerprint.js';

const tmp = tempDir('finesec-scan-baseline-');
afterAll(() => tmp.cleanup());

const fn = 'int copy(const char *p)\n{\n    char b[4];\n    strcpy(b, p);\n    return b[0];\n}';

describe('fingerprints', () => {
  const base = { file: 'src/a.c', functionName: 'copy', functionCode: fn, cwe: 'CWE-121', fragment: 'strcpy(b, p);' };

  it('ignore layout and comments of the function and of the fragment, not its code', () => {
    const same = fingerprintBases(base);
    const relaid = fingerprintBases({ ...base, functionCode: fn.replace('{\n', '{ /* note */\n').replace(/    /g, '\t'), fragment: 'strcpy( b,p );' });
    expect(relaid).toEqual(same);
    const changed = fingerprintBases({ ...base, functionCode: fn.replace('b[4]', 'b[8]') });
    expect(changed[PRIMARY_FINGERPRINT]).not.toBe(same[PRIMARY_FINGERPRINT]);
    // The fragment fingerprint survives edits inside the function that leave the fragment alone.
    expect(changed[FRAGMENT_FINGERPRINT]).toBe(same[FRAGMENT_FINGERPRINT]);
    expect(fingerprintBases({ ...base, cwe: 'CWE-120' })[FRAGMENT_FINGERPRINT]).not.toBe(same[FRAGMENT_FINGERPRINT]);
    expect(fingerprintBases({ ...base, file: 'src/b.c' })[PRIMARY_FINGERPRINT]).not.toBe(same[PRIMARY_FINGERPRINT]);
  });

  it('number identical findings in order', () => {
    const b = fingerprintBases(base);
    const [first, second, other] = assignFingerprints([b, b, fingerprintBases({ ...base, cwe: 'CWE-787' })]);
    expect(first![PRIMARY_FINGERPRINT]).toBe(`${b[PRIMARY_FINGERPRINT]}:1`);
    expect(second![PRIMARY_FINGERPRINT]).toBe(`${b[PRIMARY_FINGERPRINT]}:2`);
    expect(other![PRIMARY_FINGERPRINT]!.endsWith(':1')).toBe(true);
  });
});

describe('readBaseline', () => {
  it('reads fingerprints from SARIF results and from JSON findings (suppressed included)', () => {
    const sarif = join(tmp.dir, 'old.sarif');
    writeFileSync(sarif, JSON.stringify({ version: '2.1.0', runs: [{ results: [{ partialFingerprints: { 'finesec/v1': 'aa:1', 'finesecFragment/v1': 'bb:1' } }] }] }));
    const b = readBaseline(sarif);
    expect(b.findings).toBe(1);
    expect(inBaseline({ fingerprints: { 'finesec/v1': 'zz:1', 'finesecFragment/v1': 'bb:1' } }, b)).toBe(true);
    expect(inBaseline({ fingerprints: { 'finesec/v1': 'bb:1' } }, b)).toBe(false);

    const json = join(tmp.dir, 'old.json');
    writeFileSync(json, JSON.stringify({ format: 'finesec-scan', findings: [{ fingerprints: { 'finesec/v1': 'cc:1' } }], suppressed: [{ fingerprints: { 'finesec/v1': 'dd:1' } }] }));
    const j = readBaseline(json);
    expect(j.findings).toBe(2);
    expect(inBaseline({ fingerprints: { 'finesec/v1': 'dd:1' } }, j)).toBe(true);
  });

  it('refuses files that are not scan outputs', () => {
    const bad = join(tmp.dir, 'bad.json');
    writeFileSync(bad, '{"hello": 1}');
    expect(() => readBaseline(bad)).toThrow(`${bad}: not a finesec scan output (expected SARIF with runs[].results or JSON with findings[])`);
    writeFileSync(bad, 'not json');
    expect(() => readBaseline(bad)).toThrow(/the baseline is not JSON/);
    expect(() => readBaseline(join(tmp.dir, 'missing.sarif'))).toThrow(/cannot read the baseline/);
  });
});
