package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/shoaldb/shoal/internal/point"
)

// clusterStatus answers GET /cluster: {"status":"disabled"} standalone,
// else Qdrant's ClusterStatus of this peer.
func (s *Server) clusterStatus(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.node.Clustered() {
		s.ok(w, start, map[string]string{"status": "disabled"})
		return
	}
	st := s.node.ClusterStatus()
	peers := map[string]any{}
	for id, uri := range st.Peers {
		peers[strconv.FormatUint(id, 10)] = map[string]string{"uri": uri}
	}
	raft := map[string]any{
		"term": st.Raft.Term, "commit": st.Raft.Commit, "pending_operations": st.Raft.PendingOperations,
		"leader": nil, "role": nil, "is_voter": st.Raft.IsVoter,
	}
	if st.Raft.Leader != 0 {
		raft["leader"] = st.Raft.Leader
	}
	if st.Raft.Role != "" {
		raft["role"] = st.Raft.Role
	}
	failures := map[string]any{}
	for uri, f := range st.SendFailures {
		e := map[string]any{"count": f.Count}
		if f.LatestError != "" {
			e["latest_error"] = f.LatestError
			e["latest_error_timestamp"] = f.LatestAt.UTC().Format(time.RFC3339Nano)
		}
		failures[uri] = e
	}
	s.ok(w, start, map[string]any{
		"status":    "enabled",
		"peer_id":   st.PeerID,
		"peers":     peers,
		"raft_info": raft,
		"consensus_thread_status": map[string]any{
			"consensus_thread_status": "working",
			"last_update":             time.Now().UTC().Format(time.RFC3339Nano),
		},
		"message_send_failures": failures,
	})
}

// msgStandalone is Qdrant's answer to a cluster operation on a node that
// runs without cluster mode, with status 405 Method Not Allowed (Qdrant
// answers 405 since its issue 9421: the operation does not apply in this
// mode, nothing failed). GET /cluster answers {"status": "disabled"}
// instead.
const msgStandalone = "Qdrant is running in standalone mode"

func (s *Server) requireCluster(w http.ResponseWriter, r *http.Request, start time.Time) bool {
	if s.node.Clustered() {
		return true
	}
	s.fail(w, r, start, &requestError{http.StatusMethodNotAllowed, msgStandalone})
	return false
}

// removePeer answers DELETE /cluster/peer/{peer_id}?force=.
func (s *Server) removePeer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.requireCluster(w, r, start) {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("peer_id"), 10, 64)
	if err != nil {
		s.fail(w, r, start, point.Errorf(point.KindBadRequest, "invalid peer id %q", r.PathValue("peer_id")))
		return
	}
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		if force, err = strconv.ParseBool(v); err != nil {
			s.fail(w, r, start, point.Errorf(point.KindBadRequest, "force: expected true or false"))
			return
		}
	}
	ctx, cancel, err := metaContext(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	defer cancel()
	if err := s.node.RemovePeer(ctx, id, force); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}

// recoverCluster answers POST /cluster/recover. Qdrant asks the leader for
// a consensus snapshot; here a peer that lags is sent one by the leader
// on its own (raft), so the request checks the peer is in the cluster.
func (s *Server) recoverCluster(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.requireCluster(w, r, start) {
		return
	}
	s.ok(w, start, true)
}

func (s *Server) listMetadataKeys(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.requireCluster(w, r, start) {
		return
	}
	keys := s.node.MetadataKeys()
	if keys == nil {
		keys = []string{}
	}
	s.ok(w, start, keys)
}

func (s *Server) getMetadataKey(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.requireCluster(w, r, start) {
		return
	}
	// A key that was never set, or was deleted, reads as null, as in
	// Qdrant (which keeps no null values: deleting sets null).
	v, ok := s.node.MetadataKey(r.PathValue("key"))
	if !ok {
		v = json.RawMessage("null")
	}
	s.ok(w, start, json.RawMessage(v))
}

func (s *Server) putMetadataKey(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.requireCluster(w, r, start) {
		return
	}
	var v json.RawMessage
	if err := s.decodeBody(w, r, &v); err != nil {
		s.fail(w, r, start, err)
		return
	}
	ctx, cancel, err := metaContext(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	defer cancel()
	if err := s.node.SetMetadataKey(ctx, r.PathValue("key"), v); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}

func (s *Server) deleteMetadataKey(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.requireCluster(w, r, start) {
		return
	}
	ctx, cancel, err := metaContext(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	defer cancel()
	if err := s.node.DeleteMetadataKey(ctx, r.PathValue("key")); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}

// metaContext bounds a metadata operation by ?timeout= seconds (Qdrant's
// default for collection operations: 30).
func metaContext(r *http.Request) (context.Context, context.CancelFunc, error) {
	d, err := queryTimeout(r)
	if err != nil {
		return nil, nil, err
	}
	if d == 0 {
		d = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	return ctx, cancel, nil
}
