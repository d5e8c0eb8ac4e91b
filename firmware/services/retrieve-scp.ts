// Query/Retrieve C-MOVE (PS3.4 C.4.2) and C-GET (C.4.3) as SCP. Both match instances in
// the index by the identifier's unique keys and send them by C-STORE sub-operations:
// C-MOVE over a new association to the move destination (looked up in `nodes`, A801 when
// unknown), C-GET over the requester's own association (on the storage contexts it
// proposed, with the SCP role for itself). Pending responses carry the counts as each
// sub-operation ends; a C-CANCEL stops after the one in flight (FE00 with the counts);
// the final status is 0000, or B000 with the Failed SOP Instance UID List, or A702 when
// no sub-operation could be started.
import { isDimse, type Config } from '../config/config';
import type { EstablishedAssociation } from '../dicom/association';
import type { Element } from '../dicom/dataset/dataset-writer';
import { CommandField } from '../dicom/dimse/command-field';
import type { CommandSet } from '../dicom/dimse/command-set';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { Status, statusCategory } from '../dicom/dimse/status';
import { DatasetParseError } from '../dicom/errors';
import { log } from '../log';
import type { Cache } from '../../storage/cache';
import type { Index, RetrievableInstance } from '../../storage/index';
import { FAILED_SOP_INSTANCE_UID_LIST, modelOf } from './qr/attributes';
import { interpretIdentifier, QueryError } from './qr/identifier';
import { encodeIdentifier, encodingOf, readIdentifier } from './qr/qr-common';
import { respond, type ServiceContext, type ServiceHandler } from './service';
import { nodePeer, openAssociation } from './open-association';
import { proposeContexts, routeAmong, routeKey, sendInstance, type Route } from './store-sender';

export interface RetrieveDeps {
  readonly index: Index;
  readonly cache: Cache;
  readonly config: () => Config;
  /** Holds studies against eviction while they are sent; returns the release. */
  readonly hold?: (studyInstanceUids: readonly string[]) => () => void;
}

interface Counts {
  remaining: number;
  completed: number;
  failed: number;
  warning: number;
  readonly failedUids: string[];
}

/** Where the sub-operations go: a route per instance, and the requestor to send with. */
interface Target {
  readonly requestor: DimseRequestor;
  route(instance: RetrievableInstance): Route | null;
  readonly peer: string;
  close(): Promise<void>;
}

export function cMoveScp(deps: RetrieveDeps): ServiceHandler {
  return (message, ctx) => retrieve('move', deps, message, ctx);
}

export function cGetScp(deps: RetrieveDeps): ServiceHandler {
  return (message, ctx) => retrieve('get', deps, message, ctx);
}

