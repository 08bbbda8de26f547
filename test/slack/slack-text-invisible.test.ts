import { codeBlock, escapeMrkdwn, inlineCode } from '../../activities/notify/slack-text';

const invisible = {
  LRM: '\u200E',
  RLM: '\u200F',
  ALM: '\u061C',
  'zero-width space': '\u200B',
  'zero-width non-joiner': '\u200C',
  'zero-width joiner': '\u200D',
  'word joiner': '\u2060',
  BOM: '\uFEFF',
};

describe('invisible characters in Slack text', () => {
  test.each(Object.entries(invisible))('escapeMrkdwn shows %s as U+FFFD', (_name, character) => {
    expect(escapeMrkdwn(`invoice${character}fdp.exe`, 100)).toBe('invoice\uFFFDfdp.exe');
  });

  test.each(Object.entries(invisible))('inlineCode and codeBlock show %s as U+FFFD', (_name, character) => {
    expect(inlineCode(`rm${character} -rf`, 100)).toBe('`rm\uFFFD -rf`');
    expect(codeBlock(`line${character}\nnext`, 100)).toBe('```line\uFFFD\nnext```');
  });

  test('keeps the joiners inside an emoji sequence', () => {
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
    expect(escapeMrkdwn(`team ${family}`, 100)).toBe(`team ${family}`);
  });
});
