// The DICOM Upper Layer protocol state machine, PS3.8 §9.2, as data.
// States Sta1-Sta13 (Table 9-1), events Evt1-Evt19 (Table 9-2), actions (Tables 9-6 to
// 9-9) and the state transition table (Table 9-10). Anyone holding PS3.8 can check this
// file line by line; ul/actions.ts performs the actions and association.ts runs the
// table: neither decides them.

export type State =
  | 'Sta1'
  | 'Sta2'
  | 'Sta3'
  | 'Sta4'
  | 'Sta5'
  | 'Sta6'
  | 'Sta7'
  | 'Sta8'
  | 'Sta9'
  | 'Sta10'
  | 'Sta11'
  | 'Sta12'
  | 'Sta13';

export const STATES: Readonly<Record<State, string>> = {
  Sta1: 'Idle',
  Sta2: 'Transport connection open (Awaiting A-ASSOCIATE-RQ PDU)',
  Sta3: 'Awaiting local A-ASSOCIATE response primitive (from local user)',
  Sta4: 'Awaiting transport connection opening to complete (from local transport service)',
  Sta5: 'Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU',
  Sta6: 'Association established and ready for data transfer',
  Sta7: 'Awaiting A-RELEASE-RP PDU',
  Sta8: 'Awaiting local A-RELEASE response primitive (from local user)',
  Sta9: 'Release collision requestor side; awaiting A-RELEASE response (from local user)',
  Sta10: 'Release collision acceptor side; awaiting A-RELEASE-RP PDU',
  Sta11: 'Release collision requestor side; awaiting A-RELEASE-RP PDU',
  Sta12: 'Release collision acceptor side; awaiting A-RELEASE response primitive (from local user)',
  Sta13: 'Awaiting Transport Connection Close Indication (Association no longer exists)',
};

export type Event =
  | 'Evt1'
  | 'Evt2'
  | 'Evt3'
  | 'Evt4'
  | 'Evt5'
  | 'Evt6'
  | 'Evt7'
  | 'Evt8'
  | 'Evt9'
  | 'Evt10'
  | 'Evt11'
  | 'Evt12'
  | 'Evt13'
  | 'Evt14'
  | 'Evt15'
  | 'Evt16'
  | 'Evt17'
  | 'Evt18'
  | 'Evt19';

export const EVENTS: Readonly<Record<Event, string>> = {
  Evt1: 'A-ASSOCIATE request (local user)',
  Evt2: 'Transport connect confirmation (local transport service)',
  Evt3: 'A-ASSOCIATE-AC PDU (received on transport connection)',
  Evt4: 'A-ASSOCIATE-RJ PDU (received on transport connection)',
  Evt5: 'Transport connection indication (local transport service)',
  Evt6: 'A-ASSOCIATE-RQ PDU (received on transport connection)',
  Evt7: 'A-ASSOCIATE response primitive (accept)',
  Evt8: 'A-ASSOCIATE response primitive (reject)',
  Evt9: 'P-DATA request primitive',
  Evt10: 'P-DATA-TF PDU (received on transport connection)',
  Evt11: 'A-RELEASE request primitive',
  Evt12: 'A-RELEASE-RQ PDU (received on transport connection)',
  Evt13: 'A-RELEASE-RP PDU (received on transport connection)',
  Evt14: 'A-RELEASE response primitive',
  Evt15: 'A-ABORT request primitive',
  Evt16: 'A-ABORT PDU (received on transport connection)',
  Evt17: 'Transport connection closed indication (local transport service)',
  Evt18: 'ARTIM timer expired (Association reject/release timer)',
  Evt19: 'Unrecognized or invalid PDU received',
};

export type Action =
  | 'AE-1'
  | 'AE-2'
  | 'AE-3'
  | 'AE-4'
  | 'AE-5'
  | 'AE-6'
  | 'AE-7'
  | 'AE-8'
  | 'DT-1'
  | 'DT-2'
  | 'AR-1'
  | 'AR-2'
  | 'AR-3'
  | 'AR-4'
  | 'AR-5'
  | 'AR-6'
  | 'AR-7'
  | 'AR-8'
  | 'AR-9'
  | 'AR-10'
  | 'AA-1'
  | 'AA-2'
  | 'AA-3'
  | 'AA-4'
  | 'AA-5'
  | 'AA-6'
  | 'AA-7'
  | 'AA-8';

/**
 * What each action does and the state it leads to. Two actions choose their next state:
 * AE-6 (accept the RQ for the local user or reject it) and AR-8 (release collision,
 * which side we are); `next` lists the possibilities and the performer returns the one taken.
 */
export const ACTIONS: Readonly<
  Record<Action, { readonly does: string; readonly next: readonly State[] }>
