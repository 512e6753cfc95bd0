// Package ops is the engine's request vocabulary: the update operations
// (Operation: upsert, delete, payload and vector updates, payload index
// changes, named vectors added to or dropped from a shard) and the read requests (SearchRequest, QueryRequest,
// ScrollRequest, CountRequest, FacetRequest, the payload and vector
// selectors) that every API builds and that collection executes. REST, the
// gRPC API and P2P build the same values, so they mean the same thing
// whichever way they arrive; no API needs the shard's, the segment's or
// the index's types to say what it wants.
//
// Values are plain Go data: ids, vectors and payloads of package point,
// filters of package filter, and types of their own where an engine package
// has a richer one (FieldSchema for a payload index schema,
// QuantizationSearchParams for quantized search); collection and shard
// convert them to those below.
//
// Encoding (codec.go): an Operation has one binary encoding, the payload of
// a shard's WAL record and of a forwarded update. It starts with its
// version (EncodingVersion: 3; version 1, without the sparse parts, and
// version 2, without the update mode and condition, are still decoded;
// create_vector_name and delete_vector_name came as new kinds, leaving the
// bytes of every other kind as they were; testdata holds the bytes each
// version wrote), is deterministic (one value, one byte string:
// vector names sorted, JSON parts in their canonical form) and
// DecodeOperation turns any input it does not accept into an error wrapping
// ErrMalformed, never a panic, allocating no more than its input justifies:
//
//	operation = version:u8 kind:u8 fields
//	fields (by kind; see Operation)
//	  upsert             points mode condition
//	  delete             selector
//	  set_payload        selector payload key:string
//	  overwrite_payload  selector payload
//	  delete_payload     selector strings
//	  clear_payload      selector
//	  update_vectors     pointvectors condition
//	  delete_vectors     selector strings
//	  create_index       key:string schema:bytes (FieldSchema JSON)
//	  delete_index       key:string
//	  create_vector_name key:string config:bytes (VectorNameConfig JSON)
//	  delete_vector_name key:string
//	selector     = 0:u8 ids | 1:u8 filter:bytes (canonical filter JSON)
//	mode         = u8: 0 upsert, 1 insert_only, 2 update_only (version 3)
//	condition    = 0:u8 | 1:u8 filter:bytes, the update filter (version 3)
//	payload      = 0:u8 (null) | 1:u8 bytes (JSON object)
//	points       = count (id vectors sparse payload)*
//	pointvectors = count (id vectors sparse)*
//	vectors      = count (name:string dim:uvarint dim*f32le)*, names ascending
//	sparse       = count (name:string n:uvarint n*index:uvarint n*f32le)*, names ascending
//	ids          = count id*
//	id           = 0:u8 uvarint | 1:u8 16 bytes (UUID)
//	strings      = count string*
//	string/bytes = uvarint length, bytes
//	count        = uvarint
//
// Read requests (readcodec.go) have an encoding of their own, the body of
// a read one peer asks of a shard replica on another over P2P: version
// (ReadEncodingVersion: 1; testdata/read_encoding.golden holds its bytes),
// then the kind, so that a decoder refuses a request of another kind. It
// is deterministic in the same way and its decoders (DecodeSearchRequest,
// DecodeScrollRequest, DecodeCountRequest, DecodeFacetRequest,
// DecodeRetrieveRequest) refuse what they do not accept with ErrMalformed:
//
//	read     = version:u8 kind:u8 fields
//	  search   using:string flags:u8 [dense] [sparse1] [id] optfilter
//	           limit:uvarint offset:uvarint optf32 payloadsel vectorsel params
//	  scroll   optfilter optid orderby limit:uvarint payloadsel vectorsel
//	  count    optfilter exact:bool
//	  facet    key:string optfilter limit:uvarint exact:bool
//	  retrieve ids payloadsel vectorsel
//	flags      = bit 0 dense, bit 1 sparse, bit 2 id (each present when set)
//	dense      = count f32le*; sparse1 = n:uvarint n*index:uvarint n*f32le
//	params     = ef:uvarint flags:u8 (exact, indexed_only, quantization)
//	             [qflags:u8 (ignore, has rescore, rescore, has oversampling) [f64le]]
//	orderby    = 0:u8 | 1:u8 key:string desc:bool startfrom
//	startfrom  = 0:u8 | 1:u8 f64le | 2:u8 datetime:string | 3:u8 (neither)
//	payloadsel = enable:bool include:strings exclude:strings (payload paths)
//	vectorsel  = enable:bool names:strings
//	optfilter  = 0:u8 | 1:u8 filter:bytes; optid = 0:u8 | 1:u8 id; optf32 = 0:u8 | 1:u8 f32le
//
// Operations are values: nothing here does I/O or starts goroutines, and a
// value is safe for concurrent reads. The collection normalises the vectors
// of an operation it is handed in place, so a caller does not reuse an
// operation after passing it on.
package ops
