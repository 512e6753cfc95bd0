// Package quant owns vector quantization as Qdrant does it: the parsed
// QuantizationConfig (scalar int8, product, binary, turbo) and QuantizationSearch
// Params, training on a sample, encoding a segment's vectors, approximate
// scoring of a query against the codes, and the codes' on-disk format.
//
// A segment uses it in three steps: Build (or Train then Quantizer.Encode)
// once when the segment is sealed, Encoded.Scorer once per query, and
// Scorer.Score per candidate offset. Scores follow vector.Distance.Score
// (similarity for Cosine and Dot, distance for Euclid and Manhattan) but
// are approximate; a search that wants exact scores takes the top
// limit*oversampling by quantized score and rescores them with the
// original vectors (SearchParams.Candidates, SearchParams.ShouldRescore).
//
// Vectors and queries are given as stored: normalised for Cosine
// (vector.Distance.Preprocess).
//
// Thread safety: Config, Quantizer and Encoded are immutable after
// construction; a Scorer does not change after Encoded.Scorer returns, so
// all of them may be shared between goroutines. Build and Encode call the
// caller's vec function from the calling goroutine only, and spread the
// PQ and turbo work over GOMAXPROCS goroutines that end before they return.
//
// Files: config.go parses the wire configs, quant.go holds the API and
// sampling, scalar.go, binary.go, product.go (with kmeans.go) and turbo.go
// the four methods, codec.go the stream format shared by Encode and Decode
// (turbo_codec.go its turbo part).
package quant
