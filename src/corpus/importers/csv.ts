/**
 * A streaming RFC 4180 CSV reader: quoted fields may hold commas, newlines and doubled quotes;
 * records end at LF or CRLF (a CR outside quotes is dropped). Memory holds one chunk and the
 * records it completes. A record that breaks the format (text after a closing quote, a quote left
 * open at the end) comes back with an error, and reading goes on with the next record.
 */

export interface CsvRecord {
  /** 1-based line on which the record starts. */
  line: number;
  fields: string[];
  /** Set when the record is malformed; fields hold what could be read. */
  error?: string;
}

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** Just read a '"' inside a quoted field: a doubled quote or the end of the field. */
  QuoteInQuoted,
  /** After a closing quote: only a separator or the end of the record may follow. */
  AfterQuoted,
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export async function* readCsv(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<CsvRecord> {
  let state = State.FieldStart;
  let field = '';
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let error: string | undefined;
  const ready: CsvRecord[] = [];

  const endField = (): void => {
    fields.push(field);
    field = '';
  };
  const endRecord = (): void => {
    endField();
    ready.push(error ? { line: recordLine, fields, error } : { line: recordLine, fields });
    fields = [];
    error = undefined;
    state = State.FieldStart;
  };

  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (state) {
        case State.FieldStart:
          if (fields.length === 0 && field === '') recordLine = line;
          if (c === QUOTE) {
            state = State.Quoted;
            i++;
            continue;
          }
          state = State.Unquoted;
          continue;
        case State.Unquoted: {
          let j = i;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === COMMA || d === LF) break;
            j++;
          }
          // A CR outside quotes is the first half of a CRLF: not part of the value.
          const part = text.slice(i, j);
          field += part.includes('\r') ? part.replace(/\r/g, '') : part;
          i = j;
          if (i >= n) continue;
          i++;
          if (text.charCodeAt(i - 1) === COMMA) {
            endField();
            state = State.FieldStart;
          } else {
            line++;
            endRecord();
          }
          continue;
        }
        case State.Quoted: {
          const q = text.indexOf('"', i);
          const end = q === -1 ? n : q;
          const part = text.slice(i, end);
          for (let k = part.indexOf('\n'); k !== -1; k = part.indexOf('\n', k + 1)) line++;
          field += part;
          i = end;
          if (q !== -1) {
            i++;
            state = State.QuoteInQuoted;
          }
          continue;
        }
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            field += '"';
            i++;
            state = State.Quoted;
          } else {
            state = State.AfterQuoted;
          }
          continue;
        case State.AfterQuoted:
          if (c === COMMA) {
            i++;
            endField();
            state = State.FieldStart;
          } else if (c === LF) {
            i++;
            line++;
            endRecord();
          } else if (c === CR) {
            i++;
          } else {
            error ??= `malformed CSV: unexpected ${JSON.stringify(text[i])} after a closing quote (line ${line})`;
            field += text[i];
            i++;
          }
          continue;
      }
    }
    while (ready.length > 0) yield ready.shift()!;
  }
  if (state === State.Quoted) {
    error = `malformed CSV: quoted field opened on line ${recordLine} is never closed`;
    endRecord();
  } else if (fields.length > 0 || field !== '' || state === State.AfterQuoted || state === State.QuoteInQuoted) {
    endRecord();
  }
  while (ready.length > 0) yield ready.shift()!;
}
