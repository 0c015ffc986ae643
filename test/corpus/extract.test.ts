import { describe, expect, it } from 'vitest';
import { extractFunctions, maskConditionalBranches, type ExtractedFunction } from '../../src/corpus/extract.js';

const byName = (fns: ExtractedFunction[]): Map<string, ExtractedFunction> => new Map(fns.map((f) => [f.name, f]));

/** The 1-based line of the first line of `code` containing `needle`. */
function lineOf(code: string, needle: string): number {
  const index = code.split('\n').findIndex((l) => l.includes(needle));
  if (index === -1) throw new Error(`"${needle}" not in the test code`);
  return index + 1;
}

describe('extractFunctions: C', () => {
  const code = [
    '#include <stdio.h>',
    'static int counter = 0;',
    '',
    '/* adds */',
    'static int add(int a, int b)',
    '{',
    '    return a + b;',
    '}',
    '',
    'char *dup_name(const char *s) { return 0; }',
    '',
    'int old_style(a, b)',
    'int a;',
    'char *b;',
    '{',
    '    return a;',
    '}',
    '',
    'int (*pick(int which))(int, int)',
    '{',
    '    return 0;',
    '}',
    'struct point { int x; int y; };',
    'void nothing(void);',
  ].join('\n');

  it('finds every definition with its name, 1-based lines, signature and exact text', async () => {
    const { functions, problems } = await extractFunctions(code, 'c');
    expect(problems).toEqual([]);
    expect(functions.map((f) => f.name)).toEqual(['add', 'dup_name', 'old_style', 'pick']);
    const add = functions[0]!;
    expect(add.startLine).toBe(5);
    expect(add.endLine).toBe(8);
    expect(add.signature).toBe('static int add(int a, int b)');
    expect(add.code).toBe('static int add(int a, int b)\n{\n    return a + b;\n}');
    expect(add.language).toBe('c');
    expect(add.hasErrors).toBe(false);
    const kr = functions[2]!;
    expect([kr.startLine, kr.endLine]).toEqual([12, 17]);
    expect(kr.signature).toBe('int old_style(a, b) int a; char *b;');
    expect(functions[3]!.signature).toBe('int (*pick(int which))(int, int)');
  });

  it('keeps offsets right after non-ASCII text and with CRLF line ends', async () => {
    const crlf = 'const char *s = "é😀";\r\n\r\nint f(void)\r\n{\r\n  return 1;\r\n}\r\n';
    const { functions } = await extractFunctions(crlf, 'c');
    expect(functions).toHaveLength(1);
    expect(functions[0]!.startLine).toBe(3);
    expect(functions[0]!.endLine).toBe(6);
    expect(functions[0]!.code).toBe('int f(void)\r\n{\r\n  return 1;\r\n}');
  });
});

describe('extractFunctions: C++', () => {
  const code = [
    'namespace ns {',
    'int f(int x) { return x; }',
    'class Foo : public Bar {',
    'public:',
    '  Foo() : a(1) {}',
    '  ~Foo() { }',
    '  int get() const { return a; }',
    '  bool operator==(const Foo& o) const { return a == o.a; }',
    '  operator bool() const { return a != 0; }',
    '  template <typename U> U conv() { return U(a); }',
    '  Foo(const Foo&) = default;',
    'private:',
    '  int a;',
    '};',
    '}',
    'template <typename T>',
    'T max_of(T a, T b) { return a > b ? a : b; }',
    'Foo::Foo(int x) : a(x) {}',
    'Foo::~Foo() {}',
    'int& ns::Foo::ref() { return a; }',
    'Foo operator+(const Foo& a, const Foo& b) { return a; }',
    'extern "C" {',
    'void cfun(void) {}',
    '}',
    'template <> void Foo<int>::bar() {}',
    'void* operator new(size_t n) { return malloc(n); }',
    'int Foo::safe() try { return 1; } catch (...) { return 0; }',
    'auto lambda = [](int x) { return x; };',
  ].join('\n');

  it('names methods, constructors, destructors, operators and templates with their scope', async () => {
    const { functions, problems } = await extractFunctions(code, 'cpp');
    expect(problems).toEqual([]);
    expect(functions.map((f) => f.name)).toEqual([
      'ns::f',
      'ns::Foo::Foo',
      'ns::Foo::~Foo',
      'ns::Foo::get',
      'ns::Foo::operator==',
      'ns::Foo::operator bool',
      'ns::Foo::conv',
      'max_of',
      'Foo::Foo',
      'Foo::~Foo',
      'ns::Foo::ref',
      'operator+',
      'cfun',
      'Foo<int>::bar',
      'operator new',
      'Foo::safe',
    ]);
    const fns = byName(functions);
    const maxOf = fns.get('max_of')!;
    expect(maxOf.code).toBe('template <typename T>\nT max_of(T a, T b) { return a > b ? a : b; }');
    expect([maxOf.startLine, maxOf.endLine]).toEqual([16, 17]);
    expect(fns.get('Foo::Foo')!.signature).toBe('Foo::Foo(int x) : a(x)');
    expect(fns.get('ns::Foo::get')!.signature).toBe('int get() const');
  });
});

