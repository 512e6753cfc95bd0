package rest

import (
	"net/http"
	"slices"
	"time"

	"github.com/shoaldb/shoal/internal/node"
)

type aliasDescription struct {
	AliasName      string `json:"alias_name"`
	CollectionName string `json:"collection_name"`
}

type aliasList struct {
	Aliases []aliasDescription `json:"aliases"`
}

func (s *Server) aliasesOf(collection string) aliasList {
	out := aliasList{Aliases: []aliasDescription{}}
	for alias, c := range s.node.Aliases() {
		if collection == "" || c == collection {
			out.Aliases = append(out.Aliases, aliasDescription{AliasName: alias, CollectionName: c})
		}
	}
	slices.SortFunc(out.Aliases, func(a, b aliasDescription) int {
		switch {
		case a.AliasName < b.AliasName:
			return -1
		case a.AliasName > b.AliasName:
			return 1
		}
		return 0
	})
	return out
}

// listAliases answers GET /aliases.
func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) {
	s.ok(w, time.Now(), s.aliasesOf(""))
}

// collectionAliases answers GET /collections/{name}/aliases.
func (s *Server) collectionAliases(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c, err := s.node.Collection(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, s.aliasesOf(c.Name()))
}

// updateAliases answers POST /collections/aliases: the actions apply all
// or none.
func (s *Server) updateAliases(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, cancel, err := metaContext(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	defer cancel()
	var req struct {
		Actions []node.AliasAction `json:"actions"`
	}
	if err := s.decodeBody(w, r, &req); err != nil {
		s.fail(w, r, start, err)
		return
	}
	if err := s.node.ChangeAliases(ctx, req.Actions); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}
