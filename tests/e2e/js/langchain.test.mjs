// LangChain JS (@langchain/qdrant and @langchain/core, pinned in
// package-lock.json) against a running Shoal, the way LangChain users drive
// Qdrant: a QdrantVectorStore over a hybrid-ready collection (a dense and a
// sparse vector), fed by a deterministic fake Embeddings class, with the
// sparse side written and queried through Qdrant's JS client on the same
// collection. Run by TestJSClient (tests/e2e/js_test.go), or by hand:
//   QDRANT_URL=http://127.0.0.1:6333 node --test langchain.test.mjs
//
// @langchain/qdrant 1.0.x has no vectorName and no sparse or hybrid
// retrieval (unlike the Python package): it writes and searches the
// collection's unnamed dense vector and builds its own QdrantClient from
// url. So the hybrid-ready collection is the one LangChain can use: an
// unnamed dense vector beside a named sparse vector, made by LangChain from
// collectionConfig.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { QdrantClient } from '@qdrant/js-client-rest';
import { QdrantVectorStore } from '@langchain/qdrant';
import { Embeddings } from '@langchain/core/embeddings';
import { Document } from '@langchain/core/documents';

const url = process.env.QDRANT_URL;
if (!url) {
  throw new Error('QDRANT_URL is not set');
}

const client = new QdrantClient({ url, checkCompatibility: false });
const suffix = `${process.pid}_${Date.now()}`;
const hybrid = `lc_hybrid_${suffix}`;
const plain = `lc_plain_${suffix}`;
const named = `lc_named_${suffix}`;

after(async () => {
  for (const name of [hybrid, plain, named]) {
    try {
      await client.deleteCollection(name);
    } catch {
      // never created
    }
  }
});

// ---- a deterministic embedding model: words hashed into 16 dimensions ----

const DIM = 16;
const STOP = new Set(['a', 'an', 'and', 'are', 'by', 'for', 'in', 'of', 'over', 'the', 'to']);

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const words = (text) => (text.toLowerCase().match(/[a-z]+/g) ?? []).filter((w) => !STOP.has(w));

function denseOf(text) {
  const v = new Array(DIM).fill(0);
  for (const w of words(text)) {
    const h = fnv1a(w);
    v[h % DIM] += 1 + ((h >>> 8) & 0xff) / 256;
    v[(h >>> 4) % DIM] += 0.5;
  }
  return v;
}

// sparseOf is the text's bag of words: index = hash mod 4096, value = count
// over the square root of the number of words (so that short texts weigh
// more), sorted by index as Qdrant stores it.
function sparseOf(text) {
  const ws = words(text);
  const m = new Map();
  for (const w of ws) {
    const i = fnv1a(w) % 4096;
    m.set(i, (m.get(i) ?? 0) + 1);
  }
  const indices = [...m.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => Math.fround(m.get(i) / Math.sqrt(ws.length))) };
}

class HashEmbeddings extends Embeddings {
  constructor() {
    super({});
    this.documents = 0;
    this.queries = 0;
  }

  async embedDocuments(texts) {
    this.documents += texts.length;
    return texts.map(denseOf);
  }

  async embedQuery(text) {
    this.queries++;
    return denseOf(text);
  }
}

// ---- the corpus ----

const uuid = (i) => `7f3e2a10-0000-4000-8000-${String(i).padStart(12, '0')}`;
const corpus = [
  ['the quick brown fox jumps over the lazy dog', { topic: 'animals', year: 2020 }],
  ['salmon swim upstream to spawn in cold rivers', { topic: 'fish', year: 2021 }],
  ['a brown bear catches salmon in the river', { topic: 'animals', year: 2022 }],
  ['trout and salmon are freshwater fish', { topic: 'fish', year: 2019 }],
  ['go channels and goroutines make concurrency simple', { topic: 'code', year: 2023 }],
  ['vector databases index embeddings for nearest neighbour search', { topic: 'code', year: 2024, tags: ['search', 'db'] }],
  ['sparse vectors score documents by shared words', { topic: 'code', year: 2024, tags: ['search', 'sparse'] }],
  ['the dog and the fox are friends', { topic: 'animals', year: 2018 }],
].map(([text, metadata], i) => new Document({ id: uuid(i + 1), pageContent: text, metadata }));

