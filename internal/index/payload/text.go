package payload

import (
	"io"
	"slices"
)

// TextIndex is a full-text index over string values: an inverted index
// from token to points, plus each point's tokens (in document order when
// phrase matching is on) for removal and phrase checks. As in Qdrant, a
// point's strings are tokenized into one document: Match needs all query
// tokens somewhere in the point's strings, and a phrase may run from the
// end of one string into the next.
type TextIndex struct {
	schema  Schema
	tok     *Tokenizer
	phrase  bool
	vocab   map[string]uint32
	tokens  []string
	posts   []Postings
	free    []uint32
	docs    perPoint[uint32]
	present Postings
	nvalues int
}

// NewTextIndex returns an empty text index.
func NewTextIndex(s Schema) *TextIndex {
	return &TextIndex{
		schema: s,
		tok:    NewTokenizer(s),
		phrase: s.PhraseEnabled(),
		vocab:  map[string]uint32{},
	}
}

// Schema implements Index.
func (x *TextIndex) Schema() Schema { return x.schema }

// Tokenizer returns the index's tokenizer.
func (x *TextIndex) Tokenizer() *Tokenizer { return x.tok }

// Add implements Index.
func (x *TextIndex) Add(off uint32, values []any) {
	x.Remove(off)
	var toks []string
	has := false
	for _, v := range values {
		if s, ok := v.(string); ok {
			has = true
			x.tok.Tokenize(s, func(t string) { toks = append(toks, t) })
		}
	}
	if has {
		x.setTokens(off, toks)
	}
}

func (x *TextIndex) intern(t string) uint32 {
	if id, ok := x.vocab[t]; ok {
		return id
	}
	var id uint32
	if n := len(x.free); n > 0 {
		id = x.free[n-1]
		x.free = x.free[:n-1]
		x.tokens[id] = t
	} else {
		id = uint32(len(x.tokens))
		x.tokens = append(x.tokens, t)
		x.posts = append(x.posts, Postings{})
	}
	x.vocab[t] = id
	return id
}

// setTokens indexes off with the document toks (possibly none).
func (x *TextIndex) setTokens(off uint32, toks []string) {
	ids := make([]uint32, len(toks))
	for i, t := range toks {
		ids[i] = x.intern(t)
	}
	set := sortedDistinct(slices.Clone(ids))
	for _, id := range set {
		x.posts[id].Add(off)
	}
	if x.phrase {
		x.docs.set(off, ids)
	} else {
		x.docs.set(off, set)
	}
	x.present.Add(off)
	x.nvalues += len(set)
}

// Remove implements Index.
func (x *TextIndex) Remove(off uint32) {
	if !x.present.Remove(off) {
		return
	}
	set := x.docs.get(off)
	if x.phrase {
		set = sortedDistinct(slices.Clone(set))
	}
	for _, id := range set {
		p := &x.posts[id]
		p.Remove(off)
		if p.Len() == 0 {
			delete(x.vocab, x.tokens[id])
			x.tokens[id] = ""
			*p = Postings{}
			x.free = append(x.free, id)
		}
	}
	x.nvalues -= len(set)
	x.docs.del(off)
}

// Points implements Index.
func (x *TextIndex) Points() int { return x.present.Len() }

// Values implements Index.
func (x *TextIndex) Values() int { return x.nvalues }

// postingsOf returns the posting lists of the distinct tokens, and false
// if a token is not in the index.
func (x *TextIndex) postingsOf(toks []string) ([]*Postings, bool) {
	slices.Sort(toks)
	toks = slices.Compact(toks)
	ps := make([]*Postings, 0, len(toks))
	for _, t := range toks {
		id, ok := x.vocab[t]
		if !ok {
			return nil, false
		}
		ps = append(ps, &x.posts[id])
	}
	return ps, true
}

// Match returns the points whose text holds every token of the query
// (`match: {text}`). A query without tokens, or with a token no point
// has, matches nothing.
func (x *TextIndex) Match(query string) *Postings {
	ps, ok := x.postingsOf(x.tok.QueryTokens(query))
	if !ok || len(ps) == 0 {
		return &Postings{}
	}
	return Intersect(ps...)
}

