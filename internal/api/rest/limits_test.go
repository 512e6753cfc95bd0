package rest

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestUsize(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		err  string
	}{
		{in: `0`, want: 0},
		{in: `10`, want: 10},
		{in: `4294967296`, want: 1 << 32},
		{in: `18446744073709551615`, want: math.MaxUint64},
		{in: `null`, want: 0},
		{in: `18446744073709551616`, err: "invalid type: floating point `18446744073709552000.0`, expected usize"},
		{in: `-1`, err: "invalid value: integer `-1`, expected usize"},
		{in: `-9223372036854775808`, err: "invalid value: integer `-9223372036854775808`, expected usize"},
		{in: `-99999999999999999999`, err: "invalid type: floating point `-100000000000000000000.0`, expected usize"},
		{in: `1e12`, err: "invalid type: floating point `1000000000000.0`, expected usize"},
		{in: `1.5`, err: "invalid type: floating point `1.5`, expected usize"},
		{in: `2.0`, err: "invalid type: floating point `2.0`, expected usize"},
		{in: `1e-7`, err: "invalid type: floating point `0.0000001`, expected usize"},
		{in: `"10"`, err: `invalid type: string "10", expected usize`},
		{in: `true`, err: "invalid type: boolean `true`, expected usize"},
		{in: `[1]`, err: "invalid type: sequence, expected usize"},
		{in: `{"a":1}`, err: "invalid type: map, expected usize"},
	}
	for _, c := range cases {
		var got struct {
			N usize `json:"n"`
		}
		err := json.Unmarshal([]byte(`{"n":`+c.in+`}`), &got)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: error %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || got.N.n != c.want || got.N.set != (c.in != "null")):
			t.Errorf("%s: %+v, %v; want %d", c.in, got.N, err, c.want)
		}
	}
	if got := (usize{set: true, n: math.MaxUint64}).int(); got != math.MaxInt {
		t.Errorf("int() of 2^64-1 = %d, want math.MaxInt", got)
	}
}

// TestWriteJSONNotEncodable: a result encoding/json cannot write (a
// non-finite float64) is answered 500 in Qdrant's envelope, with a body;
// before, the 200 header went out first and the body stayed empty.
func TestWriteJSONNotEncodable(t *testing.T) {
	for _, v := range []any{math.Inf(1), map[string]any{"x": math.NaN()}, make(chan int)} {
		rec := httptest.NewRecorder()
		err := writeJSON(rec, http.StatusOK, okEnvelope{Result: v, Status: "ok"})
		if err == nil {
			t.Fatalf("%T: no error", v)
		}
		var env errEnvelope
		if jerr := json.Unmarshal(rec.Body.Bytes(), &env); jerr != nil {
			t.Fatalf("%T: body %q: %v", v, rec.Body, jerr)
		}
		if rec.Code != http.StatusInternalServerError || !strings.HasPrefix(env.Status.Error, "Service internal error: failed to encode the response: ") {
			t.Errorf("%T: %d %q, want 500 and an encoding error", v, rec.Code, rec.Body)
		}
		if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("%T: Content-Length %q for %d bytes", v, cl, rec.Body.Len())
		}
	}
	rec := httptest.NewRecorder()
	if err := writeJSON(rec, http.StatusOK, okEnvelope{Result: []float32{1.5}, Status: "ok"}); err != nil || rec.Code != 200 || rec.Body.String() != `{"result":[1.5],"status":"ok","time":0}`+"\n" {
		t.Errorf("encodable: %v %d %q", err, rec.Code, rec.Body)
	}
	// <, > and & go out as they are, as Qdrant's serde_json writes them.
	rec = httptest.NewRecorder()
	if err := writeJSON(rec, http.StatusOK, okEnvelope{Result: "1 -> 2 & <b>", Status: "ok"}); err != nil || rec.Body.String() != `{"result":"1 -> 2 & <b>","status":"ok","time":0}`+"\n" {
		t.Errorf("not HTML-escaped: %v %q", err, rec.Body)
	}
}

// TestScoreOut: scores that are not finite are written as null, as Qdrant's
// serde_json writes them; finite ones as they are.
func TestScoreOut(t *testing.T) {
	for _, c := range []struct {
		score float32
		want  string
	}{
		{1.25, `1.25`},
		{0, `0`},
		{-3e38, `-3e+38`},
		{float32(math.Inf(1)), `null`},
		{float32(math.Inf(-1)), `null`},
		{float32(math.NaN()), `null`},
	} {
		b, err := json.Marshal(scoredOut{Score: scoreOut(&c.score)})
		if err != nil {
			t.Fatalf("%v: %v", c.score, err)
		}
		if !strings.Contains(string(b), `"score":`+c.want+`,`) && !strings.HasSuffix(string(b), `"score":`+c.want+`}`) {
			t.Errorf("%v: %s, want score %s", c.score, b, c.want)
		}
	}
}
