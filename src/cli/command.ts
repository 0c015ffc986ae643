import { parseArgs } from 'node:util';
import { Logger } from '../util/log.js';
import { UsageError } from '../util/errors.js';

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  type: OptionType;
  help: string;
  /** Shown in help; also the value when the flag is absent. */
  default?: string | number | boolean | string[];
  short?: string;
  /** Allowed values for a string option. */
  choices?: readonly string[];
  /** Repeatable: every occurrence is kept (e.g. --model A --model B). */
  multiple?: boolean;
  /** Placeholder in help, e.g. FILE. */
  arg?: string;
}

export type OptionValues = Record<string, string | number | boolean | string[] | undefined>;

export interface CommandContext {
  args: OptionValues;
  positionals: string[];
  logger: Logger;
  json: boolean;
  workspace: string;
  /** Prints the result: JSON on stdout in --json mode, the text otherwise. */
  result(value: unknown, text?: string): void;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments as shown in usage, e.g. "[DIR]" or "PATH". */
  positionals?: string;
  /** Extra paragraphs for --help. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Returns the exit code (0 when omitted). */
  run(ctx: CommandContext): Promise<number | void>;
}

export const globalOptions: Record<string, OptionSpec> = {
  workspace: { type: 'string', help: 'workspace directory', default: '.finesec', arg: 'DIR' },
  json: { type: 'boolean', help: 'machine-readable result on stdout, logs on stderr', default: false },
  quiet: { type: 'boolean', help: 'only errors on stderr', default: false, short: 'q' },
  help: { type: 'boolean', help: 'show this help', default: false, short: 'h' },
};

export interface ParsedCommandLine {
  values: OptionValues;
  positionals: string[];
}

/**
 * Parses argv for one command. A repeated single-valued flag keeps its last value; numbers are
 * coerced and checked here so commands only see typed values.
 */
export function parseCommandLine(spec: CommandSpec, argv: string[]): ParsedCommandLine {
  const all = { ...globalOptions, ...spec.options };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, opt] of Object.entries(all)) {
    options[name] = {
      type: opt.type === 'boolean' ? 'boolean' : 'string',
      ...(opt.short ? { short: opt.short } : {}),
      multiple: true,
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, allowNegative: true });
  } catch (err) {
    const message = (err instanceof Error ? err.message.split('\n')[0]! : String(err)).replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`${spec.name}: ${message.replace(/^Unknown option/, 'unknown option')} (see finesec ${spec.name} --help)`);
  }
  const values: OptionValues = {};
  for (const [name, opt] of Object.entries(all)) {
    const raw = (parsed.values as Record<string, Array<string | boolean> | undefined>)[name];
    if (raw === undefined || raw.length === 0) {
      values[name] = opt.default;
      continue;
    }
    if (opt.type === 'boolean') {
      values[name] = Boolean(raw[raw.length - 1]);
      continue;
    }
    const strings = raw.map(String);
    if (opt.multiple) {
      values[name] = strings.flatMap((s) => (opt.type === 'list' ? splitList(s) : [s]));
      continue;
    }
    const last = strings[strings.length - 1]!;
    values[name] = coerce(spec.name, name, opt, last);
  }
  return { values, positionals: parsed.positionals };
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function coerce(command: string, name: string, opt: OptionSpec, raw: string): string | number | string[] {
  if (opt.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw new UsageError(`${command}: --${name} expects a number, got "${raw}"`);
    }
    return n;
  }
  if (opt.type === 'list') return splitList(raw);
  if (opt.choices && !opt.choices.includes(raw)) {
    throw new UsageError(`${command}: --${name} must be one of ${opt.choices.join(', ')}, got "${raw}"`);
  }
  return raw;
}

export function renderHelp(spec: CommandSpec): string {
  const lines = [`finesec ${spec.name}${spec.positionals ? ' ' + spec.positionals : ''} [options]`, '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  const section = (title: string, opts: Record<string, OptionSpec>): void => {
    const entries = Object.entries(opts);
    if (entries.length === 0) return;
    lines.push('', title);
    for (const [name, opt] of entries) {
      const flag = `${opt.short ? `-${opt.short}, ` : ''}--${name}${opt.type === 'boolean' ? '' : ' ' + (opt.arg ?? opt.type.toUpperCase())}`;
      const extras: string[] = [opt.type + (opt.multiple ? ', repeatable' : '')];
      if (opt.choices) extras.push(`one of ${opt.choices.join('|')}`);
      if (opt.default !== undefined && opt.default !== false) extras.push(`default: ${String(opt.default)}`);
      lines.push(`  ${flag.padEnd(30)} ${opt.help} (${extras.join('; ')})`);
    }
  };
  section('Options:', spec.options);
  section('Global options:', globalOptions);
  return lines.join('\n');
}

/** Typed accessors for option values (they were coerced by parseCommandLine). */
export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
export function num(values: OptionValues, name: string): number | undefined {
  const v = values[name];
  return typeof v === 'number' ? v : undefined;
}
export function bool(values: OptionValues, name: string): boolean {
  return values[name] === true;
}
export function list(values: OptionValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
export function requireStr(values: OptionValues, command: string, name: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') throw new UsageError(`${command}: --${name} is required`);
  return v;
}
export function requireInt(values: OptionValues, command: string, name: string, min = 0): number | undefined {
  const v = num(values, name);
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${command}: --${name} expects an integer >= ${min}, got ${v}`);
  return v;
}
