/** ChatML: the special tokens and the chat template every finesec model carries. */

export const ENDOFTEXT = '<|endoftext|>';
export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';

/** In vocabulary order: they take the last ids, after the byte and merge tokens. */
export const CHATML_SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END] as const;

/**
 * The plain ChatML Jinja template (as Qwen2 ships it, without a default system message), so
 * llama.cpp and node-llama-cpp recognise the format.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface ChatMessage {
  role: string;
  content: string;
}

/** What CHATML_TEMPLATE renders, for code that formats prompts itself (training examples). */
export function renderChatML(messages: ChatMessage[], addGenerationPrompt: boolean): string {
  let out = '';
  for (const m of messages) out += `${IM_START}${m.role}\n${m.content}${IM_END}\n`;
  if (addGenerationPrompt) out += `${IM_START}assistant\n`;
  return out;
}