describe('extractFunctions: macros', () => {
  const code = [
    'SYSCALL_DEFINE3(read, unsigned int, fd, char *, buf, size_t, count)',
    '{',
    '  return ksys_read(fd, buf, count);',
    '}',
    '',
    'PHP_FUNCTION(strlen)',
    '{',
    '  RETURN_LONG(1);',
    '}',
    '',
    'static int __init my_init(void)',
    '{',
    '  return 0;',
    '}',
    '',
    'static inline char *PTR_FN(dup)(const char *s) { return 0; }',
    '',
    'info_callback(png_structp png_ptr, png_infop info)',
    '{',
    '  use(png_ptr);',
    '}',
    '',
    'int last(void) { return 9; }',
  ].join('\n');

  it('extracts functions whose heads are macros the grammar cannot expand', async () => {
    const { functions, problems } = await extractFunctions(code, 'c');
    expect(problems).toEqual([]);
    expect(functions.map((f) => [f.name, f.startLine, f.endLine])).toEqual([
      ['SYSCALL_DEFINE3(read)', 1, 4],
      ['PHP_FUNCTION(strlen)', 6, 9],
      ['my_init', 11, 14],
      ['PTR_FN(dup)', 16, 16],
      ['info_callback', 18, 21],
      ['last', 23, 23],
    ]);
    expect(byName(functions).get('my_init')!.code.startsWith('static int __init my_init(void)')).toBe(true);
  });

  it('names test macros and attribute macros in C++', async () => {
    const cpp = ['TEST(ParserTest, HandlesEmpty) {', '  EXPECT_EQ(1, 1);', '}', 'Q_INVOKABLE void Widget::refresh() { update(); }'].join('\n');
    const { functions } = await extractFunctions(cpp, 'cpp');
    expect(functions.map((f) => f.name)).toEqual(['TEST(ParserTest, HandlesEmpty)', 'Widget::refresh']);
  });
});

describe('extractFunctions: preprocessor conditionals', () => {
  it('extracts both versions of a function defined under #ifdef / #else', async () => {
    const code = ['#ifdef _WIN32', 'int sock(void) { return 1; }', '#else', 'int sock(void) { return 2; }', '#endif', 'int after(void) { return 3; }'].join('\n');
    const { functions, problems } = await extractFunctions(code, 'c');
    expect(problems).toEqual([]);
    expect(functions.map((f) => [f.name, f.startLine])).toEqual([
      ['sock', 2],
      ['sock', 4],
      ['after', 6],
    ]);
  });

  it('extracts a function whose #ifdef branches each open a brace, whole, and what follows it', async () => {
    const code = [
      'void g(int a, int b)',
      '{',
      '#ifdef X',
      '  if (a) {',
      '#else',
      '  if (b) {',
      '#endif',
      '    c();',
      '  }',
      '}',
      '',
      'int h(void) { return 2; }',
    ].join('\n');
    const { functions, problems } = await extractFunctions(code, 'c');
    expect(problems).toEqual([]);
    const g = byName(functions).get('g')!;
    expect([g.startLine, g.endLine]).toEqual([1, 10]);
    expect(g.code).toContain('if (b) {'); // the original text, both branches
    expect(byName(functions).get('h')!.startLine).toBe(12);
  });

  it('blanks #else branches without moving offsets', () => {
    const code = '#if A\nint x;\n#else\nint y;\n#endif\nint z;';
    const masked = maskConditionalBranches(code);
    expect(masked.length).toBe(code.length);
    expect(masked.split('\n').map((l) => l.trim())).toEqual(['', 'int x;', '', '', '', 'int z;']);
  });
});

describe('extractFunctions: syntax errors', () => {
  it('extracts what parses and reports the lines it could not use', async () => {
    const code = [
      'int good_one(void) { return 1; }',
      '',
      'int broken( { x = ; }',
      '',
      'int good_two(int v)',
      '{',
      '  return v * 2;',
      '}',
    ].join('\n');
    const { functions, problems } = await extractFunctions(code, 'c');
    expect(functions.map((f) => f.name)).toEqual(['good_one', 'good_two']);
    expect(byName(functions).get('good_two')!.startLine).toBe(lineOf(code, 'good_two'));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startLine).toBe(3);
    expect(problems[0]!.endLine).toBe(3);
    expect(problems[0]!.message).toMatch(/line 3.*int broken\(/);
  });

  it('keeps a function with an error inside its body, flagged', async () => {
    const code = 'int f(int a)\n{\n  int x = a +* ;\n  return x;\n}\nint g(void) { return 0; }\n';
    const { functions } = await extractFunctions(code, 'c');
    const f = byName(functions).get('f')!;
    expect(f.hasErrors).toBe(true);
    expect([f.startLine, f.endLine]).toEqual([1, 5]);
    expect(byName(functions).get('g')!.hasErrors).toBe(false);
  });

  it('returns nothing for code without functions, and survives empty input', async () => {
    expect(await extractFunctions('', 'c')).toEqual({ functions: [], problems: [] });
    expect((await extractFunctions('int x = 3;\nstruct s { int a; };\n', 'cpp')).functions).toEqual([]);
  });
});
