package issues

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"
)

// Issue is Qdrant's IssueRecord: one active issue. ID is its code,
// "{NAME}/{instance}" (UNINDEXED_FIELD/{collection}/{field}); an issue
// submitted while one with its id is active is dropped, so Timestamp is
// when it was first seen.
type Issue struct {
	ID                string    `json:"id"`
	Description       string    `json:"description"`
	Solution          Solution  `json:"solution"`
	Timestamp         time.Time `json:"timestamp"`
	RelatedCollection *string   `json:"related_collection"`
}

// Solution is Qdrant's Solution: exactly one of Immediate (one request
// that fixes the issue), ImmediateChoice (requests to choose from) or
// Refactor (advice); none of them set is Qdrant's "none".
type Solution struct {
	Immediate       *ImmediateSolution
	ImmediateChoice []ImmediateSolution
	Refactor        string
}

// ImmediateSolution is a request that solves an issue, with what it does.
type ImmediateSolution struct {
	Message string `json:"message"`
	Action  Action `json:"action"`
}

// Action is an HTTP request to Shoal's REST API.
type Action struct {
	Method  string            `json:"method"`
	URI     string            `json:"uri"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body"`
}

// MarshalJSON writes Qdrant's externally tagged enum: {"immediate": ...},
// {"immediate_choice": [...]}, {"refactor": "..."} or "none".
func (s Solution) MarshalJSON() ([]byte, error) {
	switch {
	case s.Immediate != nil:
		return json.Marshal(map[string]any{"immediate": s.Immediate})
	case len(s.ImmediateChoice) > 0:
		return json.Marshal(map[string]any{"immediate_choice": s.ImmediateChoice})
	case s.Refactor != "":
		return json.Marshal(map[string]any{"refactor": s.Refactor})
	}
	return []byte(`"none"`), nil
}

// Dashboard holds the active issues by id.
type Dashboard struct {
	mu     sync.Mutex
	issues map[string]Issue
	now    func() time.Time
}

// NewDashboard returns an empty dashboard.
func NewDashboard() *Dashboard {
	return &Dashboard{issues: map[string]Issue{}, now: time.Now}
}

// Submit activates an issue, stamped now, unless one with its id is
// active; it reports whether it was added.
func (d *Dashboard) Submit(is Issue) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.issues[is.ID]; ok {
		return false
	}
	is.Timestamp = d.now().UTC()
	d.issues[is.ID] = is
	return true
}

// Solve deactivates the issue with id; it reports whether it was active.
func (d *Dashboard) Solve(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.issues[id]
	delete(d.issues, id)
	return ok
}

// SolveCollection deactivates every issue of the collection's own, as
// Qdrant does when the collection is deleted.
func (d *Dashboard) SolveCollection(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, is := range d.issues {
		if is.RelatedCollection != nil && *is.RelatedCollection == name {
			delete(d.issues, id)
		}
	}
}

// All returns the active issues, oldest first (by id within a moment).
func (d *Dashboard) All() []Issue {
	d.mu.Lock()
	out := make([]Issue, 0, len(d.issues))
	for _, is := range d.issues {
		out = append(out, is)
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b Issue) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Clear deactivates every issue.
func (d *Dashboard) Clear() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.issues)
}
