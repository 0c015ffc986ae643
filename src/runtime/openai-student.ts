import OpenAI from 'openai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { errorMessage, FinesecError } from '../util/errors.js';
import { InvalidRequestError, PromptTooLongError, type ChatBackend, type ChatRequest, type ChatResult } from './chat-types.js';

export interface OpenAiStudentOptions {
  /** e.g. http://127.0.0.1:8080/v1 (vLLM, Ollama, llama.cpp server, finesec serve). */
  baseURL: string;
  /** The model id the server knows. */
  model: string;
  /** Read by the caller from the environment; never stored. Default: a placeholder, for servers without auth. */
  apiKey?: string;
  timeoutMs?: number;
  /** Retries of 408/409/429/5xx and connection errors (the client's backoff, honouring Retry-After). Default 2. */
  maxRetries?: number;
  /** When the server's context size is known; only informative. */
  contextSize?: number;
}

/**
 * A student behind an OpenAI-compatible endpoint, through the official `openai` client. The
 * request maps one to one: grammar-constrained output is `response_format: json_schema`, which
 * such servers enforce with their own grammar engines.
 */
export class OpenAiStudent implements ChatBackend {
  readonly id: string;
  readonly contextSize?: number;
  private readonly client: OpenAI;

  constructor(options: OpenAiStudentOptions) {
    this.id = options.model;
    if (options.contextSize !== undefined) this.contextSize = options.contextSize;
    this.client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey ?? 'no-key',
      timeout: options.timeoutMs ?? 600_000,
      maxRetries: options.maxRetries ?? 2,
    });
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    const params = {
      model: this.id,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: request.temperature ?? 0,
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.stop && request.stop.length > 0 ? { stop: request.stop } : {}),
      ...responseFormat(request),
    } satisfies Partial<ChatCompletionCreateParams>;
    const callOptions = request.signal ? { signal: request.signal } : {};
    try {
      if (request.onTextChunk) {
        const stream = await this.client.chat.completions.create(
          { ...params, stream: true, stream_options: { include_usage: true } },
          callOptions,
        );
        let text = '';
        let finish: string | null = null;
        let usage = { promptTokens: 0, completionTokens: 0 };
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          const piece = choice?.delta?.content ?? '';
          if (piece) {
            text += piece;
            request.onTextChunk(piece);
          }
          if (choice?.finish_reason) finish = choice.finish_reason;
          if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        }
        return { text, finishReason: finish === 'length' ? 'length' : 'stop', usage };
      }
      const completion = await this.client.chat.completions.create({ ...params, stream: false }, callOptions);
      const choice = completion.choices[0];
      if (!choice) throw new FinesecError(`${this.id}: the server returned no choices`);
      return {
        text: choice.message.content ?? '',
        finishReason: choice.finish_reason === 'length' ? 'length' : 'stop',
        usage: { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0 },
      };
    } catch (err) {
      throw translateError(err);
    }
  }

  async close(): Promise<void> {
    // The client holds no resources beyond pooled connections that close on their own.
  }
}

function responseFormat(request: ChatRequest): Partial<ChatCompletionCreateParams> {
  const f = request.responseFormat;
  if (!f || f.type === 'text') return {};
  if (f.type === 'json_object') return { response_format: { type: 'json_object' } };
  return {
    response_format: {
      type: 'json_schema',
      json_schema: { name: f.name, schema: f.schema, ...(f.strict !== undefined ? { strict: f.strict } : {}) },
    },
  };
}

function translateError(err: unknown): unknown {
  if (err instanceof OpenAI.APIError && err.status === 400) {
    if (err.code === 'context_length_exceeded') return new PromptTooLongError(undefined, undefined, `the server says: ${err.message}`);
    return new InvalidRequestError(`the server refused the request: ${err.message}`, err.param ?? null);
  }
  if (err instanceof OpenAI.APIUserAbortError) return err;
  if (err instanceof OpenAI.APIError) return new FinesecError(`student endpoint error: ${errorMessage(err)}`, { cause: err });
  return err;
}
