import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

/** Maps field paths of a parsed YAML document back to the line and column where they are written. */

export interface SourcePosition {
  line: number;
  column: number;
  /** False when the path is absent from the file and the position is that of its nearest parent. */
  found: boolean;
}

export class YamlLocator {
  constructor(
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Returns where the value at `path` is written, or its nearest written parent. */
  locate(path: readonly PropertyKey[]): SourcePosition {
    return this.walk(path, false);
  }

  /** Returns where the key at `path` is written, for errors about the key itself (unknown fields). */
  locateKey(path: readonly PropertyKey[]): SourcePosition {
    return this.walk(path, true);
  }

  private walk(path: readonly PropertyKey[], pointAtKey: boolean): SourcePosition {
    let node: unknown = this.document.contents;
    let offset = nodeStart(node) ?? 0;

    for (const [index, segment] of path.entries()) {
      const isLast = index === path.length - 1;
      if (isAlias(node)) {
        node = node.resolve(this.document);
      }

      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (pair === undefined) {
          return this.position(offset, false);
        }
        const keyStart = nodeStart(pair.key);
        const valueStart = nodeStart(pair.value);
        node = pair.value;
        offset = (isLast && pointAtKey ? keyStart : (valueStart ?? keyStart)) ?? offset;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        node = node.items[segment];
        offset = nodeStart(node) ?? offset;
      } else {
        return this.position(offset, false);
      }
    }
    return this.position(offset, true);
  }

  /** Converts a character offset to a 1-based line and column. */
  position(offset: number, found: boolean): SourcePosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col, found };
  }
}

function nodeStart(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}
