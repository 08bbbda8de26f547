import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Alert } from '../../domain/alert';

/** Size limits of one alert as it travels to Temporal. */
export interface AlertSizeLimits {
  /** `rawEvent` above this many UTF-8 bytes is cut, and the full text is archived. */
  maxRawEventBytes: number;
  /** JSON size of an alert above which its long text values are cut as well. */
  maxAlertBytes: number;
}

/** Maximum UTF-8 bytes kept of each long value (output, process, user, fields) of an alert above `maxAlertBytes`. */
export const cutValueBytes = 4096;

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Cuts text to at most `maxBytes` UTF-8 bytes, on a character boundary. */
export function cutToBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) {
    return text;
  }
  let end = maxBytes;
  // A byte of the form 10xxxxxx continues a character, so the cut moves back to the character's first byte.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) {
    end--;
  }
  return bytes.subarray(0, end).toString('utf8');
}

function cutText(value: string | undefined, path: string, cut: string[]): string | undefined {
  if (value === undefined || Buffer.byteLength(value, 'utf8') <= cutValueBytes) {
    return value;
  }
  cut.push(path);
  return cutToBytes(value, cutValueBytes);
}

/** Cuts output, user, process and field texts longer than `cutValueBytes`, recording each path in `cut`. */
function cutLongValues(alert: Alert, cut: string[]): Alert {
  const fields: Alert['fields'] = {};
  for (const [name, value] of Object.entries(alert.fields)) {
    fields[name] = typeof value === 'string' ? (cutText(value, `fields.${name}`, cut) ?? '') : value;
  }
  const { name, cmdline, exePath, parentName } = alert.process;
  return {
    ...alert,
    output: cutText(alert.output, 'output', cut),
    user: cutText(alert.user, 'user', cut),
    process: {
      name: cutText(name, 'process.name', cut),
      cmdline: cutText(cmdline, 'process.cmdline', cut),
      exePath: cutText(exePath, 'process.exePath', cut),
      parentName: cutText(parentName, 'process.parentName', cut),
    },
    fields,
  };
}

/** Keeps the fields that fit in `maxAlertBytes`, in their order; the archived event still has all of them. */
function dropFieldsBeyond(alert: Alert, maxAlertBytes: number, cut: string[]): Alert {
  const kept: Alert['fields'] = {};
  let budget = maxAlertBytes - jsonBytes({ ...alert, fields: {} });
  for (const [name, value] of Object.entries(alert.fields)) {
    const entryBytes = jsonBytes({ [name]: value });
    if (entryBytes > budget) {
      cut.push('fields');
      break;
    }
    kept[name] = value;
    budget -= entryBytes;
  }
  return { ...alert, fields: kept };
}

/** An alert within the size limits, and the full event text to archive when the alert was cut. */
export interface CompactedAlert {
  alert: Alert;
  archive?: { sha256: string; text: string };
}

/**
 * Keeps an alert within the size limits. Within them the alert is returned as it is. Otherwise `rawEvent`
 * keeps its first `maxRawEventBytes` bytes, long values are cut when the alert is still too large, and
 * `truncated` records the full event's SHA-256, its size and the cut paths.
 */
export function compactAlert(alert: Alert, limits: AlertSizeLimits): CompactedAlert {
  const fullText = alert.rawEvent ?? JSON.stringify(alert);
  const rawBytes = Buffer.byteLength(fullText, 'utf8');
  if (rawBytes <= limits.maxRawEventBytes && jsonBytes(alert) <= limits.maxAlertBytes) {
    return { alert };
  }

  const cut: string[] = [];
  let compact: Alert = { ...alert };
  if (alert.rawEvent !== undefined && rawBytes > limits.maxRawEventBytes) {
    compact.rawEvent = cutToBytes(alert.rawEvent, limits.maxRawEventBytes);
    cut.push('rawEvent');
  }
  if (jsonBytes(compact) > limits.maxAlertBytes) {
    compact = cutLongValues(compact, cut);
  }
  if (jsonBytes(compact) > limits.maxAlertBytes) {
    compact = dropFieldsBeyond(compact, limits.maxAlertBytes, cut);
  }

  const sha256 = createHash('sha256').update(fullText, 'utf8').digest('hex');
  return { alert: { ...compact, truncated: { sha256, bytes: rawBytes, cut } }, archive: { sha256, text: fullText } };
}

/**
 * Local archive of full event texts that were too large to send to Temporal whole, one file per text named
 * `<sha256>.json` (mode 0600). A file is written before its alert is submitted, so an accepted alert never
 * loses its event text. NOTE: the directory is not pruned; an operator or a log shipper must clear it.
 */
export class AlertArchive {
  constructor(
    readonly dir: string,
    private readonly limits: AlertSizeLimits,
  ) {}

  /** Compacts each alert and archives the full text of every cut one; raises when an archive write fails. */
  async compact(alerts: Alert[]): Promise<Alert[]> {
    const compacted = alerts.map((alert) => compactAlert(alert, this.limits));
    for (const { archive } of compacted) {
      if (archive !== undefined) {
        await this.write(archive.sha256, archive.text);
      }
    }
    return compacted.map((entry) => entry.alert);
  }

  /** Path of the archived text with this SHA-256. */
  pathOf(sha256: string): string {
    return join(this.dir, `${sha256}.json`);
  }

  private async write(sha256: string, text: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    try {
      await writeFile(this.pathOf(sha256), text, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // A file named by the same SHA-256 already contains the same text.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
  }
}