// live is the oracle's view of the collection: id -> Document.
const live = new Map(corpus.map((d) => [d.id, d]));

// ---- oracles ----

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

// rank sorts scored ids best first and checks that the first k+1 have no
// near-ties, so that the order a server must return is unique.
function rank(scored, k) {
  scored.sort((x, y) => y.score - x.score);
  for (let i = 1; i < Math.min(k + 1, scored.length); i++) {
    assert.ok(scored[i - 1].score - scored[i].score > 1e-4, `test data: near-tie at rank ${i}: ${JSON.stringify(scored.slice(0, k + 1))}`);
  }
  return scored.slice(0, k);
}

// expectDense is the cosine top k among live documents that keep passes.
function expectDense(query, k, keep = () => true) {
  const q = denseOf(query);
  const scored = [...live.values()].filter(keep).map((d) => ({ id: d.id, score: cosine(q, denseOf(d.pageContent)) }));
  return rank(scored, k);
}

// expectSparse is Qdrant's sparse score with modifier idf over the points
// that have the sparse vector: sum of q_i * idf_i * d_i over shared indices,
// idf_i = ln((n - df_i + 0.5) / (df_i + 0.5) + 1); points sharing no index are
// not returned.
function expectSparse(query, withSparse, keep = () => true) {
  const docs = [...withSparse].map((id) => ({ id, v: sparseOf(live.get(id).pageContent) }));
  const n = docs.length;
  const df = new Map();
  for (const { v } of docs) {
    for (const i of v.indices) df.set(i, (df.get(i) ?? 0) + 1);
  }
  const idf = (i) => Math.log((n - df.get(i) + 0.5) / (df.get(i) + 0.5) + 1);
  const q = sparseOf(query);
  const scored = [];
  for (const { id, v } of docs) {
    if (!keep(live.get(id))) continue;
    let score = 0;
    let shared = false;
    q.indices.forEach((qi, j) => {
      const at = v.indices.indexOf(qi);
      if (at >= 0) {
        shared = true;
        score += q.values[j] * idf(qi) * v.values[at];
      }
    });
    if (shared) scored.push({ id, score });
  }
  return rank(scored, scored.length);
}

function assertScores(got, want, msg) {
  assert.deepEqual(got.map((x) => x.id), want.map((x) => x.id), `${msg}: ids`);
  got.forEach((x, i) => assert.ok(Math.abs(x.score - want[i].score) < 1e-4, `${msg}: score of ${x.id} ${x.score} != ${want[i].score}`));
}

// docOf is the Document LangChain must return for id.
function docOf(id) {
  const d = live.get(id);
  return new Document({ id, pageContent: d.pageContent, metadata: d.metadata });
}

const metadataIs = (key, value) => ({ must: [{ key: `metadata.${key}`, match: { value } }] });

// ---- the tests, in order: each one builds on the collection the last left ----

const embeddings = new HashEmbeddings();
const hybridConfig = {
  vectors: { size: DIM, distance: 'Cosine' },
  sparse_vectors: { text: { modifier: 'idf' } },
};
let store;

test('LangChain runs on the pinned Qdrant JS client', () => {
  const pinned = JSON.parse(readFileSync(new URL('./node_modules/@qdrant/js-client-rest/package.json', import.meta.url), 'utf8'));
  assert.equal(pinned.version, '1.19.0');
  assert.ok(
    !existsSync(new URL('./node_modules/@langchain/qdrant/node_modules/@qdrant', import.meta.url)),
    '@langchain/qdrant has a client of its own: the lock must dedupe it to the pinned 1.19.0',
  );
  store = new QdrantVectorStore(embeddings, { url, collectionName: hybrid, collectionConfig: hybridConfig });
  assert.ok(store.client instanceof QdrantClient, 'the store builds its client from the module the tests import');
});

