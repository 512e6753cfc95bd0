package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/shoaldb/shoal/internal/quota"
)

// quotaStatusOut is Qdrant's QuotaStatus.
type quotaStatusOut struct {
	Config quota.Config                 `json:"config"`
	Usage  quota.Usage                  `json:"usage"`
	Peers  map[string]peerQuotaUsageOut `json:"peers,omitempty"`
}

// peerQuotaUsageOut is Qdrant's PeerQuotaUsage.
type peerQuotaUsageOut struct {
	Exceeded bool `json:"exceeded"`
	quota.Usage
}

// getQuotas answers GET /quotas: the cluster-wide quota and this node's
// utilization. In cluster mode `peers` lists the peers that answered:
// Shoal asks none over the network yet, so it holds this peer alone.
func (s *Server) getQuotas(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := s.node.Quota()
	out := quotaStatusOut{Config: st.Config, Usage: st.Usage}
	if st.PeerID != 0 {
		ex := st.Exceeded
		over := ex.ResidentMemory != nil && *ex.ResidentMemory || ex.DiskUsage != nil && *ex.DiskUsage
		out.Peers = map[string]peerQuotaUsageOut{strconv.FormatUint(st.PeerID, 10): {Exceeded: over, Usage: st.Usage}}
	}
	s.ok(w, start, out)
}

// quotaConfigIn is the body of PUT /quotas, Qdrant's QuotaConfig; the
// limits are read wide so that a value beyond u8 is Qdrant's format error
// and one beyond 1..=100 its validation error.
type quotaConfigIn struct {
	Enabled                  *bool        `json:"enabled"`
	MaxResidentMemoryPercent *json.Number `json:"max_resident_memory_percent"`
	MaxDiskUsagePercent      *json.Number `json:"max_disk_usage_percent"`
	ReleaseMarginPercent     *json.Number `json:"release_margin_percent"`
}

func (in quotaConfigIn) config() (quota.Config, error) {
	var c quota.Config
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	for _, f := range []struct {
		name string
		in   *json.Number
		out  **uint8
	}{
		{"max_resident_memory_percent", in.MaxResidentMemoryPercent, &c.MaxResidentMemoryPercent},
		{"max_disk_usage_percent", in.MaxDiskUsagePercent, &c.MaxDiskUsagePercent},
		{"release_margin_percent", in.ReleaseMarginPercent, &c.ReleaseMarginPercent},
	} {
		if f.in == nil {
			continue
		}
		v, err := strconv.ParseUint(f.in.String(), 10, 8)
		if err != nil {
			return c, formatError(fmt.Errorf("%s: invalid value: %s, expected u8", f.name, f.in.String()))
		}
		u := uint8(v)
		*f.out = &u
	}
	if err := c.Validate(); err != nil {
		return c, validationError(err.Error())
	}
	return c, nil
}

// putQuotas answers PUT /quotas: the new quota goes through consensus (in
// cluster mode) and is persisted. Shoal answers once it applies on this
// peer whatever ?wait= says, which only makes wait=false stronger.
func (s *Server) putQuotas(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if _, err := queryBool(r, "wait", false); err != nil {
		s.fail(w, r, start, err)
		return
	}
	var in quotaConfigIn
	if err := s.decodeBody(w, r, &in); err != nil {
		s.fail(w, r, start, err)
		return
	}
	cfg, err := in.config()
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
	if err := s.node.SetQuota(ctx, cfg); err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, true)
}
