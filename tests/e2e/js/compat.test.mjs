// Drives a running Shoal server with Qdrant's official JS REST client and
// checks the answers. Run by TestJSClient (tests/e2e/js_test.go), or by hand:
//   QDRANT_URL=http://127.0.0.1:6333 node --test compat.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { QdrantClient } from '@qdrant/js-client-rest';

const url = process.env.QDRANT_URL;
if (!url) {
  throw new Error('QDRANT_URL is not set');
}

const client = new QdrantClient({ url, checkCompatibility: false });
const suffix = `${process.pid}_${Date.now()}`;
const plain = `js_plain_${suffix}`;
const named = `js_named_${suffix}`;
const indexed = `js_indexed_${suffix}`;
const uuid = '5c56c793-69f3-4fbf-87e6-c4bf54c28c26';

// The points of Qdrant's own quick-start (Dot distance, so vectors come back
// as they were sent).
const points = [
  { id: 1, vector: [0.05, 0.61, 0.76, 0.74], payload: { city: 'Berlin', n: 1 } },
  { id: 2, vector: [0.19, 0.81, 0.75, 0.11], payload: { city: ['Berlin', 'London'], n: 2 } },
  { id: 3, vector: [0.36, 0.55, 0.47, 0.94], payload: { city: ['Berlin', 'Moscow'], n: 3 } },
  { id: 4, vector: [0.18, 0.01, 0.85, 0.8], payload: { city: ['London', 'Moscow'], n: 4 } },
  { id: 5, vector: [0.24, 0.18, 0.22, 0.44], payload: { count: [0], n: 5 } },
  { id: 6, vector: [0.35, 0.08, 0.11, 0.44], payload: { n: 6 } },
];
const query = [0.2, 0.1, 0.9, 0.7];

const ids = (rs) => rs.map((r) => r.id);
const byId = (rs) => Object.fromEntries(rs.map((r) => [String(r.id), r]));

// Cosine vectors come back normalised: compare them within float32 rounding.
function assertVector(got, want, msg) {
  assert.equal(got.length, want.length, msg);
  got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-6, `${msg}: [${got}] != [${want}]`));
}

async function retrieveOne(collection, id, opts = { with_payload: true, with_vector: true }) {
  const rs = await client.retrieve(collection, { ids: [id], ...opts });
  assert.equal(rs.length, 1, `point ${id} not found`);
  return rs[0];
}

after(async () => {
  for (const name of [plain, named, indexed]) {
    try {
      await client.deleteCollection(name);
    } catch {
      // already deleted by the test
    }
  }
});

// The client declares the Node versions it supports; a run on an older Node
// (npm only warns, EBADENGINE) would test a combination no user has.
test('runs on a Node the client supports', () => {
  // The package's exports hide its package.json from import and require.
  const manifest = new URL('./node_modules/@qdrant/js-client-rest/package.json', import.meta.url);
  const range = JSON.parse(readFileSync(manifest, 'utf8')).engines?.node ?? '';
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  assert.ok(m, `cannot read the client's engines.node ${JSON.stringify(range)}`);
  const want = [1, 2, 3].map((i) => Number(m[i] ?? 0));
  const have = process.versions.node.split('.').map(Number);
  const cmp = have[0] - want[0] || have[1] - want[1] || have[2] - want[2];
  assert.ok(cmp >= 0, `Node ${process.versions.node} is older than the client's engines.node ${range}`);
});

test('server version', async () => {
  const info = await client.versionInfo();
  assert.match(info.version, /^\d+\.\d+/);
});

test('create collections, unnamed and named vectors', async () => {
  assert.equal(await client.createCollection(plain, { vectors: { size: 4, distance: 'Dot' } }), true);
  assert.equal(
    await client.createCollection(named, {
      vectors: {
        text: { size: 3, distance: 'Cosine' },
        image: { size: 2, distance: 'Euclid' },
      },
    }),
    true,
  );
  await assert.rejects(
    client.createCollection(plain, { vectors: { size: 4, distance: 'Dot' } }),
    (err) => err.status === 409 || /already exists/.test(String(err?.data?.status?.error ?? err.message)),
  );
});

