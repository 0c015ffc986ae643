import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { parseAdapterArgs } from '../runtime/adapter-args.js';
import type { ChatBackend } from '../runtime/chat-types.js';
import { LocalStudent, type AdapterSpec } from '../runtime/local-student.js';
import { OpenAiStudent } from '../runtime/openai-student.js';
import { UsageError } from '../util/errors.js';

/**
 * What `finesec eval --model SPEC` accepts:
 *   path/base.gguf                              a base model alone
 *   path/base.gguf+path/adapter.gguf[:SCALE]    a base with one or more LoRA adapters (+a.gguf+b.gguf:0.5)
 *   openai:MODEL@URL                            any OpenAI-compatible endpoint (a teacher, a served student)
 *   adapter:ID                                  a registered adapter (resolved by the adapter registry)
 */
export type ModelSpec =
  | { kind: 'gguf'; text: string; base: string; adapters: AdapterSpec[] }
  | { kind: 'openai'; text: string; model: string; baseURL: string }
  | { kind: 'adapter'; text: string; id: string };

/** A spec that can be opened: registered adapters already resolved to files. */
export type ResolvedModelSpec = Exclude<ModelSpec, { kind: 'adapter' }>;

/**
 * The hook for issue 10: the adapter registry maps an id to its base and adapter files. Until it
 * exists, eval is called without one and `adapter:ID` is refused with a clear message.
 */
export interface AdapterRegistry {
  resolve(id: string): { base: string; adapters: AdapterSpec[] };
}

const OPENAI = /^openai:(.+?)@(https?:\/\/\S+)$/;

export function parseModelSpec(text: string, command = 'eval'): ModelSpec {
  const spec = text.trim();
  if (spec === '') throw new UsageError(`${command}: --model needs a value (see finesec ${command} --help)`);
  if (spec.startsWith('openai:')) {
    const m = OPENAI.exec(spec);
    if (!m) throw new UsageError(`${command}: --model ${spec}: expected openai:MODEL@URL, e.g. openai:qwen@http://127.0.0.1:8080/v1`);
    return { kind: 'openai', text: spec, model: m[1]!, baseURL: m[2]! };
  }
  if (spec.startsWith('adapter:')) {
    const id = spec.slice('adapter:'.length);
    if (id === '') throw new UsageError(`${command}: --model ${spec}: expected adapter:ID`);
    return { kind: 'adapter', text: spec, id };
  }
  // A file whose name contains '+' is still a base model when it exists as written.
  const parts = existsSync(spec) ? [spec] : spec.split('+');
  const base = parts[0]!;
  if (base === '' || parts.slice(1).some((p) => p === '')) {
    throw new UsageError(`${command}: --model ${spec}: expected BASE.gguf or BASE.gguf+ADAPTER.gguf[:SCALE]`);
  }
  const adapters = parseAdapterArgs(command, parts.slice(1));
  for (const file of [base, ...adapters.map((a) => a.path)]) {
    if (!existsSync(file)) throw new UsageError(`${command}: --model ${spec}: no such file ${file}`);
  }
  return { kind: 'gguf', text: spec, base, adapters };
}

export function resolveModelSpec(spec: ModelSpec, registry: AdapterRegistry | undefined, command = 'eval'): ResolvedModelSpec {
  if (spec.kind !== 'adapter') return spec;
  if (!registry) {
    throw new UsageError(`${command}: --model ${spec.text}: no adapter registry yet; pass BASE.gguf+ADAPTER.gguf[:SCALE] instead`);
  }
  const { base, adapters } = registry.resolve(spec.id);
  return { kind: 'gguf', text: spec.text, base, adapters };
}

/** The label a spec gets when --name does not give one: file names without .gguf, or the endpoint's model. */
export function defaultModelName(spec: ModelSpec): string {
  switch (spec.kind) {
    case 'openai':
      return spec.model;
    case 'adapter':
      return spec.id;
    case 'gguf': {
      const stem = (p: string): string => basename(p).replace(/\.gguf$/i, '');
      return [stem(spec.base), ...spec.adapters.map((a) => stem(a.path) + (a.scale !== undefined && a.scale !== 1 ? `@${a.scale}` : ''))].join('+');
    }
  }
}

/**
 * Display names for the models, in order: --name values first, defaults for the rest. Names must
 * be unique (they key results.json and the KB); repeated defaults get "#2", "#3".
 */
export function modelNames(specs: ModelSpec[], names: string[], reserved: string[], command = 'eval'): string[] {
  if (names.length > specs.length) throw new UsageError(`${command}: ${names.length} --name values for ${specs.length} --model values`);
  const used = new Set<string>();
  const out: string[] = [];
  for (const name of names) {
    if (!/^[^\s,]{1,64}$/.test(name)) throw new UsageError(`${command}: --name "${name}": expected 1-64 characters without spaces or commas`);
    if (used.has(name) || reserved.includes(name)) throw new UsageError(`${command}: --name ${name} is used twice`);
    used.add(name);
    out.push(name);
  }
  for (const spec of specs.slice(names.length)) {
    const base = defaultModelName(spec).replace(/[\s,]+/g, '_').slice(0, 60) || 'model';
    let name = base;
    for (let i = 2; used.has(name) || reserved.includes(name); i++) name = `${base}#${i}`;
    used.add(name);
    out.push(name);
  }
  return out;
}

export interface OpenModelOptions {
  threads: number;
  contextSize?: number;
  llama?: Llama;
  /** For openai specs; read from the environment by the caller, never stored. */
  apiKey?: string;
  id?: string;
}

export async function openModel(spec: ResolvedModelSpec, options: OpenModelOptions): Promise<ChatBackend> {
  if (spec.kind === 'openai') {
    return new OpenAiStudent({ baseURL: spec.baseURL, model: spec.model, ...(options.apiKey ? { apiKey: options.apiKey } : {}) });
  }
  return LocalStudent.load({
    model: spec.base,
    adapters: spec.adapters,
    threads: options.threads,
    ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
    ...(options.llama ? { llama: options.llama } : {}),
    ...(options.id ? { id: options.id } : {}),
  });
}