// Any returns the points whose text holds at least one token of the query
// (`match: {text_any}`).
func (x *TextIndex) Any(query string) *Postings {
	var ps []*Postings
	for _, t := range x.tok.QueryTokens(query) {
		if id, ok := x.vocab[t]; ok {
			ps = append(ps, &x.posts[id])
		}
	}
	return Union(ps...)
}

// Phrase returns the points whose text holds the query's tokens
// consecutively and in order (`match: {phrase}`). The query is tokenized
// as a document, as Qdrant does. Without phrase_matching in the schema it
// matches nothing, as in Qdrant.
func (x *TextIndex) Phrase(query string) *Postings {
	if !x.phrase {
		return &Postings{}
	}
	toks := x.tok.Tokens(query)
	ps, ok := x.postingsOf(slices.Clone(toks))
	if !ok || len(ps) == 0 {
		return &Postings{}
	}
	phrase := make([]uint32, len(toks))
	for i, t := range toks {
		phrase[i] = x.vocab[t]
	}
	var offs []uint32
	Intersect(ps...).ForEach(func(off uint32) bool {
		if hasPhrase(x.docs.get(off), phrase) {
			offs = append(offs, off)
		}
		return true
	})
	return FromSorted(offs)
}

func hasPhrase(doc, phrase []uint32) bool {
	for i := 0; i+len(phrase) <= len(doc); i++ {
		if slices.Equal(doc[i:i+len(phrase)], phrase) {
			return true
		}
	}
	return false
}

// MatchEstimate returns an upper bound of Match(query).Len() without
// computing it: the shortest posting list of the query's tokens.
func (x *TextIndex) MatchEstimate(query string) int {
	ps, ok := x.postingsOf(x.tok.QueryTokens(query))
	if !ok || len(ps) == 0 {
		return 0
	}
	n := ps[0].Len()
	for _, p := range ps[1:] {
		n = min(n, p.Len())
	}
	return n
}

// Encode implements Index.
func (x *TextIndex) Encode(w io.Writer) error {
	e, err := newEncoder(x.schema)
	if err != nil {
		return err
	}
	dense := make(map[uint32]uint64, len(x.vocab))
	var order []uint32
	for id := range x.tokens {
		if x.posts[id].Len() > 0 {
			dense[uint32(id)] = uint64(len(order))
			order = append(order, uint32(id))
		}
	}
	e.uvarint(uint64(len(order)))
	for _, id := range order {
		e.bytes([]byte(x.tokens[id]))
	}
	e.uvarint(uint64(x.present.Len()))
	ow := offsetWriter{e: e}
	x.present.ForEach(func(off uint32) bool {
		ow.put(off)
		ids := x.docs.get(off)
		e.uvarint(uint64(len(ids)))
		for _, id := range ids {
			e.uvarint(dense[id])
		}
		return true
	})
	return writeAll(w, e.finish())
}

func (x *TextIndex) decodeBody(d *decoder) error {
	n := d.count(1)
	vocab := make([]string, 0, min(n, 1024))
	seen := make(map[string]struct{}, min(n, 1024))
	for range n {
		t := string(d.bytes())
		if d.err != nil {
			return d.err
		}
		if _, dup := seen[t]; dup {
			d.fail("repeated token")
			return d.err
		}
		seen[t] = struct{}{}
		vocab = append(vocab, t)
	}
	points := d.count(2)
	var toks []string
	for range points {
		off := d.offset()
		k := d.count(1)
		if d.err != nil {
			return d.err
		}
		toks = toks[:0]
		prev := -1
		for range k {
			i := d.uvarint()
			if d.err != nil {
				return d.err
			}
			if i >= uint64(len(vocab)) || (!x.phrase && int(i) <= prev) {
				d.fail("bad token id")
				return d.err
			}
			prev = int(i)
			toks = append(toks, vocab[i])
		}
		x.setTokens(off, toks)
	}
	return d.err
}
