import type { Rng } from './rng.js';

/**
 * Identifier word lists. Names are built from neutral words only: nothing that hints at the label
 * (no bad/good/vuln/fix/safe/cwe/flaw/...) and nothing that collides with a C or C++ library
 * function, keyword or macro the templates use (index, time, free, log, new, ...).
 */
const verbs = [
  'parse', 'load', 'handle', 'process', 'copy', 'build', 'apply', 'store', 'format', 'update', 'scan', 'collect',
  'emit', 'prepare', 'import', 'decode', 'render', 'merge', 'enroll', 'fill', 'compute', 'fetch', 'resolve', 'normalize',
  'archive', 'dispatch', 'queue', 'trace', 'stage', 'ingest', 'record', 'pack', 'unpack', 'route', 'convert', 'publish',
];
const nouns = [
  'record', 'packet', 'header', 'entry', 'message', 'config', 'profile', 'token', 'name', 'path', 'session', 'field',
  'request', 'reply', 'payload', 'item', 'label', 'segment', 'frame', 'chunk', 'column', 'table', 'user', 'account',
  'option', 'setting', 'report', 'event', 'sample', 'block', 'node', 'cache', 'ticket', 'order', 'invoice', 'sensor',
  'reading', 'channel', 'device', 'job', 'task', 'batch', 'title', 'comment', 'tag', 'alias', 'host', 'route',
];
const modules = ['cfg', 'net', 'io', 'app', 'db', 'ui', 'srv', 'core', 'util', 'rx', 'tx', 'fs', 'ipc', 'mgr', 'hw', 'svc'];

const roles = {
  text: ['input', 'text', 'name', 'value', 'arg', 'param', 'request', 'message', 'field', 'payload', 'word', 'query', 'spec', 'user text', 'raw name', 'line text', 'host name', 'item name', 'key text', 'descr'],
  buffer: ['buffer', 'dest', 'target', 'out', 'scratch', 'store', 'holder', 'slot', 'area', 'cell', 'staging', 'work', 'local copy', 'name buf', 'field buf', 'out buf', 'line buf', 'msg buf', 'tmp'],
  inbuf: ['line', 'input buf', 'read buf', 'raw', 'chunk', 'in buf', 'recv buf', 'net buf', 'line buf', 'text buf', 'incoming'],
  heap: ['copy', 'dup', 'clone', 'heap buf', 'mem', 'block', 'region', 'storage', 'owned', 'dyn buf', 'alloc buf', 'saved'],
  count: ['count', 'size', 'len', 'amount', 'total', 'length', 'width', 'height', 'depth', 'level', 'limit', 'quota', 'items', 'steps', 'qty', 'num', 'n items', 'requested'],
  idx: ['idx', 'pos', 'slot', 'offset', 'which', 'choice', 'selector', 'entry no', 'item no', 'row', 'col', 'ordinal'],
  result: ['result', 'sum', 'product', 'outcome', 'scaled', 'adjusted', 'computed', 'next value', 'derived', 'shifted', 'ratio', 'share'],
  iter: ['i', 'j', 'k', 'n', 'pos', 'cursor', 'walk', 'iter', 'cur'],
  ptr: ['ptr', 'cursor', 'head', 'mark', 'pin', 'sep', 'tail', 'at', 'probe', 'hit'],
  flag: ['enabled', 'active mode', 'run mode', 'feature on', 'config level', 'verbose', 'trace level', 'build mode', 'stage on', 'opt level'],
  fd: ['sock', 'fd', 'conn', 'peer fd', 'client', 'sock fd', 'channel fd'],
  stream: ['fp', 'stream', 'in', 'src file', 'input file', 'fh', 'handle'],
  file: ['out file', 'fh', 'journal', 'log file', 'out', 'trail', 'out stream', 'dump'],
  struct: ['record', 'entry', 'item', 'slot', 'pair', 'cell', 'point', 'span', 'range', 'metric', 'sample', 'quote'],
  field: ['id', 'weight', 'score', 'code', 'kind', 'width', 'height', 'rank', 'size', 'flags', 'port', 'level', 'hits', 'mode', 'ttl'],
  label: ['stage', 'proceed', 'run step', 'next step', 'body', 'work', 'process it', 'enter', 'go on', 'handle it'],
  status: ['accepted', 'permitted', 'allowed', 'well formed', 'plain', 'usable', 'admissible', 'conforming'],
  table: ['table', 'lookup', 'weights', 'factors', 'rates', 'codes', 'steps', 'levels', 'limits', 'offsets'],
} as const;

