// The services the box offers as SCP, each declared once: the SOP classes it serves, the
// transfer syntaxes it takes, whether it accepts SCP/SCU role selection, and the DIMSE
// requests it answers with their handlers. Negotiation (which presentation contexts and
// roles an A-ASSOCIATE-AC accepts) and dispatch (which handler a request goes to) both read
// this list, so adding a service touches one place.
import { negotiateContexts } from '../dicom/negotiation';
import type { AAssociateRq, PresentationContextAc, RoleSelection } from '../dicom/pdu';
import { UNCOMPRESSED_SYNTAXES } from '../dicom/registry/transfer-syntaxes';
import type { ServiceHandler } from './service';

export interface ServiceDeclaration {
  /** The service's name in PS3.4 (for readers and log lines). */
  readonly name: string;
  /** Whether it serves this abstract syntax (SOP class). */
  serves(abstractSyntax: string): boolean;
  /**
   * 'any': data sets pass through in the syntax they came in (Storage); 'uncompressed':
   * commands and identifiers, which the box parses itself.
   */
  readonly transferSyntaxes: 'any' | 'uncompressed';
  /** Whether a role proposed for its SOP classes is accepted (PS3.7 D.3.3.4). */
  readonly roleSelection: boolean;
  /** The requests it answers: command field -> handler. */
  readonly handlers: ReadonlyMap<number, ServiceHandler>;
}

/**
 * What the association handler dispatches by: a request's command field and the SOP class
 * of its presentation context (a C-FIND of the Modality Worklist is not one of Query/
 * Retrieve). A Map of handlers by command field is one too.
 */
export interface ServiceTable {
  get(commandField: number, abstractSyntax: string): ServiceHandler | undefined;
}

export class ServiceRegistry implements ServiceTable {
  private readonly byField = new Map<number, ServiceHandler>();

  constructor(readonly services: readonly ServiceDeclaration[]) {
    for (const s of services)
      for (const [field, h] of s.handlers) if (!this.byField.has(field)) this.byField.set(field, h);
  }

  /** The handler of the service serving the context's SOP class, else the first for the field. */
  get(commandField: number, abstractSyntax: string): ServiceHandler | undefined {
    return (
      this.serving(abstractSyntax)?.handlers.get(commandField) ?? this.byField.get(commandField)
    );
  }

  /** Every handler wrapped (the metrics time each request). */
  wrapped(wrap: (field: number, handler: ServiceHandler) => ServiceHandler): ServiceRegistry {
    return new ServiceRegistry(
      this.services.map((s) => ({
        ...s,
        handlers: new Map([...s.handlers].map(([f, h]) => [f, wrap(f, h)] as const)),
      })),
    );
  }

  /** The presentation contexts and roles to accept of an A-ASSOCIATE-RQ (PS3.8 9.3.3). */
  negotiate(rq: AAssociateRq): {
    presentationContexts: PresentationContextAc[];
    roleSelections: RoleSelection[];
  } {
    const presentationContexts = negotiateContexts(rq.presentationContexts, (uid) => {
      const service = this.serving(uid);
      if (!service) return false;
      if (service.transferSyntaxes === 'any') return true;
      return (ts) => UNCOMPRESSED_SYNTAXES.includes(ts);
    });
    // A C-GET requester takes the SCP role for the storage classes it wants to receive; a
    // commitment requester may name its roles too: the roles proposed for those are accepted.
    const roleSelections = rq.userInformation.roleSelections.filter(
      (r) => this.serving(r.sopClassUid)?.roleSelection === true,
    );
    return { presentationContexts, roleSelections };
  }

  private serving(abstractSyntax: string): ServiceDeclaration | undefined {
    return this.services.find((s) => s.serves(abstractSyntax));
  }
}