test('addDocuments creates the hybrid-ready collection from collectionConfig and writes content and metadata', async () => {
  await store.addDocuments(corpus);
  assert.equal(embeddings.documents, corpus.length);

  const info = await client.getCollection(hybrid);
  assert.deepEqual(info.config.params.vectors, { size: DIM, distance: 'Cosine' });
  assert.deepEqual(info.config.params.sparse_vectors, { text: { modifier: 'idf' } });
  assert.equal((await client.count(hybrid, { exact: true })).count, corpus.length);

  const rs = await client.retrieve(hybrid, { ids: corpus.map((d) => d.id), with_payload: true, with_vector: true });
  assert.deepEqual(rs.map((r) => r.id).sort(), corpus.map((d) => d.id).sort());
  for (const r of rs) {
    const d = live.get(r.id);
    assert.deepEqual(r.payload, { content: d.pageContent, metadata: d.metadata }, `payload of ${r.id}`);
    // The unnamed dense vector, normalised for Cosine, and no sparse vector yet.
    assert.ok(Array.isArray(r.vector), `vector of ${r.id}: ${JSON.stringify(r.vector)}`);
    const want = denseOf(d.pageContent);
    const norm = Math.hypot(...want);
    r.vector.forEach((x, i) => assert.ok(Math.abs(x - want[i] / norm) < 1e-6, `vector of ${r.id}[${i}]`));
  }
});

test('similaritySearch and similaritySearchWithScore return the cosine top k', async () => {
  for (const [query, k] of [
    ['salmon in the river', 3],
    ['brown fox and dog', 4],
    ['nearest neighbour search over vectors', 2],
    ['freshwater trout', 5],
  ]) {
    const want = expectDense(query, k);
    const docs = await store.similaritySearch(query, k);
    assert.deepEqual(docs, want.map((w) => docOf(w.id)), `similaritySearch(${query}, ${k})`);

    const scored = await store.similaritySearchWithScore(query, k);
    assert.deepEqual(scored.map(([d]) => d), want.map((w) => docOf(w.id)), `similaritySearchWithScore(${query}, ${k})`);
    assertScores(scored.map(([d, score]) => ({ id: d.id, score })), want, `similaritySearchWithScore(${query}, ${k})`);
  }
  // k larger than the collection returns all of it.
  assert.equal((await store.similaritySearch('dog', 50)).length, corpus.length);
});

test('a metadata filter (Qdrant filter on metadata.*) narrows the search', async () => {
  const cases = [
    ['salmon in the river', 2, metadataIs('topic', 'fish'), (d) => d.metadata.topic === 'fish'],
    ['brown fox and dog', 3, metadataIs('topic', 'animals'), (d) => d.metadata.topic === 'animals'],
    ['search', 2, metadataIs('tags', 'search'), (d) => d.metadata.tags?.includes('search')],
    [
      'salmon bear fox',
      4,
      { must: [{ key: 'metadata.year', range: { gte: 2020 } }], must_not: [{ key: 'metadata.topic', match: { value: 'code' } }] },
      (d) => d.metadata.year >= 2020 && d.metadata.topic !== 'code',
    ],
  ];
  for (const [query, k, filter, keep] of cases) {
    const want = expectDense(query, k, keep);
    assert.ok(want.length > 0, 'test data: the filter keeps something');
    const scored = await store.similaritySearchWithScore(query, k, filter);
    assert.deepEqual(scored.map(([d]) => d), want.map((w) => docOf(w.id)), `${query} under ${JSON.stringify(filter)}`);
    assertScores(scored.map(([d, score]) => ({ id: d.id, score })), want, `${query} under ${JSON.stringify(filter)}`);
  }
  assert.deepEqual(await store.similaritySearch('salmon', 4, metadataIs('topic', 'nothing')), []);

  // The retriever, as chains use it, passes k and the filter through.
  const retriever = store.asRetriever({ k: 2, filter: metadataIs('topic', 'code') });
  const want = expectDense('concurrency in go', 2, (d) => d.metadata.topic === 'code');
  assert.deepEqual(await retriever.invoke('concurrency in go'), want.map((w) => docOf(w.id)));
});

// withSparse is the set of ids whose point has the sparse vector `text`.
const withSparse = new Set();

