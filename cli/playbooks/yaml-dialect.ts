import { isAlias, isMap, isNode, isScalar, isSeq, visit, type Document } from 'yaml';

/**
 * Keeps playbook files in one YAML dialect, YAML 1.2 with the core schema, whatever the file declares. A
 * `%YAML 1.1` directive would turn on merge keys and read `yes` as true and `010` as 8, so directives are
 * rejected, and so are `<<` merge keys and keys that are not plain text.
 */

export interface YamlDialectProblem {
  /** Character offset in the file text where the problem is written. */
  offset: number;
  message: string;
}

/** Returns every construct of the document that playbook files do not allow. */
export function yamlDialectProblems(document: Document, text: string): YamlDialectProblem[] {
  const problems: YamlDialectProblem[] = [];
  const tagHandles = Object.keys(document.directives?.tags ?? {}).filter((handle) => handle !== '!!');
  if (document.directives?.yaml.explicit === true || tagHandles.length > 0) {
    const offset = /^%/m.exec(text)?.index ?? 0;
    const message =
      'YAML directives (%YAML, %TAG) are not supported: playbooks are always read as YAML 1.2 with the core ' +
      'schema; remove the directive';
    problems.push({ offset, message });
  }

  visit(document, {
    Pair(_key, pair) {
      const key = pair.key;
      const offset = (isNode(key) ? key.range?.[0] : undefined) ?? 0;
      if (isScalar(key) && key.type === 'PLAIN' && key.value === '<<') {
        const message = 'YAML merge keys (<<) are not supported; write the fields out in full';
        problems.push({ offset, message });
      } else if (isMap(key) || isSeq(key) || isAlias(key)) {
        const kind = isMap(key) ? 'a map' : isSeq(key) ? 'a list' : 'an alias';
        problems.push({ offset, message: `a key must be plain text, but this key is ${kind}` });
      }
    },
  });
  return problems;
}
