package openapitest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// baseURL names the converted document inside the compiler. Nothing is ever
// fetched from it; it only prefixes schema locations, and is cut from them
// again in error messages.
const baseURL = "https://shoal.invalid/qdrant/openapi.json"

// Spec is Qdrant's REST contract, ready to validate responses.
type Spec struct {
	source string // where the document was read from
	routes []*route

	// skip, when set, says why the document is unavailable: the Spec then
	// validates nothing (see Load).
	skip string

	mu struct {
		sync.Mutex
		compiler *jsonschema.Compiler
		schemas  map[string]*jsonschema.Schema // by JSON pointer
	}
}

// parseSpec converts an OpenAPI 3.0 document and hands it to a compiler.
func parseSpec(source string, data []byte) (*Spec, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", source, err)
	}
	doc := obj(v)
	if doc == nil || obj(doc["paths"]) == nil {
		return nil, fmt.Errorf("parse %s: not an OpenAPI document (no paths)", source)
	}
	convertDocument(doc)
	s := &Spec{source: source}
	s.routes = addLegacyRoutes(doc, indexRoutes(doc))

	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	registerFormats(c)
	if err := c.AddResource(baseURL, doc); err != nil {
		return nil, fmt.Errorf("load %s: %w", source, err)
	}
	s.mu.compiler = c
	s.mu.schemas = map[string]*jsonschema.Schema{}
	return s, nil
}

// schema compiles (once) the schema at a JSON pointer of the document.
func (s *Spec) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.mu.schemas[ptr]; ok {
		return sch, nil
	}
	sch, err := s.mu.compiler.Compile(baseURL + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile %s#%s: %w", s.source, ptr, err)
	}
	s.mu.schemas[ptr] = sch
	return sch, nil
}

// Validate checks a response body against the schema the spec declares for
// the operation and status. path is a concrete request path
// ("/collections/test/points/42?wait=true") or a template; method is matched
// case-insensitively.
//
// The error wraps ErrUnknownRoute or ErrUndeclaredStatus when the request or
// status is not in the contract, and is a *ResponseError when the body is
// not. Responses declared without a JSON body (text/plain, octet-stream, no
// content) only have their status checked.
//
// A Spec whose document is unavailable (see Load) accepts every response.
func (s *Spec) Validate(method, path string, status int, body []byte) error {
	if s.skip != "" {
		return nil
	}
	op, resp, err := s.resolve(method, path, status)
	if err != nil || resp.schema == "" {
		return err
	}
	sch, err := s.schema(resp.schema)
	if err != nil {
		return err
	}
	rerr := &ResponseError{
		Method: op.method, Path: path, Template: op.template, Legacy: op.legacy,
		Status: status, Response: resp.key,
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		rerr.Problems = []Problem{{Keyword: "json", Message: "body is not JSON: " + err.Error() + quoteBody(body)}}
		return rerr
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate %s %s: %w", op.method, path, err)
	}
	rerr.Problems = problems(ve)
	return rerr
}

// resolve finds the operation and declared response for a request.
func (s *Spec) resolve(method, path string, status int) (*operation, response, error) {
	op, err := s.lookup(method, path)
	if err != nil {
		return nil, response{}, err
	}
	resp, err := op.response(status)
	if err != nil {
		return nil, response{}, err
	}
	return op, resp, nil
}

// Check is Validate that fails the test (without stopping it) on a breach.
func (s *Spec) Check(t testing.TB, method, path string, status int, body []byte) {
	t.Helper()
	if err := s.Validate(method, path, status, body); err != nil {
		t.Errorf("openapitest: %v", err)
	}
}

// quoteBody shows the start of a body that failed to parse.
func quoteBody(body []byte) string {
	const max = 200
	if len(body) == 0 {
		return " (empty body)"
	}
	if len(body) > max {
		return fmt.Sprintf(" (body %q...)", body[:max])
	}
	return fmt.Sprintf(" (body %q)", body)
}
