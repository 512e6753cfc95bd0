package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"testing"
)

// Client returns a copy of base (http.DefaultClient's settings when nil)
// whose transport checks every response against the spec and reports
// breaches with t.Errorf. The body is read in full and handed back unread,
// so callers see the response they would have seen without the check.
// HEAD responses are not checked: they carry no body and the spec lists no
// HEAD operations. A Spec whose document is unavailable (see Load) returns
// the copy with base's transport untouched.
func (s *Spec) Client(t testing.TB, base *http.Client) *http.Client {
	t.Helper()
	var c http.Client
	if base != nil {
		c = *base
	}
	if s.skip != "" {
		return &c
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &checkingTransport{spec: s, t: t, next: next}
	return &c
}

type checkingTransport struct {
	spec *Spec
	t    testing.TB
	next http.RoundTripper
}

func (ct *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := ct.next.RoundTrip(req)
	if err != nil || req.Method == http.MethodHead {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("openapitest: read response of %s %s: %w", req.Method, req.URL, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := ct.spec.validateHTTP(req.Method, req.URL.EscapedPath(), resp, body); err != nil {
		ct.t.Errorf("openapitest: %v", err)
	}
	return resp, nil
}

// validateHTTP is Validate plus a check that a JSON response says so in its
// Content-Type, which clients such as qdrant-client rely on.
func (s *Spec) validateHTTP(method, path string, resp *http.Response, body []byte) error {
	if err := s.Validate(method, path, resp.StatusCode, body); err != nil {
		return err
	}
	op, r, err := s.resolve(method, path, resp.StatusCode)
	if err != nil || r.schema == "" {
		return err
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !isJSONMedia(mt) {
		return &ResponseError{
			Method: op.method, Path: path, Template: op.template, Legacy: op.legacy,
			Status: resp.StatusCode, Response: r.key,
			Problems: []Problem{{Keyword: "content-type", Message: fmt.Sprintf("Content-Type %q, want application/json", ct)}},
		}
	}
	return nil
}