> = {
  'AE-1': {
    does: 'Issue TRANSPORT CONNECT request primitive to local transport service',
    next: ['Sta4'],
  },
  'AE-2': { does: 'Send A-ASSOCIATE-RQ-PDU', next: ['Sta5'] },
  'AE-3': { does: 'Issue A-ASSOCIATE confirmation (accept) primitive', next: ['Sta6'] },
  'AE-4': {
    does: 'Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection',
    next: ['Sta1'],
  },
  'AE-5': {
    does: 'Issue Transport connection response primitive; start ARTIM timer',
    next: ['Sta2'],
  },
  'AE-6': {
    does:
      'Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable by service-provider: issue A-ASSOCIATE indication ' +
      'primitive (next state Sta3); otherwise: issue A-ASSOCIATE-RJ-PDU and start ARTIM timer (next state Sta13)',
    next: ['Sta3', 'Sta13'],
  },
  'AE-7': { does: 'Send A-ASSOCIATE-AC PDU', next: ['Sta6'] },
  'AE-8': { does: 'Send A-ASSOCIATE-RJ PDU and start ARTIM timer', next: ['Sta13'] },
  'DT-1': { does: 'Send P-DATA-TF PDU', next: ['Sta6'] },
  'DT-2': { does: 'Send P-DATA indication primitive', next: ['Sta6'] },
  'AR-1': { does: 'Send A-RELEASE-RQ PDU', next: ['Sta7'] },
  'AR-2': { does: 'Issue A-RELEASE indication primitive', next: ['Sta8'] },
  'AR-3': {
    does: 'Issue A-RELEASE confirmation primitive, and close transport connection',
    next: ['Sta1'],
  },
  'AR-4': { does: 'Issue A-RELEASE-RP PDU and start ARTIM timer', next: ['Sta13'] },
  'AR-5': { does: 'Stop ARTIM timer', next: ['Sta1'] },
  'AR-6': { does: 'Issue P-DATA indication', next: ['Sta7'] },
  'AR-7': { does: 'Issue P-DATA-TF PDU', next: ['Sta8'] },
  'AR-8': {
    does:
      'Issue A-RELEASE indication (release collision): if association-requestor, next state is Sta9, ' +
      'if not next state is Sta10',
    next: ['Sta9', 'Sta10'],
  },
  'AR-9': { does: 'Send A-RELEASE-RP PDU', next: ['Sta11'] },
  'AR-10': { does: 'Issue A-RELEASE confirmation primitive', next: ['Sta12'] },
  'AA-1': {
    does: 'Send A-ABORT PDU (service-user source) and start (or restart if already started) ARTIM timer',
    next: ['Sta13'],
  },
  'AA-2': { does: 'Stop ARTIM timer if running. Close transport connection', next: ['Sta1'] },
  'AA-3': {
    does:
      'If (service-user initiated abort): issue A-ABORT indication and close transport connection; ' +
      'otherwise (service-provider initiated abort): issue A-P-ABORT indication and close transport connection',
    next: ['Sta1'],
  },
  'AA-4': { does: 'Issue A-P-ABORT indication primitive', next: ['Sta1'] },
  'AA-5': { does: 'Stop ARTIM timer', next: ['Sta1'] },
  'AA-6': { does: 'Ignore PDU', next: ['Sta13'] },
  'AA-7': { does: 'Send A-ABORT PDU', next: ['Sta13'] },
  'AA-8': {
    does: 'Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and start ARTIM timer',
    next: ['Sta13'],
  },
};

type Row = Partial<Record<State, Action>>;

/** States Sta3..Sta12 except the ones listed, all mapped to one action. */
function from3to12(action: Action, overrides: Row = {}): Row {
  const row: Row = {};
  for (let i = 3; i <= 12; i++) row[`Sta${i}` as State] = action;
  return { ...row, ...overrides };
}

/** PS3.8 Table 9-10: (event, state) -> action. Cells left empty in the standard are absent. */
export const TRANSITIONS: Readonly<Record<Event, Row>> = {
  Evt1: { Sta1: 'AE-1' },
  Evt2: { Sta4: 'AE-2' },
  Evt3: { Sta2: 'AA-1', ...from3to12('AA-8', { Sta4: undefined, Sta5: 'AE-3' }), Sta13: 'AA-6' },
  Evt4: { Sta2: 'AA-1', ...from3to12('AA-8', { Sta4: undefined, Sta5: 'AE-4' }), Sta13: 'AA-6' },
  Evt5: { Sta1: 'AE-5' },
  Evt6: { Sta2: 'AE-6', ...from3to12('AA-8', { Sta4: undefined }), Sta13: 'AA-7' },
  Evt7: { Sta3: 'AE-7' },
  Evt8: { Sta3: 'AE-8' },
  Evt9: { Sta6: 'DT-1', Sta8: 'AR-7' },
  Evt10: {
    Sta2: 'AA-1',
    ...from3to12('AA-8', { Sta4: undefined, Sta6: 'DT-2', Sta7: 'AR-6' }),
    Sta13: 'AA-6',
  },
  Evt11: { Sta6: 'AR-1' },
  Evt12: {
    Sta2: 'AA-1',
    ...from3to12('AA-8', { Sta4: undefined, Sta6: 'AR-2', Sta7: 'AR-8' }),
    Sta13: 'AA-6',
  },
  Evt13: {
    Sta2: 'AA-1',
    ...from3to12('AA-8', { Sta4: undefined, Sta7: 'AR-3', Sta10: 'AR-10', Sta11: 'AR-3' }),
    Sta13: 'AA-6',
  },
  Evt14: { Sta8: 'AR-4', Sta9: 'AR-9', Sta12: 'AR-4' },
  Evt15: { ...from3to12('AA-1', { Sta4: 'AA-2' }) },
  Evt16: { Sta2: 'AA-2', ...from3to12('AA-3', { Sta4: undefined }), Sta13: 'AA-2' },
  Evt17: { Sta2: 'AA-5', ...from3to12('AA-4'), Sta13: 'AR-5' },
  Evt18: { Sta2: 'AA-2', Sta13: 'AA-2' },
  Evt19: { Sta2: 'AA-1', ...from3to12('AA-8', { Sta4: undefined }), Sta13: 'AA-7' },
};

/** The action for an event in a state, or undefined where Table 9-10 has no entry. */
export function transition(state: State, event: Event): Action | undefined {
  return TRANSITIONS[event][state];
}
