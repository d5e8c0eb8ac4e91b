// Query/Retrieve C-FIND as SCP (PS3.4 C.4.1), answered from the local index: one Pending
// response per match carrying the requested keys (plus Specific Character Set, Query/
// Retrieve Level and Retrieve AE Title), then Success; Cancel (FE00) after a C-CANCEL;
// A900 / C000 for identifiers that do not fit.
import type { Element } from '../dicom/dataset/dataset-writer';
import { CommandField } from '../dicom/dimse/command-field';
import { Status } from '../dicom/dimse/status';
import { Tag } from '../dicom/registry/tags';
import { log } from '../log';
import type { Archive } from '../../storage/archive';
import { modelOf } from './qr/attributes';
import { interpretIdentifier, QueryError, type Query } from './qr/identifier';
import { encodeIdentifier, encodingOf, readIdentifier } from './qr/qr-common';
import { respond, type ServiceHandler } from './service';

/** The most matches one C-FIND returns; wider queries get A700. */
const MAX_MATCHES = 20_000;

export function cFindScp(
  archive: Pick<Archive, 'find'>,
  retrieveAeTitle: () => string,
): ServiceHandler {
  return async (message, ctx) => {
    const sopClass = message.context.abstractSyntax;
    const messageId = message.command.messageId ?? 0;
    const answer = (
      status: number,
      extra: { errorComment?: string } = {},
      identifier?: Buffer,
    ): Promise<void> =>
      respond(
        ctx,
        message,
        { commandField: CommandField.CFindRsp, affectedSopClassUid: sopClass, status, ...extra },
        identifier,
      );
    const started = Date.now();
    let query: Query;
    let enc;
    try {
      enc = encodingOf(message.context);
      query = interpretIdentifier(
        await readIdentifier(message.dataset, enc),
        modelOf(sopClass)!,
        'find',
      );
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      log.warn('C-FIND refused', {
        peer: ctx.association.peerLabel,
        status: err.status.toString(16),
        reason: err.message,
      });
      await answer(err.status, { errorComment: err.message });
      return;
    }
    const columns = [...new Set(query.returnKeys.flatMap((k) => (k.column ? [k.column] : [])))];
    const rows = await archive.find({
      level: query.level,
      conditions: query.conditions,
      select: columns,
      limit: MAX_MATCHES + 1,
    });
    if (rows.length > MAX_MATCHES) {
      // Memory must not grow with the cache: a query this wide is refused (A700, PS3.4 C.4.1.1.4).
      const reason = `more than ${MAX_MATCHES} matches: narrow the query`;
      log.warn('C-FIND refused', { peer: ctx.association.peerLabel, reason });
      await answer(Status.OutOfResources, { errorComment: reason });
      return;
    }
    // FF01: matches continue, but some optional keys were not supported (PS3.4 C.4.1.1.4).
    const pending = query.returnKeys.some((k) => !k.column)
      ? Status.PendingWarning
      : Status.Pending;
    let sent = 0;
    for (const row of rows) {
      if (ctx.isCancelled(messageId)) {
        await answer(Status.Cancel);
        log.info('C-FIND cancelled', { peer: ctx.association.peerLabel, sent });
        return;
      }
      await answer(
        pending,
        {},
        encodeIdentifier(responseElements(query, row, retrieveAeTitle()), enc),
      );
      sent++;
    }
    await answer(ctx.isCancelled(messageId) ? Status.Cancel : Status.Success);
    log.info('C-FIND', {
      peer: ctx.association.peerLabel,
      level: query.level,
      matches: sent,
      ms: Date.now() - started,
    });
  };
}

/** The identifier of one match: the requested keys, valued from the index row. */
function responseElements(
  query: Query,
  row: Record<string, string | number | null>,
  retrieveAeTitle: string,
): Element[] {
  const elements: Element[] = [];
  let nonAscii = false;
  for (const key of query.returnKeys) {
    if (key.vr === 'SQ') {
      elements.push({ tag: key.tag, vr: 'SQ', value: [] });
      continue;
    }
    const raw = key.column ? row[key.column] : null;
    const value = raw === null || raw === undefined ? '' : String(raw);
    if (!isAscii(value)) nonAscii = true;
    elements.push({ tag: key.tag, vr: key.vr, value });
  }
  elements.push({ tag: Tag.QueryRetrieveLevel, vr: 'CS', value: query.level });
  elements.push({ tag: Tag.RetrieveAeTitle, vr: 'AE', value: retrieveAeTitle });
  // The index holds text decoded to Unicode; non-ASCII values go out as UTF-8.
  if (nonAscii) elements.push({ tag: Tag.SpecificCharacterSet, vr: 'CS', value: 'ISO_IR 192' });
  return elements;
}

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}