async function retrieve(
  kind: 'move' | 'get',
  deps: RetrieveDeps,
  message: Parameters<ServiceHandler>[0],
  ctx: ServiceContext,
): Promise<void> {
  const sopClass = message.context.abstractSyntax;
  const messageId = message.command.messageId ?? 0;
  const commandField = kind === 'move' ? CommandField.CMoveRsp : CommandField.CGetRsp;
  const counts: Counts = { remaining: 0, completed: 0, failed: 0, warning: 0, failedUids: [] };
  const started = Date.now();
  const answer = (
    status: number,
    fields: Partial<CommandSet> = {},
    withRemaining = true,
  ): Promise<void> => {
    const final = statusCategory(status) !== 'pending';
    const identifier =
      final && counts.failedUids.length > 0
        ? encodeIdentifier(
            [
              {
                tag: FAILED_SOP_INSTANCE_UID_LIST,
                vr: 'UI',
                value: counts.failedUids.join('\\'),
              } as Element,
            ],
            encodingOf(message.context),
          )
        : undefined;
    return respond(
      ctx,
      message,
      {
        commandField,
        affectedSopClassUid: sopClass,
        status,
        ...(withRemaining ? { remainingSubOperations: counts.remaining } : {}),
        completedSubOperations: counts.completed,
        failedSubOperations: counts.failed,
        warningSubOperations: counts.warning,
        ...fields,
      },
      identifier,
    );
  };

  let instances: RetrievableInstance[];
  try {
    const elements = await readIdentifier(message.dataset, encodingOf(message.context));
    const query = interpretIdentifier(elements, modelOf(sopClass)!, 'retrieve');
    instances = await deps.index.instances.retrievable(query.conditions);
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    log.warn(`C-${kind.toUpperCase()} refused`, {
      peer: ctx.association.peerLabel,
      reason: err.message,
    });
    await respond(ctx, message, {
      commandField,
      affectedSopClassUid: sopClass,
      status: err.status,
      errorComment: err.message,
    });
    return;
  }

  // The matched studies are used now (eviction takes the least recently used first), and
  // are not evicted while their sub-operations run.
  const studies = [...new Set(instances.map((i) => i.studyInstanceUid))];
  const release = deps.hold?.(studies) ?? (() => undefined);
  try {
    await deps.index.evictions.touch(studies, new Date().toISOString());
    let target: Target;
    try {
      target =
        kind === 'move'
          ? await moveTarget(deps, message.command.moveDestination ?? '', instances)
          : getTarget(ctx);
    } catch (err) {
      const status =
        err instanceof UnknownDestinationError
          ? Status.MoveDestinationUnknown
          : Status.OutOfResourcesSubOperations;
      log.warn(`C-${kind.toUpperCase()} refused`, {
        peer: ctx.association.peerLabel,
        reason: (err as Error).message,
      });
      if (status === Status.OutOfResourcesSubOperations) {
        counts.failed = instances.length;
        counts.failedUids.push(...instances.map((i) => i.sopInstanceUid));
      }
      await answer(status, { errorComment: (err as Error).message }, false);
      return;
    }

    counts.remaining = instances.length;
    try {
      for (const [n, instance] of instances.entries()) {
        if (ctx.isCancelled(messageId)) break;
        const route = target.route(instance);
        let outcome: 'completed' | 'warning' | 'failed' = 'failed';
        if (route) {
          try {
            const { status } = await sendInstance(target.requestor, deps.cache, route, instance, {
              peer: target.peer,
              ...(kind === 'move'
                ? { moveOriginator: { aeTitle: ctx.info.callingAeTitle, messageId } }
                : {}),
            });
            const category = statusCategory(status);
            outcome =
              category === 'success' ? 'completed' : category === 'warning' ? 'warning' : 'failed';
          } catch (err) {
            log.warn('sub-operation failed', {
              peer: target.peer,
              sop: instance.sopInstanceUid,
              reason: (err as Error).message,
            });
            if (
              !(err instanceof DatasetParseError) &&
              target.requestor.association.state !== 'Sta6'
            ) {
              // The sub-association is gone: this one and the rest cannot be sent.
              const unsent = instances.slice(n);
              counts.remaining = 0;
              counts.failed += unsent.length;
              counts.failedUids.push(...unsent.map((i) => i.sopInstanceUid));
              break;
            }
          }
        }
        counts.remaining--;
        counts[outcome]++;
        if (outcome === 'failed') counts.failedUids.push(instance.sopInstanceUid);
        if (counts.remaining > 0) await answer(Status.Pending);
      }
    } finally {
      await target.close();
    }

    let status: number;
    if (ctx.isCancelled(messageId) && counts.remaining > 0) status = Status.Cancel;
    else if (counts.failed > 0 || counts.warning > 0)
      status = Status.SubOperationsCompleteWithFailures;
    else status = Status.Success;
    // Remaining sub-operations are reported in a final response only when cancelled (C.4.2.1.6).
    await answer(status, {}, status === Status.Cancel);
    log.info(`C-${kind.toUpperCase()}`, {
      peer: ctx.association.peerLabel,
      to: target.peer,
      completed: counts.completed,
      failed: counts.failed,
      warning: counts.warning,
      cancelled: status === Status.Cancel ? counts.remaining : undefined,
      ms: Date.now() - started,
    });
  } finally {
    release();
  }
}

class UnknownDestinationError extends Error {
  override name = 'UnknownDestinationError';
}

async function moveTarget(
  deps: RetrieveDeps,
  destinationAe: string,
  instances: RetrievableInstance[],
): Promise<Target> {
  const config = deps.config();
  // The Move Destination is an AE title (PS3.4 C.4.2.1.4.1); a node's name is taken too,
  // as the box's own commands call its nodes by name. An AE title wins a clash.
  const nodes = config.nodes.filter(isDimse);
  const node =
    nodes.find((n) => n.ae === destinationAe) ?? nodes.find((n) => n.name === destinationAe);
  if (!node)
    throw new UnknownDestinationError(`no node has the AE title or name "${destinationAe}"`);
  const peer = `${node.ae}@${node.host}:${node.port}`;
  if (instances.length === 0) {
    return {
      requestor: undefined as unknown as DimseRequestor,
      route: () => null,
      peer,
      close: async () => undefined,
    };
  }
  const proposal = proposeContexts([...new Set(instances.map(routeKey))].slice(0, 64));
  let association: EstablishedAssociation;
  try {
    association = await openAssociation(nodePeer(config, node), proposal.contexts);
  } catch (err) {
    throw new Error(
      `cannot associate with the move destination ${peer}: ${(err as Error).message}`,
    );
  }
  const routes = proposal.routes(association);
  return {
    requestor: new DimseRequestor(association),
    route: (i) => routes.get(routeKey(i)) ?? null,
    peer,
    close: () => association.release().catch(() => association.abort()),
  };
}

function getTarget(ctx: ServiceContext): Target {
  return {
    requestor: ctx.requestor,
    route: (i) => routeAmong(ctx.info.contexts.values(), i),
    peer: ctx.association.peerLabel,
    close: async () => undefined,
  };
}