test('collectionExists, getCollections, getCollection', async () => {
  assert.deepEqual(await client.collectionExists(plain), { exists: true });
  assert.deepEqual(await client.collectionExists(`missing_${suffix}`), { exists: false });

  const { collections } = await client.getCollections();
  const names = collections.map((c) => c.name);
  assert.ok(names.includes(plain) && names.includes(named), `getCollections: ${names}`);

  const info = await client.getCollection(plain);
  assert.equal(info.status, 'green');
  assert.equal(info.points_count, 0);
  assert.deepEqual(info.config.params.vectors, { size: 4, distance: 'Dot' });

  const ninfo = await client.getCollection(named);
  assert.equal(ninfo.config.params.vectors.text.size, 3);
  assert.equal(ninfo.config.params.vectors.text.distance, 'Cosine');
  assert.equal(ninfo.config.params.vectors.image.distance, 'Euclid');

  await assert.rejects(client.getCollection(`missing_${suffix}`), (err) => err.status === 404);
});

test('upsert: list of points and batch', async () => {
  const r1 = await client.upsert(plain, { wait: true, points });
  assert.equal(r1.status, 'completed');
  assert.equal(typeof r1.operation_id, 'number');

  const r2 = await client.upsert(plain, {
    wait: true,
    batch: {
      ids: [7, 8, uuid],
      vectors: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
      ],
      payloads: [{ n: 7, kind: 'batch' }, { n: 8, kind: 'batch' }, { n: 9, kind: 'batch', nested: { a: [1, 2] } }],
    },
  });
  assert.equal(r2.status, 'completed');
  assert.ok(r2.operation_id > r1.operation_id);

  const info = await client.getCollection(plain);
  assert.equal(info.points_count, 9);
});

test('retrieve with payload and vector', async () => {
  const rs = await client.retrieve(plain, { ids: [1, 2, uuid, 999], with_payload: true, with_vector: true });
  assert.deepEqual(ids(rs).map(String).sort(), ['1', '2', uuid].sort());
  const got = byId(rs);
  assert.deepEqual(got['1'].payload, points[0].payload);
  assert.deepEqual(got['2'].payload, points[1].payload);
  assert.deepEqual(got[uuid].payload, { n: 9, kind: 'batch', nested: { a: [1, 2] } });
  // Like Qdrant, the shortest decimal that reads back as the same float32.
  assert.deepEqual(got['1'].vector, points[0].vector);
  assert.deepEqual(got[uuid].vector, [0, 0, 1, 0]);

  const bare = await client.retrieve(plain, { ids: [3], with_payload: false, with_vector: false });
  assert.equal(bare.length, 1);
  assert.ok(bare[0].payload == null, 'payload not asked for');
  assert.ok(bare[0].vector == null, 'vector not asked for');

  const some = await client.retrieve(plain, { ids: [1], with_payload: ['city'] });
  assert.deepEqual(some[0].payload, { city: 'Berlin' });
});

test('query by vector, by id, with filter', async () => {
  const res = await client.query(plain, { query, limit: 3, with_payload: true });
  assert.deepEqual(ids(res.points), [4, 1, 3]);
  assert.ok(Math.abs(res.points[0].score - 1.362) < 1e-3, `score ${res.points[0].score}`);
  assert.ok(res.points[0].score >= res.points[1].score && res.points[1].score >= res.points[2].score);
  assert.deepEqual(res.points[0].payload, points[3].payload);

  const filtered = await client.query(plain, {
    query,
    filter: { should: [{ key: 'city', match: { value: 'London' } }] },
    limit: 3,
  });
  assert.deepEqual(ids(filtered.points), [4, 2]);

  const must = await client.query(plain, {
    query,
    filter: { must: [{ key: 'n', range: { gte: 2, lte: 5 } }], must_not: [{ has_id: [4] }] },
    limit: 10,
    with_payload: false,
  });
  assert.deepEqual(ids(must.points).sort(), [2, 3, 5]);

  // A point id as the query: the nearest neighbours of point 1, without it.
  const byPoint = await client.query(plain, { query: 1, limit: 3 });
  assert.equal(byPoint.points.length, 3);
  assert.ok(!ids(byPoint.points).includes(1), `query by id returned the point itself: ${ids(byPoint.points)}`);

  const withVec = await client.query(plain, { query, limit: 1, with_vector: true, offset: 1 });
  assert.deepEqual(ids(withVec.points), [1]);
  assert.deepEqual(withVec.points[0].vector, points[0].vector);

  // No query: points in id order, like scroll.
  const noQuery = await client.query(plain, { limit: 2 });
  assert.equal(noQuery.points.length, 2);
});

