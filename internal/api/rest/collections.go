package rest

import (
	"net/http"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/node"
)

type collectionDescription struct {
	Name string `json:"name"`
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	names := s.node.Collections()
	out := make([]collectionDescription, len(names))
	for i, n := range names {
		out[i] = collectionDescription{Name: n}
	}
	s.ok(w, start, map[string]any{"collections": out})
}

func (s *Server) getCollection(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info, err := s.node.CollectionInfo(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, info)
}

func (s *Server) collectionExists(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	_, err := s.node.Collection(r.PathValue("name"))
	s.ok(w, start, map[string]bool{"exists": err == nil})
}

func pathName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if err := node.ValidateCollectionName(name); err != nil {
		return "", &requestError{http.StatusUnprocessableEntity, "Validation error in path parameters: [" + err.Error() + "]"}
	}
	return name, nil
}

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name, err := pathName(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	ctx, cancel, err := metaContext(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	defer cancel()
	var req collection.CreateRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.fail(w, r, start, err)
		return
	}
	if err := s.node.CreateCollection(ctx, name, &req); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}

func (s *Server) updateCollection(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req collection.UpdateRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.fail(w, r, start, err)
		return
	}
	if err := s.node.UpdateCollection(r.Context(), r.PathValue("name"), &req); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	existed, err := s.node.DeleteCollection(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, existed)
}