export type NameRole = keyof typeof roles;
export type NameStyle = 'snake' | 'camel';

const reserved = new Set([
  'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern', 'float', 'for',
  'goto', 'if', 'int', 'long', 'register', 'return', 'short', 'signed', 'sizeof', 'static', 'struct', 'switch', 'typedef',
  'union', 'unsigned', 'void', 'volatile', 'while', 'new', 'delete', 'class', 'this', 'template', 'namespace', 'operator',
  'private', 'public', 'protected', 'try', 'catch', 'throw', 'bool', 'true', 'false', 'in', 'out', 'at',
]);

/** Hands out unique identifiers for one translation unit in one naming style. */
export class Names {
  private readonly used = new Set<string>();

  constructor(
    private readonly rng: Rng,
    readonly style: NameStyle,
  ) {}

  /** A fresh variable-like name for a role ("buffer", "count", ...). */
  v(role: NameRole): string {
    const words = roles[role];
    for (let attempt = 0; attempt < 12; attempt++) {
      const name = this.join(this.rng.pick(words).split(' '));
      if (this.take(name)) return name;
    }
    for (let n = 2; ; n++) {
      const name = this.join([...this.rng.pick(words).split(' '), String(n)]);
      if (this.take(name)) return name;
    }
  }

  /** A fresh function name: verb_noun, sometimes with a module prefix. */
  fn(): string {
    for (let attempt = 0; ; attempt++) {
      const parts = [this.rng.pick(verbs), this.rng.pick(nouns)];
      if (this.rng.chance(0.35)) parts.unshift(this.rng.pick(modules));
      if (attempt > 20) parts.push(String(attempt));
      const name = this.join(parts);
      if (this.take(name)) return name;
    }
  }

  /** A fresh type tag (struct name). */
  type(): string {
    for (let n = 0; ; n++) {
      const base = this.rng.pick(roles.struct);
      const noun = this.rng.pick(nouns);
      const parts = noun === base ? [base] : [noun, base];
      if (n > 10) parts.push(String(n));
      const name = this.style === 'snake' ? parts.join('_') + '_t' : parts.map(cap).join('');
      if (this.take(name)) return name;
    }
  }

  /** An UPPER_CASE name for an environment variable. */
  envVar(): string {
    return [this.rng.pick(modules), this.rng.pick(nouns)].join('_').toUpperCase();
  }

  private take(name: string): boolean {
    if (reserved.has(name) || this.used.has(name)) return false;
    this.used.add(name);
    return true;
  }

  private join(parts: string[]): string {
    if (this.style === 'snake') return parts.join('_');
    return parts[0]! + parts.slice(1).map(cap).join('');
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const literalWords = [
  'alpha', 'bravo', 'delta', 'echo', 'harbor', 'meadow', 'copper', 'silver', 'orbit', 'lantern', 'pepper', 'violet',
  'summit', 'canyon', 'river', 'maple', 'cedar', 'falcon', 'quartz', 'ember', 'nova', 'pixel', 'atlas', 'zephyr',
  'report', 'sample', 'north', 'south', 'station', 'garden', 'signal', 'vector', 'marble', 'tunnel', 'beacon', 'window',
];

/** A plain literal of exactly `length` characters made of words (letters, digits, '-' and '.'). */
export function literalText(rng: Rng, length: number, separator = '-'): string {
  let out = '';
  while (out.length < length) out += (out ? separator : '') + rng.pick(literalWords);
  return out.slice(0, length);
}

/** A short lowercase word for literals (file names, commands). */
export function literalWord(rng: Rng): string {
  return rng.pick(literalWords);
}
