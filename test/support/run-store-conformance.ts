/**
 * The behaviour every RunStore implementation must have (src/store/run-store.ts), run against each
 * one: the SQLite file (test/node/store.test.ts) and PostgreSQL (test/node/postgres-store.test.ts).
 * Documents round-trip bit for bit, checkpoints, list filters, claims and their races.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import type { RunStart, RunStore } from '../../src/store/run-store.ts';

export interface StoreFixture {
  /** A new, empty store location. */
  fresh(): Promise<string>;
  open(location: string): Promise<RunStore>;
  /** The claim columns of a run, read around the store's interface. */
  rowOf(location: string, key: string): Promise<{ owner: string | null; heartbeat_at: string | null }>;
}

const bitsOf = (a: number): bigint => new BigUint64Array(new Float64Array([a]).buffer)[0];

function start(key: string, experiment = 'c1-test', seed = 0): RunStart {
  return { key, experiment, label: `run ${key}`, config: { model: 'deep-linear', eps: 0.25, seed }, seed, codeVersion: 'v1-abc' };
}

export function runStoreConformance(name: string, fx: StoreFixture, options: { skip?: string | false } = {}): void {
  const skip = options.skip ?? false;
  test(`${name}: round trip bit for bit: NaN, −0, ±∞, Float64Array in config, final, history, result`, { skip }, async () => {
    const store = await fx.open(await fx.fresh());
    const weights = new Float64Array([0.1, -0, NaN, Infinity, -Infinity, 5e-324, 1 / 3]);
    const final = { step: 100, logLoss: -0, adversarialNormalizedMargin: 0.1 + 0.2, referenceAngleDeg: NaN, kkt: { stationarity: Infinity }, predictor: [0.6, 0.8] };
    const history = [
      { step: 0, logLoss: NaN, weights },
      { step: 100, logLoss: -Infinity, weights: new Float64Array(0) },
    ];
    const result = { label: 'x', final, history, params: [weights], threshold: null, nested: { deep: [-0, 1e308] } };
    assert.equal(await store.findDone('k1'), null);
    const id = await store.begin({ ...start('k1'), config: { eps: 0.1 + 0.2, init: -0, scale: new Float64Array([NaN]) } });
    assert.equal(await store.findDone('k1'), null, 'running is not done');
    await store.complete('k1', { final, history, result });
    const back = await store.findDone('k1');
    assert.ok(back);
    assert.equal(back.id, id);
    assert.equal(back.status, 'done');
    assert.equal(back.codeVersion, 'v1-abc');
    assert.equal(back.seed, 0);
    assert.ok(back.startedAt && back.endedAt && back.endedAt >= back.startedAt);
    const f = back.final as typeof final;
    assert.ok(Object.is(f.logLoss, -0));
    assert.equal(bitsOf(f.adversarialNormalizedMargin), bitsOf(0.1 + 0.2));
    assert.ok(Number.isNaN(f.referenceAngleDeg));
    assert.equal(f.kkt.stationarity, Infinity);
    const h = back.history as typeof history;
    assert.ok(Number.isNaN(h[0].logLoss));
    assert.equal(h[1].logLoss, -Infinity);
    assert.ok(h[0].weights instanceof Float64Array);
    assert.deepEqual(new Uint8Array(h[0].weights.buffer), new Uint8Array(weights.buffer));
    assert.equal(h[1].weights.length, 0);
    const r = back.result as typeof result;
    assert.ok(r.params[0] instanceof Float64Array);
    assert.deepEqual(new Uint8Array(r.params[0].buffer), new Uint8Array(weights.buffer));
    assert.ok(Object.is(r.nested.deep[0], -0));
    assert.equal(r.threshold, null);
    const cfg = back.config as { eps: number; init: number; scale: Float64Array };
    assert.equal(bitsOf(cfg.eps), bitsOf(0.1 + 0.2));
    assert.ok(Object.is(cfg.init, -0));
    assert.ok(Number.isNaN(cfg.scale[0]));
    // get by id and by key give the same row; unknown ones null.
    assert.deepEqual(Object.keys((await store.get(id))!), Object.keys(back));
    assert.equal((await store.get('k1'))!.id, id);
    assert.equal(await store.get(9999), null);
    assert.equal(await store.get('nope'), null);
    await store.close();
  });

  test(`${name}: checkpoints: one per run, overwritten, kept by begin and fail, deleted by complete; delete removes run and checkpoint`, { skip }, async () => {
    const store = await fx.open(await fx.fresh());
    await assert.rejects(store.saveCheckpoint('ghost', 1, {}), /no run with key ghost/);
    await store.begin(start('a'));
    assert.equal(await store.loadCheckpoint('a'), null);
    await store.saveCheckpoint('a', 10, { theta: new Float64Array([1, -0]), rng: [1, 2] });
    await store.saveCheckpoint('a', 20, { theta: new Float64Array([2, NaN]), rng: [3, 4] });
    const cp = await store.loadCheckpoint('a') as { step: number; state: { theta: Float64Array; rng: number[] } };
    assert.equal(cp.step, 20);
    assert.ok(cp.state.theta instanceof Float64Array && cp.state.theta[0] === 2 && Number.isNaN(cp.state.theta[1]));
    assert.deepEqual(cp.state.rng, [3, 4]);
    // A failed run keeps its checkpoint; begin (the retry) resets the row but keeps it too.
    assert.equal(await store.fail('a', 'non-finite loss at step 21'), true);
    assert.equal(await store.fail('missing', 'x'), false);
    let row = (await store.get('a'))!;
    assert.equal(row.status, 'failed');
    assert.equal(row.error, 'non-finite loss at step 21');
    assert.ok(row.endedAt);
    assert.equal((await store.loadCheckpoint('a'))!.step, 20);
    const id = await store.begin(start('a'));
    row = (await store.get('a'))!;
    assert.equal(row.id, id, 'the same row');
    assert.equal(row.status, 'running');
    assert.equal(row.error, null);
    assert.equal(row.endedAt, null);
    assert.equal((await store.loadCheckpoint('a'))!.step, 20);
    await store.complete('a', { final: { step: 30 }, history: [], result: { ok: true } });
    assert.equal(await store.loadCheckpoint('a'), null);
    await assert.rejects(store.complete('ghost', { final: {}, history: [], result: {} }), /no run with key ghost/);
    // delete (for --force): run and checkpoint.
    await store.begin(start('b'));
    await store.saveCheckpoint('b', 5, { x: 1 });
    assert.equal(await store.delete('b'), true);
    assert.equal(await store.get('b'), null);
    assert.equal(await store.loadCheckpoint('b'), null);
    assert.equal(await store.delete('b'), false);
    assert.equal(await store.delete('a'), true);
    assert.equal(await store.findDone('a'), null);
    await store.close();
  });

  test(`${name}: a second RunStore on the same store sees committed data; list filters; list rows lack the big documents`, { skip }, async () => {
    const path = await fx.fresh();
    const w = await fx.open(path);
    const r = await fx.open(path);
    await w.begin(start('x1', 'c1-a', 0));
    await w.begin(start('x2', 'c1-a', 1));
    await w.begin(start('x3', 'c2-b', 0));
    await w.complete('x1', { final: { step: 5, adversarialNormalizedMargin: 0.5 }, history: [{ step: 5 }], result: { big: new Float64Array(100) } });
    await w.fail('x3', 'boom');
    await w.saveCheckpoint('x2', 3, { s: 3 });
    assert.deepEqual((await r.findDone('x1'))!.final, { step: 5, adversarialNormalizedMargin: 0.5 });
    assert.equal((await r.loadCheckpoint('x2'))!.step, 3);
    const all = await r.list();
    assert.deepEqual(all.map((x) => x.key), ['x1', 'x2', 'x3']);
    for (const row of all) for (const big of ['config', 'history', 'result']) assert.ok(!(big in row), big);
    assert.deepEqual(all[0].final, { step: 5, adversarialNormalizedMargin: 0.5 });
    assert.equal(all[1].final, null);
    assert.deepEqual((await r.list({ experiment: 'c1-a' })).map((x) => x.key), ['x1', 'x2']);
    assert.deepEqual((await r.list({ status: 'running' })).map((x) => x.key), ['x2']);
    assert.deepEqual((await r.list({ status: 'failed', experiment: 'c2-b' })).map((x) => x.key), ['x3']);
    assert.deepEqual(await r.list({ status: 'done', experiment: 'c2-b' }), []);
    await w.close();
    await r.close();
    // Reopening keeps everything.
    const again = await fx.open(path);
    assert.equal((await again.list()).length, 3);
    assert.equal((await again.findDone('x1'))!.status, 'done');
    await again.close();
  });

  test(`${name}: claims: one owner at a time; busy while its heartbeat is recent; taken over when stale or released; done runs left alone`, { skip }, async () => {
    const path = await fx.fresh();
    const a = await fx.open(path);
    const b = await fx.open(path); // a second process, as far as the store is concerned
    const recent = (): string => new Date(Date.now() - 60_000).toISOString(); // stale = older than a minute
    try {
      const first = await a.claim(start('k'), 'host-a:1:aa', recent());
      assert.equal(first.outcome, 'claimed');
      assert.deepEqual(await b.claim(start('k'), 'host-b:2:bb', recent()), { outcome: 'busy', owner: 'host-a:1:aa', heartbeatAt: (await fx.rowOf(path, 'k')).heartbeat_at });
      // The owner claiming again (a restart of its own run) keeps it; the heartbeat is its own only.
      assert.equal((await a.claim(start('k'), 'host-a:1:aa', recent())).outcome, 'claimed');
      assert.equal(await a.heartbeat('k', 'host-a:1:aa'), true);
      assert.equal(await b.heartbeat('k', 'host-b:2:bb'), false);
      await a.saveCheckpoint('k', 7, { step: 7 });
      // A stale heartbeat (older than staleBefore) is taken over, checkpoint kept, and the old owner learns it.
      const future = new Date(Date.now() + 1000).toISOString();
      const taken = await b.claim(start('k'), 'host-b:2:bb', future);
      assert.deepEqual(taken, { outcome: 'claimed', id: first.outcome === 'claimed' ? first.id : -1, takenOver: 'host-a:1:aa' });
      assert.equal((await b.loadCheckpoint('k'))?.step, 7);
      assert.equal(await a.heartbeat('k', 'host-a:1:aa'), false, 'the old owner lost it');
      // Released: the next claim takes it at once.
      assert.equal(await a.release('k', 'host-a:1:aa'), false, 'only the owner releases');
      assert.equal(await b.release('k', 'host-b:2:bb'), true);
      assert.deepEqual(await a.claim(start('k'), 'host-a:1:aa', recent()), { outcome: 'claimed', id: taken.outcome === 'claimed' ? taken.id : -1, takenOver: null });
      // Done: nobody claims it again; failed: claimable.
      await a.complete('k', { final: { step: 1 }, history: [], result: { ok: true } });
      assert.deepEqual(await b.claim(start('k'), 'host-b:2:bb', future), { outcome: 'done' });
      assert.equal((await fx.rowOf(path, 'k')).owner, null, 'complete clears the claim');
      assert.equal((await b.claim(start('f'), 'host-b:2:bb', recent())).outcome, 'claimed');
      await b.fail('f', 'boom');
      assert.equal((await a.claim(start('f'), 'host-a:1:aa', recent())).outcome, 'claimed');
      // begin (train's runs) leaves a run without owner: a claim takes it.
      await a.begin(start('t'));
      assert.equal((await b.claim(start('t'), 'host-b:2:bb', recent())).outcome, 'claimed');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test(`${name}: claims from six connections to one store: exactly one wins, the others see it busy`, { skip }, async () => {
    const path = await fx.fresh();
    const stores = await Promise.all(Array.from({ length: 6 }, () => fx.open(path)));
    try {
      const staleBefore = new Date(Date.now() - 60_000).toISOString();
      const outcomes = await Promise.all(stores.map((s, i) => s.claim(start('race'), `h:${i}:0${i}`, staleBefore)));
      assert.equal(outcomes.filter((o) => o.outcome === 'claimed').length, 1);
      assert.equal(outcomes.filter((o) => o.outcome === 'busy').length, 5);
    } finally {
      for (const s of stores) await s.close();
    }
  });

}