test('the JS client adds sparse vectors to the points LangChain wrote, and the dense side is kept', async () => {
  const r = await client.updateVectors(hybrid, {
    wait: true,
    points: corpus.map((d) => ({ id: d.id, vector: { text: sparseOf(d.pageContent) } })),
  });
  assert.equal(r.status, 'completed');
  corpus.forEach((d) => withSparse.add(d.id));

  const [p] = await client.retrieve(hybrid, { ids: [corpus[2].id], with_payload: true, with_vector: true });
  assert.deepEqual(Object.keys(p.vector).sort(), ['', 'text'], 'a point with the unnamed dense and a sparse vector reads as named vectors');
  // Values come back as float32 (the shortest decimal that reads back as it).
  const text = p.vector.text;
  assert.deepEqual({ indices: text.indices, values: text.values.map(Math.fround) }, sparseOf(corpus[2].pageContent));
  assert.equal(p.vector[''].length, DIM);
  assert.deepEqual(p.payload, { content: corpus[2].pageContent, metadata: corpus[2].metadata });

  // LangChain's dense search is unchanged by the new sparse vectors.
  const want = expectDense('salmon in the river', 3);
  assert.deepEqual(await store.similaritySearch('salmon in the river', 3), want.map((w) => docOf(w.id)));
});

async function sparseQuery(query, filter) {
  const res = await client.query(hybrid, {
    query: sparseOf(query),
    using: 'text',
    filter,
    limit: 50,
    with_payload: ['content'],
  });
  return res.points;
}

test('a sparse query on the same collection scores by dot product with idf', async () => {
  for (const query of ['salmon river', 'brown fox dog', 'search vectors', 'salmon salmon trout fish']) {
    const want = expectSparse(query, withSparse);
    assert.ok(want.length > 0, `test data: ${query} shares words with the corpus`);
    const got = await sparseQuery(query);
    assertScores(got, want, `sparse ${query}`);
    got.forEach((p) => assert.equal(p.payload.content, live.get(p.id).pageContent));
  }
  const filter = metadataIs('topic', 'animals');
  const want = expectSparse('salmon brown dog', withSparse, (d) => d.metadata.topic === 'animals');
  assertScores(await sparseQuery('salmon brown dog', filter), want, 'sparse under a metadata filter');
  assert.deepEqual(await sparseQuery('zebra'), [], 'no shared word, no hit');
});

test('delete by ids and by filter through LangChain', async () => {
  const gone = corpus[0].id;
  await store.delete({ ids: [gone] });
  live.delete(gone);
  withSparse.delete(gone);
  assert.equal((await client.count(hybrid, { exact: true })).count, live.size);
  const dogs = expectDense('brown fox and dog', 3);
  assert.deepEqual(await store.similaritySearch('brown fox and dog', 3), dogs.map((w) => docOf(w.id)));
  assert.ok(!dogs.some((w) => w.id === gone));

  await store.delete({ filter: metadataIs('topic', 'code') });
  for (const d of corpus) {
    if (d.metadata.topic === 'code') {
      live.delete(d.id);
      withSparse.delete(d.id);
    }
  }
  assert.equal((await client.count(hybrid, { exact: true })).count, live.size);
  const all = await store.similaritySearch('search vectors', 50);
  assert.deepEqual(all.map((d) => d.id).sort(), [...live.keys()].sort());

  // Deleted points leave the sparse side too (which points match, not their
  // order: Qdrant's idf statistics may lag deletions until optimization).
  for (const query of ['salmon brown fox dog', 'search vectors shared words']) {
    const got = await sparseQuery(query);
    const want = expectSparse(query, withSparse);
    assert.deepEqual(got.map((p) => p.id).sort(), want.map((w) => w.id).sort(), `sparse ${query} after deletes`);
  }
  await assert.rejects(store.delete({}), /Either ids or filter must be provided/);
});

test('fromExistingCollection reads and writes the collection without recreating it', async () => {
  const again = await QdrantVectorStore.fromExistingCollection(new HashEmbeddings(), { url, collectionName: hybrid });
  const want = expectDense('salmon in the river', 3);
  assert.deepEqual(await again.similaritySearch('salmon in the river', 3), want.map((w) => docOf(w.id)));

  const added = new Document({ id: uuid(100), pageContent: 'otters eat crabs on the shore', metadata: { topic: 'animals', year: 2025 } });
  await again.addDocuments([added]);
  live.set(added.id, added);
  const [top] = await again.similaritySearchWithScore('otters eat crabs on the shore', 1);
  assert.deepEqual(top[0], docOf(added.id));
  assert.ok(Math.abs(top[1] - 1) < 1e-5, `a document's own text scores 1, got ${top[1]}`);

  // The original store sees it, the config (with its sparse vector) is the one LangChain made.
  assert.deepEqual(await store.similaritySearch('otters eat crabs', 1, metadataIs('year', 2025)), [docOf(added.id)]);
  const info = await client.getCollection(hybrid);
  assert.deepEqual(info.config.params.vectors, { size: DIM, distance: 'Cosine' });
  assert.deepEqual(info.config.params.sparse_vectors, { text: { modifier: 'idf' } });
  assert.equal((await client.count(hybrid, { exact: true })).count, live.size);
});

