import { InvalidDurationError, formatDurationMs, isValidDuration, parseDurationMs } from '../../domain/duration';

describe('parseDurationMs', () => {
  test.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['0s', 0],
  ])('parses %s', (text, expectedMs) => {
    expect(parseDurationMs(text)).toBe(expectedMs);
  });

  test.each(['', '5', '-5m', '1.5h', '5 m', ' 5m', '5min', 'm5', '5M', '1w'])('rejects %j', (text) => {
    expect(() => parseDurationMs(text)).toThrow(InvalidDurationError);
  });

  test('error names the value and the expected form', () => {
    expect(() => parseDurationMs('5 minutes')).toThrow(
      'invalid duration "5 minutes": expected whole numbers with a unit (ms, s, m, h, d)',
    );
  });

  test('rejects a total beyond the safe integer range', () => {
    expect(() => parseDurationMs('99999999999999999d')).toThrow(InvalidDurationError);
  });
});

describe('isValidDuration', () => {
  test('matches parseDurationMs', () => {
    expect(isValidDuration('15m')).toBe(true);
    expect(isValidDuration('15 m')).toBe(false);
  });
});

describe('formatDurationMs', () => {
  test.each([
    [0, '0s'],
    [500, '500ms'],
    [5_400_000, '1h30m'],
    [30 * 86_400_000, '30d'],
    [90_061_001, '1d1h1m1s1ms'],
  ])('formats %d as %s', (durationMs, expected) => {
    expect(formatDurationMs(durationMs)).toBe(expected);
  });

  test('round-trips through parseDurationMs', () => {
    expect(parseDurationMs(formatDurationMs(93_784_005))).toBe(93_784_005);
  });

  test('rejects negative and fractional values', () => {
    expect(() => formatDurationMs(-1)).toThrow(RangeError);
    expect(() => formatDurationMs(1.5)).toThrow(RangeError);
  });
});
