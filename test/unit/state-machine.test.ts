// The PS3.8 §9.2 transition table, checked against Table 9-10 cell by cell where the
// standard is most often got wrong, and for internal consistency everywhere.
import { strict as assert } from 'node:assert';
import {
  ACTIONS,
  EVENTS,
  STATES,
  TRANSITIONS,
  transition,
  type Event,
  type State,
} from '../../firmware/dicom/state-machine';

describe('association state machine (PS3.8 §9.2, Table 9-10)', () => {
  it('has the 13 states, 19 events and 28 actions of the standard', () => {
    assert.equal(Object.keys(STATES).length, 13);
    assert.equal(Object.keys(EVENTS).length, 19);
    assert.equal(Object.keys(ACTIONS).length, 28);
  });

  const cells: Array<[Event, State, string | undefined]> = [
    ['Evt1', 'Sta1', 'AE-1'],
    ['Evt2', 'Sta4', 'AE-2'],
    ['Evt3', 'Sta5', 'AE-3'],
    ['Evt4', 'Sta5', 'AE-4'],
    ['Evt5', 'Sta1', 'AE-5'],
    ['Evt6', 'Sta2', 'AE-6'],
    ['Evt7', 'Sta3', 'AE-7'],
    ['Evt8', 'Sta3', 'AE-8'],
    ['Evt9', 'Sta6', 'DT-1'],
    ['Evt9', 'Sta8', 'AR-7'],
    ['Evt10', 'Sta6', 'DT-2'],
    ['Evt10', 'Sta7', 'AR-6'],
    ['Evt11', 'Sta6', 'AR-1'],
    ['Evt12', 'Sta6', 'AR-2'],
    ['Evt12', 'Sta7', 'AR-8'],
    ['Evt13', 'Sta7', 'AR-3'],
    ['Evt13', 'Sta10', 'AR-10'],
    ['Evt13', 'Sta11', 'AR-3'],
    ['Evt14', 'Sta8', 'AR-4'],
    ['Evt14', 'Sta9', 'AR-9'],
    ['Evt14', 'Sta12', 'AR-4'],
    ['Evt15', 'Sta4', 'AA-2'],
    ['Evt15', 'Sta6', 'AA-1'],
    ['Evt16', 'Sta2', 'AA-2'],
    ['Evt16', 'Sta6', 'AA-3'],
    ['Evt16', 'Sta13', 'AA-2'],
    ['Evt17', 'Sta2', 'AA-5'],
    ['Evt17', 'Sta6', 'AA-4'],
    ['Evt17', 'Sta13', 'AR-5'],
    ['Evt18', 'Sta2', 'AA-2'],
    ['Evt18', 'Sta13', 'AA-2'],
    ['Evt19', 'Sta2', 'AA-1'],
    ['Evt19', 'Sta6', 'AA-8'],
    ['Evt19', 'Sta13', 'AA-7'],
    // Unexpected PDUs: provider abort in an association, ignored once it is over.
    ['Evt10', 'Sta2', 'AA-1'],
    ['Evt6', 'Sta6', 'AA-8'],
    ['Evt6', 'Sta13', 'AA-7'],
    ['Evt3', 'Sta6', 'AA-8'],
    ['Evt10', 'Sta13', 'AA-6'],
    ['Evt12', 'Sta13', 'AA-6'],
    // Empty cells: local primitives in states where they make no sense.
    ['Evt9', 'Sta2', undefined],
    ['Evt11', 'Sta7', undefined],
    ['Evt1', 'Sta6', undefined],
    ['Evt18', 'Sta6', undefined],
    ['Evt3', 'Sta4', undefined],
  ];
  for (const [event, state, action] of cells) {
    it(`${event} in ${state} -> ${action ?? '(no entry)'}`, () =>
      assert.equal(transition(state, event), action));
  }

  it('lists a received-PDU or transport event for every state where a transport connection exists', () => {
    const received: Event[] = [
      'Evt3',
      'Evt4',
      'Evt6',
      'Evt10',
      'Evt12',
      'Evt13',
      'Evt16',
      'Evt17',
      'Evt19',
    ];
    for (const state of Object.keys(STATES) as State[]) {
      if (state === 'Sta1' || state === 'Sta4') continue;
      for (const event of received) assert.ok(TRANSITIONS[event][state], `${event} in ${state}`);
    }
  });

  it('names only actions it defines', () => {
    for (const row of Object.values(TRANSITIONS)) {
      for (const action of Object.values(row)) if (action) assert.ok(ACTIONS[action], action);
    }
  });
});
