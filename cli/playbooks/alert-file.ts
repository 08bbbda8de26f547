import { open } from 'node:fs/promises';
import { z } from 'zod';
import { alertSchema, type Alert } from '../../domain/alert';
import { parseAlertmanagerBody } from '../../domain/parsers/alertmanager';
import { AlertBodyError, parseOrThrow } from '../../domain/parsers/common';
import { falcoEventSchema, normaliseFalcoEvent } from '../../domain/parsers/falco';
import { genericAlertSchema, normaliseGenericAlert } from '../../domain/parsers/generic';
import { decodeEvents, type DecodedEvent } from '../../domain/parsers/json';

/**
 * Reads the alert file of `firebreak playbooks test`: bodies as a sender posts them (Falco or Falcosidekick,
 * Alertmanager webhook, Firebreak's generic alert), or already normalised alerts, each through the same
 * parser the intake uses. A file may mix formats: each element of a JSON array or line of NDJSON is
 * detected on its own.
 */

export const alertFileFormats = ['falco', 'alertmanager', 'generic', 'alert'] as const;
export const alertFileFormatSchema = z.enum(alertFileFormats);
export type AlertFileFormat = z.infer<typeof alertFileFormatSchema>;

/** Larger alert files are rejected before parsing: 10 MiB. */
export const maxAlertFileBytes = 10 * 1024 * 1024;

export interface AlertFile {
  /** The format of every element, or `mixed` when the elements differ. */
  format: AlertFileFormat | 'mixed';
  alerts: Alert[];
}

/** Reads at most `maxAlertFileBytes` of an alert file and parses it; a larger file is an error. */
export async function readAlertFile(file: string, format?: AlertFileFormat): Promise<AlertFile> {
  const handle = await open(file, 'r');
  const buffer = Buffer.alloc(maxAlertFileBytes + 1);
  let length = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      length += bytesRead;
      if (bytesRead === 0 || length === buffer.length) break;
    }
  } finally {
    await handle.close();
  }
  if (length > maxAlertFileBytes) {
    throw new Error(`the file is larger than the maximum of ${maxAlertFileBytes} bytes (10 MiB); split it up`);
  }
  return readAlertText(buffer.subarray(0, length).toString('utf8'), format);
}

/** Parses the text of an alert file; without a format, detects the format of each element from its shape. */
export function readAlertText(text: string, format?: AlertFileFormat): AlertFile {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const events = decodeEvents(body, isJsonLines(body) ? 'ndjson' : 'json');
  if (events.length === 0) {
    throw new AlertBodyError([{ path: [], message: 'the file contains no alert' }]);
  }

  const formats = new Set<AlertFileFormat>();
  const alerts: Alert[] = [];
  for (const event of events) {
    const eventFormat = format ?? detectFormat(event);
    formats.add(eventFormat);
    alerts.push(...parseEvent(event, eventFormat));
  }
  const [only] = formats;
  return { format: formats.size === 1 && only !== undefined ? only : 'mixed', alerts };
}

function parseEvent(event: DecodedEvent, format: AlertFileFormat): Alert[] {
  switch (format) {
    case 'falco':
      return [normaliseFalcoEvent(parseOrThrow(falcoEventSchema, event.value, event.path), event.rawEvent, event.path)];
    case 'generic': {
      const parsed = parseOrThrow(genericAlertSchema, event.value, event.path);
      return [normaliseGenericAlert(parsed, event.rawEvent, event.path)];
    }
    case 'alertmanager':
      return withPathPrefix(event.path, () => parseAlertmanagerBody(event.rawEvent));
    case 'alert':
      return [parseOrThrow(alertSchema, event.value, event.path)];
  }
}

/** Runs a parser of a whole body on one element, so its error paths start at that element. */
function withPathPrefix(prefix: (string | number)[], parse: () => Alert[]): Alert[] {
  try {
    return parse();
  } catch (error) {
    if (error instanceof AlertBodyError && prefix.length > 0) {
      throw new AlertBodyError(error.issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] })));
    }
    throw error;
  }
}

/** Returns true when the text contains several JSON objects, one a line, instead of one JSON document. */
function isJsonLines(text: string): boolean {
  const lines = text.split('\n').filter((line) => line.trim().length > 0);
  return lines.length > 1 && lines.every((line) => /^\s*\{.*\}\s*$/.test(line));
}

const shapeSchema = z.looseObject({
  alerts: z.array(z.unknown()).optional(),
  groupKey: z.string().optional(),
  detector: z.string().optional(),
  rule: z.string().optional(),
  output_fields: z.unknown().optional(),
  time: z.string().optional(),
  eventTime: z.string().optional(),
  hostScoped: z.boolean().optional(),
});

function detectFormat(event: DecodedEvent): AlertFileFormat {
  const shape = shapeSchema.safeParse(event.value);
  if (!shape.success) {
    const message = 'cannot tell the alert format: expected a JSON object; pass --format';
    throw new AlertBodyError([{ path: event.path, message }]);
  }

  const body = shape.data;
  if (body.alerts !== undefined && body.groupKey !== undefined) return 'alertmanager';
  if (body.detector !== undefined) return 'generic';
  if (body.eventTime !== undefined && body.hostScoped !== undefined) return 'alert';
  if (body.rule !== undefined && body.time !== undefined) return 'falco';
  const message = `cannot tell the alert format; pass --format with one of ${alertFileFormats.join(', ')}`;
  throw new AlertBodyError([{ path: event.path, message }]);
}
