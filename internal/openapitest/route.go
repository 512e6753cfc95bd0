package openapitest

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ErrUnknownRoute reports a method and path that no template of the spec (or
// of the legacy table) accepts.
var ErrUnknownRoute = errors.New("no such operation in the Qdrant spec")

// ErrUndeclaredStatus reports a status code the operation declares neither
// exactly, nor by class (4XX), nor through "default".
var ErrUndeclaredStatus = errors.New("status not declared by the Qdrant spec")

// route is one path template with the operations declared on it.
type route struct {
	template string
	segs     []string // literal segment, or the parameter's name in braces
	param    []bool
	ops      map[string]*operation // by upper-case method
}

type operation struct {
	method    string
	template  string
	legacy    bool // not in the document; from legacyRoutes
	responses map[string]response
}

// response is one entry of an operation's responses, keyed "200", "4XX",
// "default".
type response struct {
	key string
	// schema is the JSON pointer of the application/json schema inside the
	// converted document, or "" when the response declares no JSON body.
	schema string
	media  []string
}

func newRoute(template string) *route {
	r := &route{template: template, ops: map[string]*operation{}}
	for _, seg := range splitSegments(template) {
		isParam := len(seg) > 1 && seg[0] == '{' && seg[len(seg)-1] == '}'
		r.segs = append(r.segs, seg)
		r.param = append(r.param, isParam)
	}
	return r
}

func splitSegments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// splitPath turns a concrete request path (or a template, or a whole URL)
// into unescaped segments, dropping query, fragment and a trailing slash.
func splitPath(p string) ([]string, error) {
	if strings.Contains(p, "://") {
		u, err := url.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("parse %q: %w", p, err)
		}
		p = u.EscapedPath()
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	segs := splitSegments(p)
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	return segs, nil
}

func (r *route) matches(segs []string) bool {
	if len(segs) != len(r.segs) {
		return false
	}
	for i, s := range segs {
		if !r.param[i] && s != r.segs[i] {
			return false
		}
	}
	return true
}

// moreSpecific reports whether r beats o for a path both match: the first
// segment where one is literal and the other a parameter decides, as in
// Qdrant's router (/collections/aliases before /collections/{collection_name}).
func (r *route) moreSpecific(o *route) bool {
	for i := range r.param {
		if r.param[i] != o.param[i] {
			return !r.param[i]
		}
	}
	return false
}

// lookup finds the operation serving method on path.
func (s *Spec) lookup(method, path string) (*operation, error) {
	segs, err := splitPath(path)
	if err != nil {
		return nil, err
	}
	method = strings.ToUpper(method)
	var best *route
	var otherMethods []string
	for _, r := range s.routes {
		if !r.matches(segs) {
			continue
		}
		if r.ops[method] == nil {
			for m := range r.ops {
				otherMethods = append(otherMethods, m+" "+r.template)
			}
			continue
		}
		if best == nil || r.moreSpecific(best) {
			best = r
		}
	}
	if best != nil {
		return best.ops[method], nil
	}
	if len(otherMethods) > 0 {
		slices.Sort(otherMethods)
		return nil, fmt.Errorf("%w: %s %s; the path matches only %s",
			ErrUnknownRoute, method, path, strings.Join(otherMethods, ", "))
	}
	return nil, fmt.Errorf("%w: %s %s", ErrUnknownRoute, method, path)
}

// response picks the declared response for status: the exact code, else its
// class ("4XX"), else "default".
func (op *operation) response(status int) (response, error) {
	for _, key := range []string{strconv.Itoa(status), strconv.Itoa(status/100) + "XX", "default"} {
		if r, ok := op.responses[key]; ok {
			return r, nil
		}
	}
	keys := make([]string, 0, len(op.responses))
	for k := range op.responses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return response{}, fmt.Errorf("%w: %s %s answered %d; declared: %s",
		ErrUndeclaredStatus, op.method, op.template, status, strings.Join(keys, ", "))
}

// indexRoutes reads the operations of the converted document.
func indexRoutes(doc map[string]any) []*route {
	var routes []*route
	paths := obj(doc["paths"])
	templates := make([]string, 0, len(paths))
	for t := range paths {
		templates = append(templates, t)
	}
	slices.Sort(templates) // deterministic order; specificity decides, not order
	for _, t := range templates {
		r := newRoute(t)
		for method, op := range obj(paths[t]) {
			opm := obj(op)
			if opm == nil || !httpMethods[method] {
				continue
			}
			o := &operation{method: strings.ToUpper(method), template: t, responses: map[string]response{}}
			base := "/paths/" + escapeToken(t) + "/" + method + "/responses/"
			for key, resp := range obj(opm["responses"]) {
				ptr := base + escapeToken(key)
				rm := obj(resp)
				if ref, ok := rm["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
					ptr = ref[1:]
					rm = resolvePointer(doc, ptr)
				}
				key = normalizeKey(key)
				o.responses[key] = describeResponse(key, ptr, rm)
			}
			r.ops[o.method] = o
		}
		routes = append(routes, r)
	}
	return routes
}

// normalizeKey spells a status class as "4XX" (OpenAPI allows "4xx").
func normalizeKey(key string) string {
	if len(key) == 3 && strings.EqualFold(key[1:], "xx") {
		return strings.ToUpper(key)
	}
	return key
}

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"patch": true, "head": true, "options": true, "trace": true,
}

func describeResponse(key, ptr string, rm map[string]any) response {
	r := response{key: key}
	content := obj(rm["content"])
	for media := range content {
		r.media = append(r.media, media)
	}
	slices.Sort(r.media)
	for _, media := range r.media {
		if isJSONMedia(media) {
			if _, ok := obj(content[media])["schema"]; ok {
				r.schema = ptr + "/content/" + escapeToken(media) + "/schema"
				break
			}
		}
	}
	return r
}

// isJSONMedia reports whether a media type (with or without parameters)
// carries JSON.
func isJSONMedia(media string) bool {
	media, _, _ = strings.Cut(media, ";")
	media = strings.ToLower(strings.TrimSpace(media))
	return media == "application/json" || strings.HasSuffix(media, "+json")
}

// escapeToken escapes one JSON pointer token for use inside a URL fragment.
func escapeToken(tok string) string {
	tok = strings.ReplaceAll(tok, "~", "~0")
	tok = strings.ReplaceAll(tok, "/", "~1")
	return strings.ReplaceAll(tok, "%", "%25")
}

// resolvePointer follows an (already fragment-decoded) JSON pointer inside
// doc, returning nil when it leads nowhere or to a non-object.
func resolvePointer(doc map[string]any, ptr string) map[string]any {
	var cur any = doc
	for _, tok := range splitSegments(ptr) {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		cur = obj(cur)[tok]
	}
	return obj(cur)
}
