// Query/Retrieve C-MOVE (PS3.4 C.4.2) and C-GET (C.4.3) as SCP. Both match instances in
// the index by the identifier's unique keys and send them by C-STORE sub-operations:
// C-MOVE over a new association to the move destination (looked up in `nodes`, A801 when
// unknown), C-GET over the requester's own association (on the storage contexts it
// proposed, with the SCP role for itself). Pending responses carry the counts as each
// sub-operation ends; a C-CANCEL stops after the one in flight (FE00 with the counts);
// the final status is 0000, or B000 with the Failed SOP Instance UID List, or A702 when
// no sub-operation could be started.
import { isDimse, nodeAddress, type Config } from '../config/config';
import type { EstablishedAssociation } from '../dicom/association';
import type { Element } from '../dicom/dataset/dataset-writer';
import { CommandField } from '../dicom/dimse/command-field';
import type { CommandSet } from '../dicom/dimse/command-set';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { Status, statusCategory } from '../dicom/dimse/status';
import { DatasetParseError } from '../dicom/errors';
import { Tag } from '../dicom/registry/tags';
import { log } from '../log';
import type { Archive, RetrieveLease } from '../../storage/archive';
import type { RetrievableInstance } from '../../storage/index';
import { modelOf } from './qr/attributes';
import { interpretIdentifier, QueryError } from './qr/identifier';
import { encodeIdentifier, encodingOf, readIdentifier } from './qr/qr-common';
import { respond, type ServiceContext, type ServiceHandler } from './service';
import { nodePeer, openAssociation } from './open-association';
import { proposeContexts, routeAmong, routeKey, sendInstance, type Route } from './store-sender';

