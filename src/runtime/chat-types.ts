import { FinesecError, InputError } from '../util/errors.js';

/**
 * The chat interface every student speaks, whether it runs in this process (node-llama-cpp) or
 * behind an OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, `finesec serve`).
 */
export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean };

export interface ChatRequest {
  messages: ChatMessage[];
  /** Tokens to generate at most; defaults to what is left of the context. */
  maxTokens?: number;
  /** 0 (the default) is greedy and deterministic. */
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Makes sampling with temperature > 0 repeatable. */
  seed?: number;
  stop?: string[];
  responseFormat?: ResponseFormat;
  signal?: AbortSignal;
  /** Streaming: called with each piece of generated text, in order. */
  onTextChunk?: (text: string) => void;
}

export type FinishReason = 'stop' | 'length';

export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  text: string;
  finishReason: FinishReason;
  usage: ChatUsage;
  /** Schema keywords the backend could not enforce (see grammar-schema.ts). */
  ignoredSchemaKeywords?: string[];
}

export interface ChatBackend {
  /** Model id as a server would list it. */
  readonly id: string;
  /** Context size in tokens, when known (local models). */
  readonly contextSize?: number;
  complete(request: ChatRequest): Promise<ChatResult>;
  close(): Promise<void>;
}

/** The formatted prompt does not fit the context: a caller error, never a silent truncation. */
export class PromptTooLongError extends InputError {
  constructor(
    /** Unknown (undefined) when a remote server reported the overflow. */
    readonly promptTokens: number | undefined,
    readonly contextSize: number | undefined,
    message = `prompt is ${promptTokens} tokens but the context holds ${contextSize} (raise the context size or shorten the input)`,
  ) {
    super(message);
    this.name = 'PromptTooLongError';
  }
}

/** A request the backend refuses as malformed (bad schema, bad parameter): HTTP 400 in serve. */
export class InvalidRequestError extends FinesecError {
  constructor(
    message: string,
    readonly param: string | null = null,
  ) {
    super(message, { kind: 'input' });
    this.name = 'InvalidRequestError';
  }
}
