import { describe, expect, it } from 'vitest';
import { splitQwen2 } from '../../src/tokenizer/pretokenize.js';
import { BYTE_TO_CHAR, byteLevelToBytes, toByteLevel } from '../../src/tokenizer/byte-level.js';

describe('qwen2 pre-tokenizer (llama.cpp unicode_regex_split_custom_qwen2)', () => {
  const cases: Array<[string, string[]]> = [
    ['Hello world', ['Hello', ' world']],
    ["it's I'LL we're they've I'm he'd can't", ['it', "'s", ' I', "'LL", ' we', "'re", ' they', "'ve", ' I', "'m", ' he', "'d", ' can', "'t"]],
    ['x = 123;', ['x', ' =', ' ', '1', '2', '3', ';']],
    ['a\n\n  b', ['a', '\n\n', ' ', ' b']],
    ['if (p == NULL) {\n\treturn -1;\n}', ['if', ' (', 'p', ' ==', ' NULL', ')', ' {\n', '\treturn', ' -', '1', ';\n', '}']],
    ['(abc', ['(abc']],
    ['end   ', ['end', '   ']],
    ['a\r\n\r\nb', ['a', '\r\n\r\n', 'b']],
    ['x  \n  y', ['x', '  \n', ' ', ' y']],
    ['...!!!\n\nnext', ['...!!!\n\n', 'next']],
    ['日本語 テキスト', ['日本語', ' テキスト']],
    ['naïve café', ['naïve', ' café']],
    ['😀😀 ok', ['😀😀', ' ok']],
    ["'x", ["'x"]],
    ["don'", ['don', "'"]],
    ['\u0085a', ['\u0085a']],
    ['a\u0085 b', ['a', '\u0085', ' b']],
    ['\uFEFFa', ['\uFEFFa']],
    ['', []],
  ];
  for (const [text, pieces] of cases) {
    it(`splits ${JSON.stringify(text)}`, () => {
      expect(splitQwen2(text)).toEqual(pieces);
    });
  }

  it('pieces always join back to the input', () => {
    const text = 'int main(int argc, char **argv) {\n    char buf[64];\r\n\tstrcpy(buf, argv[1]); // 😀 überlauf\n\n\n}\n  ';
    expect(splitQwen2(text).join('')).toBe(text);
  });
});

describe('byte-level alphabet (GPT-2 bytes_to_unicode)', () => {
  it('maps printable bytes to themselves and the rest from U+0100 in byte order', () => {
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ'); // space is byte 32: the 33rd non-printable -> U+0120
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x00]).toBe('Ā');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń'); // 67 non-printable bytes come before it
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
  });

  it('round-trips any UTF-8 text', () => {
    const text = 'héllo\n\t😀 \u0000';
    const level = toByteLevel(text);
    expect(level).toBe('hÃ©lloĊĉðŁĺĢĠĀ');
    expect(Buffer.from(byteLevelToBytes(level)!).toString('utf8')).toBe(text);
    expect(byteLevelToBytes('a b')).toBeUndefined();
  });
});
