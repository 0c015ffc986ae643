import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { defaultConfig, parseConfigText, loadConfig } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import { openKb, schemaVersion } from '../../src/kb/db.js';
import { migrations } from '../../src/kb/migrations.js';

describe('finesec init', () => {
  it('creates kb.sqlite (WAL, migrated) and a commented config that parses to the defaults', async () => {
    const t = tempDir();
    try {
      const ws = join(t.dir, 'ws');
      const r = await runCli(['init', ws, '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).created).toBe(true);
      expect(existsSync(join(ws, 'kb.sqlite'))).toBe(true);
      expect(readFileSync(join(ws, 'finesec.yaml'), 'utf8')).toMatch(/^# /);
      expect(loadConfig(join(ws, 'finesec.yaml'))).toEqual(defaultConfig());
      const db = openKb(join(ws, 'kb.sqlite'));
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(schemaVersion(db)).toBe(migrations[migrations.length - 1]!.version);
      db.close();
      const again = await runCli(['init', ws, '--json']);
      expect(JSON.parse(again.stdout).created).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it('the template parses to exactly the schema defaults', () => {
    expect(parseConfigText(configTemplate)).toEqual(defaultConfig());
  });
});

describe('config validation', () => {
  it('names the path of an unknown key', () => {
    expect(() => parseConfigText('teacher:\n  concurency: 3\n')).toThrow(/unknown key teacher\.concurency/);
  });
  it('names the path of a bad value', () => {
    expect(() => parseConfigText('train:\n  lora:\n    rank: -1\n')).toThrow(/train\.lora\.rank/);
    expect(() => parseConfigText('threads: two\n')).toThrow(/threads/);
  });
  it('reports invalid YAML with its line', () => {
    expect(() => parseConfigText('a: 1\nb: [1, 2\n', 'x.yaml')).toThrow(/x\.yaml(:\d+)?: invalid YAML/);
  });
  it('init refuses a workspace whose config is invalid, with exit 2', async () => {
    const t = tempDir();
    try {
      await runCli(['init', t.dir]);
      writeFileSync(join(t.dir, 'finesec.yaml'), 'split:\n  by: sideways\n');
      const r = await runCli(['init', t.dir]);
      expect(r.code).toBe(2);
    } finally {
      t.cleanup();
    }
  });
});