export interface RetrieveDeps {
  /** The instances asked for, held against eviction while they are sent (storage/archive.ts). */
  readonly archive: Pick<Archive, 'retrieve' | 'cache'>;
  readonly config: () => Config;
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

/** One C-MOVE or C-GET: what it asks, where it goes, and its responses as it goes. */
interface Retrieve {
  readonly kind: 'move' | 'get';
  readonly message: Parameters<ServiceHandler>[0];
  readonly ctx: ServiceContext;
  readonly counts: Counts;
  /** A response: pending with the counts, or final (with the failed list). */
  answer(status: number, fields?: Partial<CommandSet>, withRemaining?: boolean): Promise<void>;
}

async function retrieve(
  kind: 'move' | 'get',
  deps: RetrieveDeps,
  message: Parameters<ServiceHandler>[0],
  ctx: ServiceContext,
): Promise<void> {
  const started = Date.now();
  const counts: Counts = { remaining: 0, completed: 0, failed: 0, warning: 0, failedUids: [] };
  const r: Retrieve = { kind, message, ctx, counts, answer: answerer(kind, message, ctx, counts) };
  const lease = await matched(r, deps);
  if (!lease) return;
  try {
    const target = await targetOf(r, deps, lease.instances);
    if (!target) return;
    try {
      await subOperations(r, deps, target, lease.instances);
    } finally {
      await target.close();
    }
    await finish(r, target, started);
  } finally {
    lease.release();
  }
}

function answerer(
  kind: 'move' | 'get',
  message: Parameters<ServiceHandler>[0],
  ctx: ServiceContext,
  counts: Counts,
): Retrieve['answer'] {
  return (status, fields = {}, withRemaining = true) => {
    const final = statusCategory(status) !== 'pending';
    const identifier =
      final && counts.failedUids.length > 0
        ? encodeIdentifier(
            [
              {
                tag: Tag.FailedSopInstanceUidList,
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
        commandField: kind === 'move' ? CommandField.CMoveRsp : CommandField.CGetRsp,
        affectedSopClassUid: message.context.abstractSyntax,
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
}

/**
 * The instances the identifier's unique keys match, leased from the archive (used now, and
 * not evicted while they are sent); undefined when the identifier was refused.
 */
async function matched(r: Retrieve, deps: RetrieveDeps): Promise<RetrieveLease | undefined> {
  const sopClass = r.message.context.abstractSyntax;
  let conditions;
  try {
    const elements = await readIdentifier(r.message.dataset, encodingOf(r.message.context));
    conditions = interpretIdentifier(elements, modelOf(sopClass)!, 'retrieve').conditions;
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    log.warn(`C-${r.kind.toUpperCase()} refused`, {
      peer: r.ctx.association.peerLabel,
      reason: err.message,
    });
    await respond(r.ctx, r.message, {
      commandField: r.kind === 'move' ? CommandField.CMoveRsp : CommandField.CGetRsp,
      affectedSopClassUid: sopClass,
      status: err.status,
      errorComment: err.message,
    });
    return undefined;
  }
  return deps.archive.retrieve(conditions);
}

/** Where the sub-operations go; undefined (answered A801 or A702) when nowhere. */
async function targetOf(
  r: Retrieve,
  deps: RetrieveDeps,
  instances: readonly RetrievableInstance[],
): Promise<Target | undefined> {
  try {
    return r.kind === 'move'
      ? await moveTarget(deps, r.message.command.moveDestination ?? '', instances)
      : getTarget(r.ctx);
  } catch (err) {
    const status =
      err instanceof UnknownDestinationError
        ? Status.MoveDestinationUnknown
        : Status.OutOfResourcesSubOperations;
    log.warn(`C-${r.kind.toUpperCase()} refused`, {
      peer: r.ctx.association.peerLabel,
      reason: (err as Error).message,
    });
    if (status === Status.OutOfResourcesSubOperations) {
      r.counts.failed = instances.length;
      r.counts.failedUids.push(...instances.map((i) => i.sopInstanceUid));
    }
    await r.answer(status, { errorComment: (err as Error).message }, false);
    return undefined;
  }
}

/** The C-STORE sub-operations, a pending response after each; a C-CANCEL stops them. */
async function subOperations(
  r: Retrieve,
  deps: RetrieveDeps,
  target: Target,
  instances: readonly RetrievableInstance[],
): Promise<void> {
  const messageId = r.message.command.messageId ?? 0;
  const { counts } = r;
  counts.remaining = instances.length;
  for (const [n, instance] of instances.entries()) {
    if (r.ctx.isCancelled(messageId)) break;
    const outcome = await subOperation(r, deps, target, instance);
    if (outcome === 'lost') {
      // The sub-association is gone: this one and the rest cannot be sent.
      const unsent = instances.slice(n);
      counts.remaining = 0;
      counts.failed += unsent.length;
      counts.failedUids.push(...unsent.map((i) => i.sopInstanceUid));
      break;
    }
    counts.remaining--;
    counts[outcome]++;
    if (outcome === 'failed') counts.failedUids.push(instance.sopInstanceUid);
    if (counts.remaining > 0) await r.answer(Status.Pending);
  }
}

async function subOperation(
  r: Retrieve,
  deps: RetrieveDeps,
  target: Target,
  instance: RetrievableInstance,
): Promise<'completed' | 'warning' | 'failed' | 'lost'> {
  const route = target.route(instance);
  if (!route) return 'failed';
  const messageId = r.message.command.messageId ?? 0;
  try {
    const { status } = await sendInstance(target.requestor, deps.archive.cache, route, instance, {
      peer: target.peer,
      ...(r.kind === 'move'
        ? { moveOriginator: { aeTitle: r.ctx.info.callingAeTitle, messageId } }
        : {}),
    });
    const category = statusCategory(status);
    return category === 'success' ? 'completed' : category === 'warning' ? 'warning' : 'failed';
  } catch (err) {
    log.warn('sub-operation failed', {
      peer: target.peer,
      sop: instance.sopInstanceUid,
      reason: (err as Error).message,
    });
    const lost =
      !(err instanceof DatasetParseError) && target.requestor.association.state !== 'Sta6';
    return lost ? 'lost' : 'failed';
  }
}

/** The final response (PS3.4 C.4.2.1.6: remaining only when cancelled) and the log line. */
async function finish(r: Retrieve, target: Target, started: number): Promise<void> {
  const { counts } = r;
  let status: number;
  if (r.ctx.isCancelled(r.message.command.messageId ?? 0) && counts.remaining > 0)
    status = Status.Cancel;
  else if (counts.failed > 0 || counts.warning > 0)
    status = Status.SubOperationsCompleteWithFailures;
  else status = Status.Success;
  await r.answer(status, {}, status === Status.Cancel);
  log.info(`C-${r.kind.toUpperCase()}`, {
    peer: r.ctx.association.peerLabel,
    to: target.peer,
    completed: counts.completed,
    failed: counts.failed,
    warning: counts.warning,
    cancelled: status === Status.Cancel ? counts.remaining : undefined,
    ms: Date.now() - started,
  });
}

class UnknownDestinationError extends Error {
  override name = 'UnknownDestinationError';
}

async function moveTarget(
  deps: RetrieveDeps,
  destinationAe: string,
  instances: readonly RetrievableInstance[],
): Promise<Target> {
  const config = deps.config();
  // The Move Destination is an AE title (PS3.4 C.4.2.1.4.1); a node's name is taken too,
  // as the box's own commands call its nodes by name. An AE title wins a clash.
  const nodes = config.nodes.filter(isDimse);
  const node =
    nodes.find((n) => n.ae === destinationAe) ?? nodes.find((n) => n.name === destinationAe);
  if (!node)
    throw new UnknownDestinationError(`no node has the AE title or name "${destinationAe}"`);
  const peer = nodeAddress(node);
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
