// The Modality Worklist C-FIND as SCP (PS3.4 K.4.1.3, K.6.1.2), answered from the copy:
// one Pending response per matching item (FF00, or FF01 when a key was not supported),
// then Success; Cancel (FE00) after a C-CANCEL. The copy is read a page at a time in
// schedule order, so a query's memory is one page whatever the copy holds. A copy older
// than worklist.maxAgeSeconds (or none yet) is not served: the answer is C001, "unable to
// process", with the reason in the Error Comment (docs/worklist.md: why not an empty list).
import { parseDataset } from '../dicom/dataset/dataset-parser';
import { CommandField } from '../dicom/dimse/command-field';
import { Status } from '../dicom/dimse/status';
import { log } from '../log';
import { QueryError } from '../services/qr/identifier';
import { encodeIdentifier, encodingOf, readIdentifier } from '../services/qr/qr-common';
import { respond, type ServiceHandler } from '../services/service';
import type { StoredWorklistItem } from '../../storage/worklist';
import { matches } from './mwl-matching';
import { interpretMwlIdentifier, type MwlQuery } from './mwl-query';
import { mwlResponse } from './mwl-response';
import type { Worklist } from './worklist';

const EXPLICIT_LE = { explicitVr: true, littleEndian: true };
/** Items of the copy read at once. */
const PAGE = 200;

export function mwlFindScp(worklist: Pick<Worklist, 'serving' | 'store'>): ServiceHandler {
  return async (message, ctx) => {
    const messageId = message.command.messageId ?? 0;
    const answer = (status: number, errorComment?: string, identifier?: Buffer): Promise<void> =>
      respond(
        ctx,
        message,
        {
          commandField: CommandField.CFindRsp,
          affectedSopClassUid: message.context.abstractSyntax,
          status,
          ...(errorComment ? { errorComment } : {}),
        },
        identifier,
      );
    const peer = ctx.association.peerLabel;
    const started = Date.now();
    let query: MwlQuery;
    let enc;
    try {
      enc = encodingOf(message.context);
      query = interpretMwlIdentifier(await readIdentifier(message.dataset, enc));
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      log.warn('MWL C-FIND refused', {
        peer,
        status: err.status.toString(16),
        reason: err.message,
      });
      await answer(err.status, err.message);
      return;
    }
    const serving = await worklist.serving();
    if (!serving.serve) {
      log.warn('MWL C-FIND refused', { peer, status: 'c001', reason: serving.reason });
      await answer(Status.UnableToProcess, serving.reason);
      return;
    }
    const pending = query.partly ? Status.PendingWarning : Status.Pending;
    let sent = 0;
    for await (const item of matchingItems(worklist.store, query)) {
      if (ctx.isCancelled(messageId)) break;
      const stored = parseDataset(item.dataset, EXPLICIT_LE);
      await answer(pending, undefined, encodeIdentifier(mwlResponse(query.keys, stored), enc));
      sent++;
    }
    const cancelled = ctx.isCancelled(messageId);
    await answer(cancelled ? Status.Cancel : Status.Success);
    log.info('MWL C-FIND', {
      peer,
      matches: sent,
      copy: serving.state,
      ...(cancelled ? { cancelled } : {}),
      ms: Date.now() - started,
    });
  };
}

/** The items of the copy the query matches, in schedule order, a page at a time. */
async function* matchingItems(
  store: Pick<Worklist, 'store'>['store'],
  query: MwlQuery,
): AsyncGenerator<StoredWorklistItem> {
  let page = await store.page(null, PAGE, query.dates);
  while (page.length > 0) {
    for (const item of page) if (matches(query.conditions, item.values)) yield item;
    if (page.length < PAGE) return;
    const last = page[page.length - 1]!;
    page = await store.page(
      { date: last.values.spsStartDate, time: last.values.spsStartTime, pk: last.pk },
      PAGE,
      query.dates,
    );
  }
}
