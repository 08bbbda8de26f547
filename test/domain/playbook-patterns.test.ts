import { acceptsEveryText, matcherAccepts, maxMatchedTextLength, regexProblem } from '../../domain/playbook-patterns';

/** Patterns that a backtracking engine runs in exponential or high polynomial time on a crafted text. */
const hostilePatterns = ['((a+))+$', '(?:(?:a+))+$', '(a|a)+$', '(a|aa)+$', '^.*.*.*.*.*.*.*.*=$', '(a+)+$'];

describe('regexProblem', () => {
  test.each(hostilePatterns)('accepts %s, which RE2 runs in linear time', (regex) => {
    expect(regexProblem(regex)).toBeUndefined();
  });

  test.each([
    ['(a)\\1', 'invalid escape sequence'],
    ['(?=a)', 'invalid or unsupported Perl syntax'],
    ['(?!a)', 'invalid or unsupported Perl syntax'],
    ['(?<=a)b', 'invalid named capture'],
  ])('rejects %s, which RE2 cannot compile', (regex, reason) => {
    const problem = regexProblem(regex);

    expect(problem).toContain(`invalid regex ${JSON.stringify(regex)}: `);
    expect(problem).toContain(reason);
    expect(problem).toContain('no backreferences (\\1) and no lookahead or lookbehind');
  });
});

describe('matcherAccepts', () => {
  test.each(hostilePatterns)('%s matches a crafted text within a second', (regex) => {
    const text = `${'a'.repeat(maxMatchedTextLength - 1)}!`;

    const startedMs = performance.now();
    const accepted = matcherAccepts({ regex }, text);
    expect(performance.now() - startedMs).toBeLessThan(1000);
    expect(accepted).toBe(false);
  });

  test('tests only the first 4,096 characters', () => {
    const text = `${'a'.repeat(maxMatchedTextLength)}needle`;

    expect(matcherAccepts({ regex: 'needle' }, text)).toBe(false);
    expect(matcherAccepts({ regex: 'a$' }, text)).toBe(true);
  });

  test('flags m and s change line handling', () => {
    expect(matcherAccepts({ regex: '^b' }, 'a\nb')).toBe(false);
    expect(matcherAccepts({ regex: '^b', flags: 'm' }, 'a\nb')).toBe(true);
    expect(matcherAccepts({ regex: 'a.b' }, 'a\nb')).toBe(false);
    expect(matcherAccepts({ regex: 'a.b', flags: 's' }, 'a\nb')).toBe(true);
  });
});

describe('acceptsEveryText', () => {
  test.each(['', '.*', '(?s).*', '^.*$', '[\\s\\S]*', '(?:)', '^', '.', '(?i)|x'])(
    'regex %j accepts every text',
    (regex) => {
      expect(acceptsEveryText({ regex })).toBe(true);
    },
  );

  test.each(['^trivy', 'shell', '^.{0,10}$', '[a-z]', '^[^a]*$'])('regex %j narrows', (regex) => {
    expect(acceptsEveryText({ regex })).toBe(false);
  });

  test('an exact value narrows', () => {
    expect(acceptsEveryText('')).toBe(false);
    expect(acceptsEveryText('Terminal shell in container')).toBe(false);
  });
});
