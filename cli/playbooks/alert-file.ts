import { z } from 'zod';
import { alertSchema, type Alert } from '../../domain/alert';
import { parseAlertmanagerBody } from '../../domain/parsers/alertmanager';
import { parseFalcoBody } from '../../domain/parsers/falco';
import { parseGenericBody } from '../../domain/parsers/generic';
import { decodeDocument } from '../../domain/parsers/json';

/**
 * Reads the alert file of `firebreak playbooks test`: a body as a sender posts it (Falco or Falcosidekick,
 * Alertmanager webhook, Firebreak's generic alert), or an already normalised alert, each through the same
 * parser the intake uses.
 */

export const alertFileFormats = ['falco', 'alertmanager', 'generic', 'alert'] as const;
export const alertFileFormatSchema = z.enum(alertFileFormats);
export type AlertFileFormat = z.infer<typeof alertFileFormatSchema>;

export interface AlertFile {
  format: AlertFileFormat;
  alerts: Alert[];
}

/** Parses the text of an alert file; without a format, detects it from the body's shape. */
export function readAlertText(text: string, format?: AlertFileFormat): AlertFile {
  const detected = format ?? detectFormat(text);
  return { format: detected, alerts: parseAs(detected, text) };
}

function parseAs(format: AlertFileFormat, text: string): Alert[] {
  const bodyFormat = isJsonLines(text) ? 'ndjson' : 'json';
  switch (format) {
    case 'falco':
      return parseFalcoBody(text, bodyFormat);
    case 'alertmanager':
      return parseAlertmanagerBody(text);
    case 'generic':
      return parseGenericBody(text, bodyFormat);
    case 'alert': {
      const document = decodeDocument(text);
      return z.array(alertSchema).parse(Array.isArray(document) ? document : [document]);
    }
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

function detectFormat(text: string): AlertFileFormat {
  const firstLine = text.split('\n').find((line) => line.trim().length > 0) ?? '';
  const document = isJsonLines(text) ? decodeDocument(firstLine) : decodeDocument(text);
  const sample = Array.isArray(document) ? document[0] : document;
  const shape = shapeSchema.safeParse(sample);
  if (!shape.success) {
    throw new Error('cannot tell the alert format: expected a JSON object; pass --format');
  }

  const body = shape.data;
  if (body.alerts !== undefined && body.groupKey !== undefined) return 'alertmanager';
  if (body.detector !== undefined) return 'generic';
  if (body.eventTime !== undefined && body.hostScoped !== undefined) return 'alert';
  if (body.rule !== undefined && body.time !== undefined) return 'falco';
  throw new Error(`cannot tell the alert format; pass --format with one of ${alertFileFormats.join(', ')}`);
}
