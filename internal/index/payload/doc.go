// Package payload owns the payload field indexes of a segment, in
// primitive terms: a point is its uint32 offset in the segment, a payload
// value is what point.Payload holds (nil, bool, json.Number, string, []any,
// map[string]any; Go numbers too), and a query answers with a Postings,
// the set of matching offsets. The package knows nothing of filters or
// segments: the segment keeps one Index per indexed key path, calls Add
// and Remove as points change, and asks the typed query methods for
// posting lists.
//
// What it owns:
//   - Schema: Qdrant's PayloadFieldSchema (ParseSchema, MarshalJSON, Info
//     for payload_schema), including the full-text parameters;
//   - the eight index types: KeywordIndex, IntegerIndex, FloatIndex,
//     BoolIndex, DatetimeIndex, UUIDIndex, GeoIndex and TextIndex;
//   - Tokenizer, the full-text tokenizers, and ParseDatetime, Qdrant's
//     datetime formats;
//   - Postings, a compressed bitmap with Intersect, Union and Difference;
//   - the persisted form of every index (Encode, Decode).
//
// Every query answer is exact: it equals a scan of the same values with
// Qdrant's semantics (the geo index checks each candidate's coordinates).
// Which values an index takes follows Qdrant's ValueIndexer: a value of
// the wrong type is ignored.
//
// Thread safety: an index is not safe for concurrent use when one of the
// goroutines mutates it (Add, Remove); any number of goroutines may query
// it at once otherwise. Returned Postings belong to the caller. Nothing
// here starts goroutines or does I/O beyond the io.Writer and io.Reader
// given to Encode and Decode.
package payload
