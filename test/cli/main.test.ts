import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { parseCommandLine, type CommandSpec } from '../../src/cli/command.js';

const spec: CommandSpec = {
  name: 'probe',
  summary: 'test command',
  options: {
    count: { type: 'number', help: 'a count', default: 3 },
    mode: { type: 'string', help: 'a mode', choices: ['a', 'b'] },
    model: { type: 'string', help: 'repeatable', multiple: true },
    tasks: { type: 'list', help: 'a list' },
  },
  run: async () => 0,
};

describe('command line parsing', () => {
  it('keeps the last value of a repeated flag and coerces numbers', () => {
    const { values } = parseCommandLine(spec, ['--count', '5', '--count', '7', '--mode', 'b']);
    expect(values.count).toBe(7);
    expect(values.mode).toBe('b');
  });

  it('keeps every value of a repeatable flag and splits lists', () => {
    const { values } = parseCommandLine(spec, ['--model', 'x', '--model', 'y', '--tasks', 'detect,classify']);
    expect(values.model).toEqual(['x', 'y']);
    expect(values.tasks).toEqual(['detect', 'classify']);
  });

  it('rejects a non-number, a bad choice and an unknown flag with a usage error', () => {
    expect(() => parseCommandLine(spec, ['--count', 'many'])).toThrow(/--count expects a number, got "many"/);
    expect(() => parseCommandLine(spec, ['--mode', 'c'])).toThrow(/--mode must be one of a, b/);
    expect(() => parseCommandLine(spec, ['--nope'])).toThrow(/unknown option '--nope'/);
  });

  it('applies defaults', () => {
    const { values } = parseCommandLine(spec, []);
    expect(values.count).toBe(3);
    expect(values.json).toBe(false);
    expect(values.workspace).toBe('.finesec');
  });
});

describe('finesec entry point', () => {
  it('lists the commands in --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Commands:/);
    expect(r.stdout).toMatch(/\binit\b/);
  });

  it('exits 2 with a one-line reason on an unknown command, also as a real process', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    const p = await spawnCli(['frobnicate']);
    expect(p.code).toBe(2);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('prints a JSON error on stdout in --json mode', async () => {
    const r = await runCli(['init', '--json', '--bogus']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.kind).toBe('usage');
  });
});
