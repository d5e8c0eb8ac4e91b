// The services of the box as SCP (PRODUCT.md's table), declared once for negotiation and
// dispatch (registry.ts): Verification, Storage into the archive, Query/Retrieve from it,
// the Storage Commitment Push Model, and the Modality Worklist while a source is configured.
import type { Archive } from '../../storage/archive';
import { worklistSource, type Config } from '../config/config';
import { CommandField } from '../dicom/dimse/command-field';
import { isStorageSopClass } from '../dicom/registry/storage-sop-classes';
import { MODALITY_WORKLIST_FIND_SOP_CLASS, VERIFICATION_SOP_CLASS } from '../dicom/registry/uid';
import { STORAGE_COMMITMENT_SOP_CLASS } from './commitment/commitment';
import { nEventReportScp } from './commitment/commitment-report-scp';
import type { CommitmentReporter } from './commitment/commitment-reporter';
import { nActionScp } from './commitment/commitment-scp';
import { cEchoScp } from './echo-scp';
import { cFindScp } from './find-scp';
import { QR_SOP_CLASSES } from './qr/attributes';
import { ServiceRegistry } from './registry';
import type { ServiceHandler } from './service';
import { cGetScp, cMoveScp } from './retrieve-scp';
import { cStoreScp, type StoreOutcome } from './store-scp';

const QR_SOP_CLASS_SET: ReadonlySet<string> = new Set(Object.values(QR_SOP_CLASSES));

export interface ServiceParts {
  readonly archive: Archive;
  readonly reporter: CommitmentReporter;
  readonly config: () => Config;
  /** Told each C-STORE's outcome (the metrics count them). */
  readonly stored: (outcome: StoreOutcome) => void;
  /** The Modality Worklist C-FIND (firmware/worklist/mwl-scp.ts), served with a source. */
  readonly worklistFind: ServiceHandler;
}

export function boxServices(p: ServiceParts): ServiceRegistry {
  const config = p.config;
  const retrieveDeps = { archive: p.archive, config };
  return new ServiceRegistry([
    {
      name: 'Verification',
      serves: (uid) => uid === VERIFICATION_SOP_CLASS,
      transferSyntaxes: 'uncompressed',
      roleSelection: false,
      handlers: new Map([[CommandField.CEchoRq, cEchoScp]]),
    },
    {
      name: 'Storage',
      serves: isStorageSopClass,
      transferSyntaxes: 'any',
      roleSelection: true,
      handlers: new Map([[CommandField.CStoreRq, cStoreScp(p.archive, p.stored)]]),
    },
    {
      name: 'Query/Retrieve',
      serves: (uid) => QR_SOP_CLASS_SET.has(uid),
      transferSyntaxes: 'uncompressed',
      roleSelection: false,
      handlers: new Map([
        [CommandField.CFindRq, cFindScp(p.archive, () => config().ae)],
        [CommandField.CMoveRq, cMoveScp(retrieveDeps)],
        [CommandField.CGetRq, cGetScp(retrieveDeps)],
      ]),
    },
    {
      name: 'Storage Commitment Push Model',
      serves: (uid) => uid === STORAGE_COMMITMENT_SOP_CLASS,
      transferSyntaxes: 'uncompressed',
      roleSelection: true,
      handlers: new Map([
        [
          CommandField.NActionRq,
          nActionScp(p.archive, p.reporter, () => config().commitTimeoutSeconds),
        ],
        [CommandField.NEventReportRq, nEventReportScp(p.archive)],
      ]),
    },
    {
      name: 'Modality Worklist Information Model - FIND',
      // Offered only while a node is the worklist source: with none, the context is refused.
      serves: (uid) =>
        uid === MODALITY_WORKLIST_FIND_SOP_CLASS && worklistSource(config()) !== undefined,
      transferSyntaxes: 'uncompressed',
      roleSelection: false,
      handlers: new Map([[CommandField.CFindRq, p.worklistFind]]),
    },
  ]);
}