test('fromDocuments without collectionConfig makes LangChain\'s default collection, with customPayload', async () => {
  const docs = corpus.slice(0, 3);
  const emb = new HashEmbeddings();
  const s = await QdrantVectorStore.fromDocuments(docs, emb, {
    url,
    collectionName: plain,
    customPayload: docs.map((d, i) => ({ rank: i, source: 'unit' })),
  });
  const info = await client.getCollection(plain);
  // LangChain sizes the vector by embedding "test".
  assert.deepEqual(info.config.params.vectors, { size: DIM, distance: 'Cosine' });
  assert.equal(info.config.params.sparse_vectors, undefined);
  const rs = await client.retrieve(plain, { ids: docs.map((d) => d.id), with_payload: true });
  for (const r of rs) {
    const i = docs.findIndex((d) => d.id === r.id);
    assert.deepEqual(r.payload, { content: docs[i].pageContent, metadata: docs[i].metadata, customPayload: { rank: i, source: 'unit' } });
  }
  const [first] = await s.similaritySearch(docs[1].pageContent, 1);
  assert.deepEqual(first, new Document({ id: docs[1].id, pageContent: docs[1].pageContent, metadata: docs[1].metadata }));
});

test('a named dense vector is out of LangChain 1.0\'s reach: Qdrant\'s error reaches the user', async () => {
  // LangChain writes an unnamed vector; a collection with only named vectors
  // refuses it as Qdrant does.
  await client.createCollection(named, {
    vectors: { dense: { size: DIM, distance: 'Cosine' } },
    sparse_vectors: { text: {} },
  });
  const s = new QdrantVectorStore(new HashEmbeddings(), { url, collectionName: named });
  await assert.rejects(s.addDocuments(corpus.slice(0, 1)), (err) => {
    assert.match(err.message, /^400 .*: Wrong input: Not existing vector name error: $/);
    return true;
  });
});

// expectMMR is Qdrant 1.19's maximal marginal relevance (query nearest +
// mmr): the fetchK nearest candidates, the nearest first, then greedily the
// candidate with the best lambda * sim(query) - (1 - lambda) * max sim(picked),
// lambda = 1 - diversity, similarities by the collection's distance; each
// hit keeps its query score.
function expectMMR(query, k, fetchK, diversity) {
  const candidates = expectDense(query, fetchK);
  const vec = (id) => denseOf(live.get(id).pageContent);
  const lambda = 1 - diversity;
  const picked = [candidates.shift()];
  while (picked.length < k && candidates.length > 0) {
    const mmr = candidates.map((c) => ({
      c,
      score: lambda * c.score - (1 - lambda) * Math.max(...picked.map((p) => cosine(vec(c.id), vec(p.id)))),
    }));
    mmr.sort((x, y) => y.score - x.score);
    assert.ok(mmr.length < 2 || mmr[0].score - mmr[1].score > 1e-4, 'test data: an mmr near-tie');
    picked.push(mmr[0].c);
    candidates.splice(candidates.indexOf(mmr[0].c), 1);
  }
  return picked;
}

// LangChain sends its lambda as Qdrant's diversity (0 = relevance, 1 =
// diversity), the reverse of its own docs; 0.5 means the same either way.
test('maxMarginalRelevanceSearch (query nearest + mmr)', { todo: 'Shoal does not serve mmr queries yet (400 "mmr is not supported")' }, async () => {
  const query = 'brown fox and dog';
  const want = expectMMR(query, 3, 6, 0.5);
  assert.notDeepEqual(want.map((w) => w.id), expectDense(query, 3).map((w) => w.id), 'test data: mmr differs from the top k');
  const docs = await store.maxMarginalRelevanceSearch(query, { k: 3, fetchK: 6, lambda: 0.5 });
  assert.deepEqual(docs, want.map((w) => docOf(w.id)));
});
