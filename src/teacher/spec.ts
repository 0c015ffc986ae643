import { UsageError } from '../util/errors.js';

/** A parsed teacher spec: "reference", "openai:MODEL[@URL]", "anthropic:MODEL[@URL]". */
export type TeacherSpec =
  | { kind: 'reference' }
  | { kind: 'openai'; model: string; baseUrl: string }
  | { kind: 'anthropic'; model: string; baseUrl: string };

export const defaultOpenAiUrl = 'https://api.openai.com/v1';
export const defaultAnthropicUrl = 'https://api.anthropic.com';

export function parseTeacherSpec(spec: string): TeacherSpec {
  const text = spec.trim();
  if (text === 'reference') return { kind: 'reference' };
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : '';
  if (kind !== 'openai' && kind !== 'anthropic') {
    throw new UsageError(`teacher "${spec}": expected reference, openai:MODEL[@URL] or anthropic:MODEL[@URL]`);
  }
  const rest = text.slice(colon + 1);
  // The URL starts at the first "@http(s)://"; model names may themselves contain ':' (ollama tags).
  const at = rest.search(/@https?:\/\//);
  const model = at >= 0 ? rest.slice(0, at) : rest;
  const url = at >= 0 ? rest.slice(at + 1) : kind === 'openai' ? defaultOpenAiUrl : defaultAnthropicUrl;
  if (!model) throw new UsageError(`teacher "${spec}": the model name is missing (e.g. ${kind}:MODEL)`);
  try {
    new URL(url);
  } catch {
    throw new UsageError(`teacher "${spec}": "${url}" is not a URL`);
  }
  return { kind, model, baseUrl: url.replace(/\/+$/, '') };
}

export function formatTeacherSpec(spec: TeacherSpec): string {
  if (spec.kind === 'reference') return 'reference';
  const def = spec.kind === 'openai' ? defaultOpenAiUrl : defaultAnthropicUrl;
  return spec.baseUrl === def ? `${spec.kind}:${spec.model}` : `${spec.kind}:${spec.model}@${spec.baseUrl}`;
}