test('legacy search (POST /points/search; the 1.19 client has no method for it)', async () => {
  const resp = await fetch(`${url}/collections/${plain}/points/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ vector: query, limit: 3, filter: { must: [{ key: 'city', match: { any: ['London', 'Moscow'] } }] }, with_payload: true }),
  });
  assert.equal(resp.status, 200);
  const body = await resp.json();
  assert.equal(body.status, 'ok');
  assert.deepEqual(ids(body.result), [4, 3, 2]);
  assert.deepEqual(body.result[0].payload, points[3].payload);
});

test('scroll with pagination', async () => {
  const seen = [];
  let offset;
  let pages = 0;
  do {
    const page = await client.scroll(plain, { limit: 4, offset, with_payload: true, with_vector: false });
    assert.ok(page.points.length <= 4);
    seen.push(...ids(page.points));
    offset = page.next_page_offset ?? undefined;
    pages++;
    assert.ok(pages < 10, 'scroll does not end');
  } while (offset !== undefined);
  assert.equal(pages, 3);
  assert.deepEqual(seen.map(String).sort(), ['1', '2', '3', '4', '5', '6', '7', '8', uuid].sort());
  assert.deepEqual(seen.slice(0, 8), [1, 2, 3, 4, 5, 6, 7, 8], 'integer ids come first, in order');

  const filtered = await client.scroll(plain, {
    filter: { must: [{ key: 'kind', match: { value: 'batch' } }] },
    limit: 10,
  });
  assert.deepEqual(ids(filtered.points).map(String), ['7', '8', uuid]);
  assert.equal(filtered.next_page_offset ?? null, null);
});

test('count', async () => {
  assert.deepEqual(await client.count(plain, { exact: true }), { count: 9 });
  const c = await client.count(plain, { filter: { must: [{ key: 'city', match: { value: 'Berlin' } }] }, exact: true });
  assert.equal(c.count, 3);
});

test('setPayload, overwritePayload, deletePayload, clearPayload', async () => {
  let r = await client.setPayload(plain, { wait: true, points: [1, 2], payload: { rating: 5, tags: ['a'] } });
  assert.equal(r.status, 'completed');
  assert.deepEqual((await retrieveOne(plain, 1)).payload, { city: 'Berlin', n: 1, rating: 5, tags: ['a'] });

  r = await client.setPayload(plain, { wait: true, filter: { must: [{ key: 'kind', match: { value: 'batch' } }] }, payload: { seen: true } });
  assert.equal(r.status, 'completed');
  assert.equal((await retrieveOne(plain, 8)).payload.seen, true);
  assert.equal((await retrieveOne(plain, 3)).payload.seen, undefined);

  r = await client.setPayload(plain, { wait: true, points: [uuid], payload: { b: 'x' }, key: 'nested' });
  assert.deepEqual((await retrieveOne(plain, uuid)).payload.nested, { a: [1, 2], b: 'x' });

  r = await client.overwritePayload(plain, { wait: true, points: [2], payload: { only: 'this' } });
  assert.equal(r.status, 'completed');
  assert.deepEqual((await retrieveOne(plain, 2)).payload, { only: 'this' });

  r = await client.deletePayload(plain, { wait: true, points: [1], keys: ['city', 'tags'] });
  assert.equal(r.status, 'completed');
  assert.deepEqual((await retrieveOne(plain, 1)).payload, { n: 1, rating: 5 });

  r = await client.clearPayload(plain, { wait: true, points: [3] });
  assert.equal(r.status, 'completed');
  assert.deepEqual((await retrieveOne(plain, 3)).payload, {});
});

test('named vectors: upsert, query with using, updateVectors, deleteVectors', async () => {
  await client.upsert(named, {
    wait: true,
    points: [
      { id: 1, vector: { text: [1, 0, 0], image: [0, 0] }, payload: { n: 1 } },
      { id: 2, vector: { text: [0, 1, 0], image: [1, 1] }, payload: { n: 2 } },
      { id: 3, vector: { text: [0, 0, 2], image: [5, 5] }, payload: { n: 3 } },
    ],
  });

  const p3 = await retrieveOne(named, 3);
  assertVector(p3.vector.text, [0, 0, 1], 'Cosine vectors are stored normalised');
  assert.deepEqual(p3.vector.image, [5, 5]);

  const near = await client.query(named, { query: [0.9, 0.9], using: 'image', limit: 2 });
  assert.deepEqual(ids(near.points), [2, 1]);
  const text = await client.query(named, { query: [0, 0.1, 1], using: 'text', limit: 1 });
  assert.deepEqual(ids(text.points), [3]);

  let r = await client.updateVectors(named, { wait: true, points: [{ id: 1, vector: { image: [9, 9] } }] });
  assert.equal(r.status, 'completed');
  const p1 = await retrieveOne(named, 1);
  assert.deepEqual(p1.vector.image, [9, 9]);
  assertVector(p1.vector.text, [1, 0, 0], 'updateVectors keeps the other vectors');
  assert.deepEqual(p1.payload, { n: 1 });

  r = await client.deleteVectors(named, { wait: true, points: [2], vector: ['text'] });
  assert.equal(r.status, 'completed');
  const p2 = await retrieveOne(named, 2);
  assert.equal(p2.vector.text, undefined);
  assert.deepEqual(p2.vector.image, [1, 1]);
  const textOnly = await client.query(named, { query: [0, 1, 0], using: 'text', limit: 3 });
  assert.ok(!ids(textOnly.points).includes(2), 'a deleted vector is not searched');

  // The unnamed vector of the plain collection.
  r = await client.updateVectors(plain, { wait: true, points: [{ id: 6, vector: [1, 1, 1, 1] }] });
  assert.deepEqual((await retrieveOne(plain, 6)).vector, [1, 1, 1, 1]);
});

test('delete points by ids and by filter', async () => {
  let r = await client.delete(plain, { wait: true, points: [1, 999] });
  assert.equal(r.status, 'completed');
  assert.deepEqual(await client.retrieve(plain, { ids: [1] }), []);

  r = await client.delete(plain, { wait: true, filter: { must: [{ key: 'kind', match: { value: 'batch' } }] } });
  assert.equal(r.status, 'completed');
  const left = await client.scroll(plain, { limit: 100 });
  assert.deepEqual(ids(left.points), [2, 3, 4, 5, 6]);
  assert.deepEqual(await client.count(plain, { exact: true }), { count: 5 });
});

test('deleteCollection', async () => {
  assert.equal(await client.deleteCollection(plain), true);
  assert.equal(await client.deleteCollection(named), true);
  assert.deepEqual(await client.collectionExists(plain), { exists: false });
  const { collections } = await client.getCollections();
  assert.ok(!collections.some((c) => c.name === plain || c.name === named));
});

// Payload indexes, facets, order_by, batch updates and geo/datetime
// filters, on a collection of their own.
const shops = [
  { id: 1, vector: [1, 0, 0, 0], payload: { city: 'Berlin', n: 5, price: 1.5, open: true, loc: { lon: 13.4, lat: 52.52 }, ts: '2024-01-01T00:00:00Z' } },
  { id: 2, vector: [0, 1, 0, 0], payload: { city: ['Berlin', 'London'], n: 3, price: 2.5, open: false, loc: { lon: -0.13, lat: 51.51 }, ts: '2024-01-01T02:00:00+03:00' } },
  { id: 3, vector: [0, 0, 1, 0], payload: { city: 'London', n: 9, price: 0.5, open: true, loc: { lon: 2.35, lat: 48.86 }, ts: '2024-02-01T00:00:00-05:00' } },
  { id: 4, vector: [0, 0, 0, 1], payload: { city: 'Moscow', n: 1, price: 7.25, open: true, loc: { lon: 37.62, lat: 55.75 }, ts: '2023-12-31 23:00:00' } },
  { id: 5, vector: [1, 1, 0, 0], payload: { city: 'Berlin', price: 4, open: false, loc: { lon: 13.0, lat: 52.0 }, ts: '2024-03-01' } },
];

test('createPayloadIndex of every kind, payload_schema, deletePayloadIndex', async () => {
  assert.equal(await client.createCollection(indexed, { vectors: { size: 4, distance: 'Dot' } }), true);
  await client.upsert(indexed, { wait: true, points: shops });
  const schemas = {
    city: 'keyword',
    n: { type: 'integer', lookup: true, range: true },
    price: 'float',
    open: 'bool',
    loc: 'geo',
    ts: { type: 'datetime', is_principal: true },
    note: { type: 'text', tokenizer: 'word', lowercase: true, min_token_len: 2 },
  };
  for (const [field_name, field_schema] of Object.entries(schemas)) {
    const r = await client.createPayloadIndex(indexed, { wait: true, field_name, field_schema });
    assert.equal(r.status, 'completed', field_name);
  }
  const info = await client.getCollection(indexed);
  assert.deepEqual(Object.keys(info.payload_schema).sort(), Object.keys(schemas).sort());
  assert.equal(info.payload_schema.city.data_type, 'keyword');
  assert.equal(info.payload_schema.city.points, 5);
  assert.equal(info.payload_schema.n.points, 4);
  assert.equal(info.payload_schema.n.params.type, 'integer');
  assert.equal(info.payload_schema.n.params.lookup, true);
  assert.equal(info.payload_schema.ts.params.is_principal, true);
  assert.equal(info.payload_schema.note.data_type, 'text');
  assert.equal(info.payload_schema.note.points, 0);

  const r = await client.deletePayloadIndex(indexed, 'note', { wait: true });
  assert.equal(r.status, 'completed');
  assert.equal((await client.getCollection(indexed)).payload_schema.note, undefined);
  // Deleting an index that does not exist is not an error.
  await client.deletePayloadIndex(indexed, 'never_indexed', { wait: true });

  await assert.rejects(
    client.createPayloadIndex(indexed, { wait: true, field_name: 'bad', field_schema: 'nope' }),
    (err) => err.status === 400,
  );
});

test('count with a filter on indexed fields', async () => {
  assert.deepEqual(await client.count(indexed, { filter: { must: [{ key: 'city', match: { value: 'Berlin' } }] }, exact: true }), { count: 3 });
  assert.deepEqual(await client.count(indexed, { filter: { must: [{ key: 'n', range: { gte: 3 } }, { key: 'open', match: { value: true } }] }, exact: true }), { count: 2 });
  const approx = await client.count(indexed, { filter: { must: [{ key: 'city', match: { value: 'London' } }] }, exact: false });
  assert.equal(approx.count, 2);
});

test('facet', async () => {
  const res = await client.facet(indexed, { key: 'city' });
  assert.deepEqual(res.hits, [
    { value: 'Berlin', count: 3 },
    { value: 'London', count: 2 },
    { value: 'Moscow', count: 1 },
  ]);
  const filtered = await client.facet(indexed, { key: 'city', filter: { must: [{ key: 'open', match: { value: true } }] }, limit: 2, exact: true });
  assert.deepEqual(filtered.hits, [
    { value: 'Berlin', count: 1 },
    { value: 'London', count: 1 },
  ]);
  const bools = await client.facet(indexed, { key: 'open' });
  assert.deepEqual(bools.hits, [
    { value: true, count: 3 },
    { value: false, count: 2 },
  ]);
  await assert.rejects(client.facet(indexed, { key: 'price' }), (err) => err.status === 400 && /No appropriate index for faceting/.test(JSON.stringify(err.data)));
});

test('scroll with order_by', async () => {
  const asc = await client.scroll(indexed, { order_by: 'n', limit: 10 });
  assert.deepEqual(ids(asc.points), [4, 2, 1, 3]);
  assert.deepEqual(asc.points.map((p) => p.order_value), [1, 3, 5, 9]);
  assert.equal(asc.next_page_offset ?? null, null);

  const desc = await client.scroll(indexed, { order_by: { key: 'price', direction: 'desc', start_from: 4 }, limit: 2, with_payload: false });
  assert.deepEqual(ids(desc.points), [5, 2]);
  assert.deepEqual(desc.points.map((p) => p.order_value), [4, 2.5]);

  const byDate = await client.scroll(indexed, { order_by: { key: 'ts', start_from: '2024-01-01T00:00:00Z' }, limit: 10 });
  assert.deepEqual(ids(byDate.points), [1, 3, 5]);
  assert.equal(byDate.points[0].order_value, Date.parse('2024-01-01T00:00:00Z') * 1000);

  await assert.rejects(client.scroll(indexed, { order_by: 'city' }), (err) => err.status === 400);
  await assert.rejects(client.scroll(indexed, { order_by: 'n', offset: 2 }), (err) => err.status === 400);
});

test('batchUpdate', async () => {
  const res = await client.batchUpdate(indexed, {
    wait: true,
    operations: [
      { upsert: { points: [{ id: 6, vector: [0, 1, 1, 0], payload: { city: 'Paris', n: 2, open: true } }] } },
      { set_payload: { payload: { city: 'Rome' }, points: [4] } },
      { delete_payload: { keys: ['n'], points: [3] } },
      { overwrite_payload: { payload: { city: 'Oslo' }, points: [5] } },
      { update_vectors: { points: [{ id: 1, vector: [2, 0, 0, 0] }] } },
      { delete: { points: [2] } },
    ],
  });
  assert.equal(res.length, 6);
  for (const r of res) {
    assert.equal(r.status, 'completed');
  }
  const { hits } = await client.facet(indexed, { key: 'city' });
  assert.deepEqual(hits, [
    { value: 'Berlin', count: 1 },
    { value: 'London', count: 1 },
    { value: 'Oslo', count: 1 },
    { value: 'Paris', count: 1 },
    { value: 'Rome', count: 1 },
  ]);
  const info = await client.getCollection(indexed);
  assert.equal(info.points_count, 5);
  assert.equal(info.payload_schema.n.points, 3);
  const byN = await client.scroll(indexed, { order_by: 'n' });
  assert.deepEqual(ids(byN.points), [4, 6, 1]);

  await assert.rejects(
    client.batchUpdate(indexed, { wait: true, operations: [{ upsert: { points: [{ id: 7, vector: [1, 2] }] } }] }),
    (err) => err.status === 400,
  );
  assert.equal((await client.getCollection(indexed)).points_count, 5);
});

test('query with geo and datetime filters', async () => {
  const near = await client.query(indexed, {
    query: [1, 1, 1, 1],
    filter: { must: [{ key: 'loc', geo_radius: { center: { lon: 13.4, lat: 52.5 }, radius: 100000 } }] },
    limit: 10,
  });
  // Point 5 lost its location to overwrite_payload in batchUpdate.
  assert.deepEqual(ids(near.points), [1]);
  const far = await client.query(indexed, {
    query: [1, 1, 1, 1],
    filter: { must: [{ key: 'loc', geo_radius: { center: { lon: 13.4, lat: 52.5 }, radius: 2000000 } }] },
    limit: 10,
  });
  assert.deepEqual(ids(far.points).sort(), [1, 3, 4]);

  const box = await client.query(indexed, {
    query: [1, 0, 0, 0],
    filter: {
      must: [
        { key: 'loc', geo_bounding_box: { top_left: { lon: 0, lat: 60 }, bottom_right: { lon: 40, lat: 50 } } },
        { key: 'ts', range: { gte: '2024-01-01T01:00:00+01:00', lt: '2024-03-01' } },
      ],
    },
    limit: 10,
    with_payload: true,
  });
  assert.deepEqual(ids(box.points), [1]);

  const poly = await client.query(indexed, {
    query: [1, 0, 0, 0],
    filter: {
      must: [
        {
          key: 'loc',
          geo_polygon: {
            exterior: { points: [{ lon: 0, lat: 45 }, { lon: 40, lat: 45 }, { lon: 40, lat: 60 }, { lon: 0, lat: 60 }, { lon: 0, lat: 45 }] },
            interiors: [{ points: [{ lon: 12, lat: 51 }, { lon: 15, lat: 51 }, { lon: 15, lat: 53 }, { lon: 12, lat: 53 }, { lon: 12, lat: 51 }] }],
          },
        },
      ],
      must_not: [{ key: 'ts', range: { lt: '2024-01-01' } }],
    },
    limit: 10,
  });
  assert.deepEqual(ids(poly.points), [3]);
  assert.equal(await client.deleteCollection(indexed), true);
});
