import { decodeEvents, parseJsonExact, stringifyExact, toPlainJson } from '../../../domain/parsers/json';
import {
  AlertBodyError,
  dropUnknownFields,
  extractMitre,
  flattenListFields,
  normalisePriority,
} from '../../../domain/parsers/common';

describe('exact JSON', () => {
  test('parseJsonExact keeps integers above 2^53', () => {
    const value = toPlainJson(
      parseJsonExact('{"a":1733312061123456789,"b":1733312061123456790,"c":42,"d":-9007199254740993}'),
    );

    expect(value).toEqual({ a: '1733312061123456789', b: '1733312061123456790', c: 42, d: '-9007199254740993' });
  });

  test('stringifyExact writes the original digits', () => {
    const text = '[{"evt.time":1733312061123456789,"x":1.5}]';

    expect(stringifyExact(parseJsonExact(text))).toBe(text);
  });

  test('decodeEvents splits arrays with paths', () => {
    const events = decodeEvents('[{"a":1},{"a":2}]', 'json');

    expect(events.map((event) => event.path)).toEqual([[0], [1]]);
    expect(events.map((event) => event.rawEvent)).toEqual(['{"a":1}', '{"a":2}']);
  });

  test('decodeEvents names the bad NDJSON line', () => {
    const decode = () => decodeEvents('{"a":1}\n\n{"a":\n', 'ndjson');

    expect(decode).toThrow(AlertBodyError);
    expect(decode).toThrow(/line 3 is not valid JSON/);
  });
});

describe('field helpers', () => {
  test('unknown values are dropped', () => {
    expect(dropUnknownFields({ a: null, b: '<NA>', c: '', d: 'N/A', e: 0, f: 'x', g: false })).toEqual({
      e: 0,
      f: 'x',
      g: false,
    });
  });

  test('normalisePriority accepts any letter case', () => {
    expect(normalisePriority('cRiTiCaL')).toBe('Critical');
    expect(normalisePriority('WARN')).toBe('Warning');
    expect(normalisePriority('info')).toBe('Informational');
    expect(normalisePriority('Urgent')).toBeUndefined();
    expect(normalisePriority('')).toBeUndefined();
  });

  test('extractMitre finds techniques and tactics', () => {
    const mitre = extractMitre(['T1059', 'T1059.004', 'TA0002', 'mitre_execution', 'mitre_', 'container', 't1059']);

    expect(mitre).toEqual({ techniques: ['T1059', 'T1059.004'], tactics: ['TA0002', 'execution'] });
  });
});

describe('nesting depth', () => {
  test('body deeper than 64 levels is rejected', () => {
    const deep = `${'['.repeat(65)}${']'.repeat(65)}`;

    expect(() => decodeEvents(deep, 'json')).toThrow(/body nests arrays and objects deeper than 64 levels/);
  });

  test('64 levels and brackets inside strings are accepted', () => {
    const atLimit = `${'['.repeat(63)}{"a":"${'['.repeat(100)}"}${']'.repeat(63)}`;

    expect(() => decodeEvents(atLimit, 'json')).not.toThrow();
  });

  test('deep NDJSON line is named', () => {
    const text = `{"a":1}\n${'{"a":'.repeat(100)}1${'}'.repeat(100)}\n`;

    expect(() => decodeEvents(text, 'ndjson')).toThrow(/line 2 nests arrays and objects deeper than 64/);
  });
});

describe('list fields', () => {
  test('flattenListFields writes lists as JSON text', () => {
    expect(flattenListFields({ a: ['x', 1], b: [], c: 'plain', d: null })).toEqual({
      a: '["x",1]',
      b: null,
      c: 'plain',
      d: null,
    });
  });
});
