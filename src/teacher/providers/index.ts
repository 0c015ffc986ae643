import type { FinesecConfig } from '../../config/schema.js';
import { UsageError } from '../../util/errors.js';
import type { Clock } from '../clock.js';
import { PriceTable } from '../cost.js';
import type { TeacherProvider } from '../provider.js';
import { parseTeacherSpec, defaultAnthropicUrl, defaultOpenAiUrl } from '../spec.js';
import { AnthropicProvider } from './anthropic.js';
import { OpenAiProvider } from './openai.js';
import { ReferenceProvider } from './reference.js';

export interface ProviderDeps {
  clock: Clock;
  env?: NodeJS.ProcessEnv;
  /** False for --dry-run: estimating needs no key. */
  requireKey?: boolean;
  onRetry?: (message: string) => void;
  random?: () => number;
}

/**
 * The API key comes from the environment variable that teacher.api_key_env names (or the
 * provider's usual variable). It is required by the official endpoints and whenever a variable
 * was named; a local OpenAI-compatible server may run without one.
 */
export function resolveApiKey(
  kind: 'openai' | 'anthropic',
  baseUrl: string,
  apiKeyEnv: string | undefined,
  env: NodeJS.ProcessEnv,
  required: boolean,
): string | undefined {
  const name = apiKeyEnv ?? (kind === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY');
  const value = env[name];
  if (value) return value;
  const official = baseUrl === defaultOpenAiUrl || baseUrl === defaultAnthropicUrl;
  if (required && (apiKeyEnv !== undefined || official || kind === 'anthropic')) {
    throw new UsageError(
      `teacher ${kind}: the API key is missing: set the environment variable ${name}${apiKeyEnv ? ' (named by teacher.api_key_env)' : ' or name another one in teacher.api_key_env'}`,
    );
  }
  return undefined;
}

export function createProvider(spec: string, teacher: FinesecConfig['teacher'], deps: ProviderDeps): TeacherProvider {
  const parsed = parseTeacherSpec(spec);
  if (parsed.kind === 'reference') return new ReferenceProvider();
  const env = deps.env ?? process.env;
  const apiKey = resolveApiKey(parsed.kind, parsed.baseUrl, teacher.api_key_env, env, deps.requireKey ?? true);
  const common = {
    model: parsed.model,
    baseUrl: parsed.baseUrl,
    timeoutMs: Math.round(teacher.timeout_seconds * 1000),
    maxRetries: teacher.max_retries,
    prices: new PriceTable(teacher.prices),
    clock: deps.clock,
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.onRetry ? { onRetry: deps.onRetry } : {}),
  };
  if (parsed.kind === 'openai') return new OpenAiProvider({ ...common, ...(apiKey ? { apiKey } : {}) });
  return new AnthropicProvider({ ...common, apiKey: apiKey ?? '' });
}
