package filter

import (
	"encoding/json"

	"github.com/shoaldb/shoal/internal/point"
)

// HasVectorCondition is `{"has_vector": "name"}`: the point has a vector
// under Name ("" is the unnamed default vector). Only MatchesPoint can
// answer it; under Matches it never holds.
type HasVectorCondition struct{ Name string }

func (c *HasVectorCondition) match(t target) bool {
	return !t.nested && t.hasVector != nil && t.hasVector(c.Name)
}

// MarshalJSON writes {"has_vector": name}.
func (c *HasVectorCondition) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"has_vector": c.Name})
}

// NestedCondition is `{"nested": {"key": k, "filter": f}}`: the key holds
// an array of objects and some element satisfies the whole of Filter,
// whose keys are relative to the element. So `must` conditions must hold
// for the same element, and `must_not` excludes the elements (not the
// point) it matches.
//
// As in Qdrant (query_checker's Nested branch) the key addresses an
// array: a `[]` is implied when it does not end with one (see ArrayKey),
// so a single object at the key is not an element, and elements that are
// not objects are skipped. The conditions that concern the point rather
// than the element (has_id, has_vector, slice) never hold inside a nested
// filter, because Qdrant evaluates that filter without the point's id or
// vectors; its documentation says to place has_id next to the nested
// condition instead.
type NestedCondition struct {
	Key    point.Path
	Filter *Filter
}

// ArrayKey returns the key with a trailing `[]`: the path whose values are
// the elements the inner filter is evaluated on. Payload indexes of the
// inner conditions live under ArrayKey().Extend(innerKey).
func (c *NestedCondition) ArrayKey() point.Path { return c.Key.ArrayKey() }

func (c *NestedCondition) match(t target) bool {
	steps := c.Key.Steps()
	explicit := len(steps) > 0 && steps[len(steps)-1].Kind == point.StepWildcard
	found := false
	c.Key.Each(t.payload, func(v any) bool {
		if explicit {
			found = c.matchElement(t, v)
			return !found
		}
		a, ok := v.([]any)
		if !ok {
			return true
		}
		for _, e := range a {
			if c.matchElement(t, e) {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

func (c *NestedCondition) matchElement(t target, v any) bool {
	obj, ok := asObject(v)
	if !ok {
		return false
	}
	inner := target{id: t.id, payload: point.Payload(obj), nested: true}
	return c.Filter == nil || c.Filter.match(inner)
}

// MarshalJSON writes {"nested": {"filter": f, "key": k}}.
func (c *NestedCondition) MarshalJSON() ([]byte, error) {
	f := c.Filter
	if f == nil {
		f = &Filter{}
	}
	return json.Marshal(map[string]any{"nested": map[string]any{"key": c.Key, "filter": f}})
}
