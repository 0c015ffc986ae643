import { existsSync, readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type FinesecConfig } from './schema.js';
import { InputError } from '../util/errors.js';

export function defaultConfig(): FinesecConfig {
  return configSchema.parse({});
}

/** Formats zod issues as "finesec.yaml: teacher.concurrency: expected ..." (one line per issue). */
export function describeIssues(file: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.') || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        const keys = (issue as { keys: string[] }).keys;
        const prefix = issue.path.length ? issue.path.map(String).join('.') + '.' : '';
        return `${file}: unknown key ${keys.map((k) => prefix + k).join(', ')}`;
      }
      return `${file}: ${path}: ${issue.message}`;
    })
    .join('; ');
}

export function parseConfigText(text: string, file = 'finesec.yaml'): FinesecConfig {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new InputError(`${file}${line ? `:${line}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${file}: expected a mapping at the top level`);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(describeIssues(file, parsed.error));
  return parsed.data;
}

/** Loads finesec.yaml from a workspace; a workspace without one uses the defaults. */
export function loadConfig(path: string): FinesecConfig {
  if (!existsSync(path)) return defaultConfig();
  return parseConfigText(readFileSync(path, 'utf8'), path);
}
