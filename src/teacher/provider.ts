import type { Sample } from '../kb/samples.js';
import type { ApiErrorKind } from './http/errors.js';

/** A chat message sent to a teacher. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A rendered prompt: the messages plus what produced them (stored with every answer). */
export interface TeacherPrompt {
  version: string;
  hash: string;
  messages: ChatMessage[];
  /** JSON Schema the answer must follow (structured output where the API supports it). */
  responseSchema: Record<string, unknown>;
}

export interface CallContext {
  /** The sample being labelled; the reference teacher reads its ground truth. */
  sample?: Sample;
}

export interface CallOptions {
  temperature: number;
  maxTokens: number;
}

export interface TokenUsage {
  prompt: number;
  completion: number;
  total: number;
  /** True when the server reported no usage and the counts are estimates (characters / 4). */
  estimated?: boolean;
}

export interface ProviderResponse {
  /** The answer text (for structured output: the JSON text). */
  output?: string;
  /** Transport or API failure, one line. Never cached. */
  error?: string;
  errorKind?: ApiErrorKind | 'refused';
  /** A failure that every later request would share (bad key, quota, budget): the run stops. */
  fatal?: boolean;
  tokenUsage: TokenUsage;
  /** USD, from the configured price table (0 when the model has no price). */
  cost: number;
  cached: boolean;
  finishReason?: string;
}

/**
 * A teacher. Transport and API failures come back as `error`; missing credentials throw when the
 * provider is created. `request` returns the full effective request (everything that can change
 * the answer), which is what the cache keys on.
 */
export interface TeacherProvider {
  id(): string;
  readonly kind: 'openai' | 'anthropic' | 'reference';
  readonly model: string;
  /** False for the reference teacher: its knowledge comes from ground truth, not a model. */
  readonly isLlm: boolean;
  /** True when the provider can only answer labelled samples. */
  readonly needsLabels: boolean;
  request(prompt: TeacherPrompt, context: CallContext, options: CallOptions): unknown;
  callApi(prompt: TeacherPrompt, context: CallContext, options: CallOptions): Promise<ProviderResponse>;
  close?(): void;
}

export const noUsage: TokenUsage = { prompt: 0, completion: 0, total: 0 };

/** Token estimate used when a server reports none and for --dry-run: about 4 characters per token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function errorResponse(error: string, errorKind: ProviderResponse['errorKind'], fatal = false): ProviderResponse {
  return { error, errorKind, fatal, tokenUsage: { ...noUsage }, cost: 0, cached: false };
}
