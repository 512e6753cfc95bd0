// A hybrid-ready collection (a dense and a sparse vector, as LangChain's
// and the client's hybrid examples make) driven with Qdrant's official JS
// REST client. Run by TestJSClient (tests/e2e/js_test.go), or by hand:
//   QDRANT_URL=http://127.0.0.1:6333 node --test sparse.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { QdrantClient } from '@qdrant/js-client-rest';

const url = process.env.QDRANT_URL;
if (!url) {
  throw new Error('QDRANT_URL is not set');
}

const client = new QdrantClient({ url, checkCompatibility: false });
const hybrid = `js_hybrid_${process.pid}_${Date.now()}`;

after(async () => {
  try {
    await client.deleteCollection(hybrid);
  } catch {
    // already deleted
  }
});

const docs = [
  { id: 1, dense: [0.05, 0.61, 0.76, 0.74], sparse: { indices: [10, 3], values: [0.5, 1.5] }, payload: { city: 'Berlin' } },
  { id: 2, dense: [0.19, 0.81, 0.75, 0.11], sparse: { indices: [3, 7, 11], values: [1, 1, 1] }, payload: { city: 'London' } },
  { id: 3, dense: [0.36, 0.55, 0.47, 0.94], sparse: { indices: [42], values: [2] }, payload: { city: 'Berlin' } },
  { id: 4, dense: [0.18, 0.01, 0.85, 0.8], payload: { city: 'Moscow' } },
];

test('create a hybrid collection and read its config back', async () => {
  assert.equal(
    await client.createCollection(hybrid, {
      vectors: { dense: { size: 4, distance: 'Dot' } },
      sparse_vectors: { text: { modifier: 'idf', index: { on_disk: false } } },
    }),
    true,
  );
  const info = await client.getCollection(hybrid);
  assert.deepEqual(info.config.params.sparse_vectors, { text: { modifier: 'idf', index: { on_disk: false } } });
  assert.deepEqual(info.config.params.vectors, { dense: { size: 4, distance: 'Dot' } });
});

test('upsert dense and sparse vectors, retrieve them by name', async () => {
  const r = await client.upsert(hybrid, {
    wait: true,
    points: docs.map((d) => ({
      id: d.id,
      vector: d.sparse ? { dense: d.dense, text: d.sparse } : { dense: d.dense },
      payload: d.payload,
    })),
  });
  assert.equal(r.status, 'completed');
  const rs = await client.retrieve(hybrid, { ids: [1, 4], with_vector: true });
  assert.deepEqual(rs[0].vector.text, { indices: [3, 10], values: [1.5, 0.5] }, 'stored sorted by index');
  assert.deepEqual(Object.keys(rs[1].vector), ['dense']);
  const only = await client.retrieve(hybrid, { ids: [2], with_vector: ['text'] });
  assert.deepEqual(only[0].vector, { text: { indices: [3, 7, 11], values: [1, 1, 1] } });
});

test('query by sparse vector: idf, filter, nearest and legacy search', async () => {
  // idf: index 3 is in two of three documents, 42 in one.
  const res = await client.query(hybrid, { query: { indices: [3, 42], values: [1, 1] }, using: 'text', with_payload: true });
  assert.deepEqual(res.points.map((p) => p.id), [3, 1, 2]);
  const n = 3;
  const idf = (df) => Math.log((n - df + 0.5) / (df + 0.5) + 1);
  assert.ok(Math.abs(res.points[0].score - 2 * idf(1)) < 1e-5, `score ${res.points[0].score}`);
  assert.ok(Math.abs(res.points[1].score - 1.5 * idf(2)) < 1e-5, `score ${res.points[1].score}`);

  const filtered = await client.query(hybrid, {
    query: { nearest: { indices: [3, 42], values: [1, 1] } },
    using: 'text',
    filter: { must: [{ key: 'city', match: { value: 'London' } }] },
  });
  assert.deepEqual(filtered.points.map((p) => p.id), [2]);

  const dense = await client.query(hybrid, { query: [0.2, 0.1, 0.9, 0.7], using: 'dense', limit: 2 });
  assert.equal(dense.points.length, 2);

  // The 1.19 client has no method for the legacy search.
  const resp = await fetch(`${url}/collections/${hybrid}/points/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ vector: { name: 'text', vector: { indices: [7], values: [2] } }, limit: 5 }),
  });
  assert.equal(resp.status, 200);
  assert.deepEqual((await resp.json()).result.map((p) => p.id), [2]);
});

test('validation: duplicate indices are refused with Qdrant\'s text', async () => {
  await assert.rejects(
    client.upsert(hybrid, { wait: true, points: [{ id: 9, vector: { text: { indices: [1, 1], values: [1, 2] } } }] }),
    (err) => err.status === 422 && /points\[0\]\.vector\.\?\.indices: Validation error: must be unique/.test(String(err?.data?.status?.error)),
  );
});
