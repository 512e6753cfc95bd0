package rest

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/shoaldb/shoal/internal/collection"
	"github.com/shoaldb/shoal/internal/quota"
	"github.com/shoaldb/shoal/internal/sysinfo"
)

// GET /telemetry answers Qdrant 1.19's TelemetryData. ?details_level=
// (default 0, Qdrant's levels 0 to 4; more is 4) chooses how much:
//
//	0  app name, version and start time; the number of collections;
//	   whether the cluster is enabled; the request statistics
//	1  + app features and system; per collection its vectors, optimizer
//	   status and parameters; the cluster status; memory
//	2  + per collection its whole config; the cluster config, peers,
//	   peer_metadata and metadata keys
//	3  + per collection its shards (points, vectors, optimizer status)
//	4  + each shard's segments and optimizer log
//
// ?anonymize=true hides what names the user's data and rounds counts, as
// Qdrant's Anonymize does; ?per_collection=true adds the request
// statistics per collection.

// Detail levels, Qdrant's DetailsLevel.
const (
	level1 = 1
	level2 = 2
	level3 = 3
	level4 = 4
)

type telemetryData struct {
	ID          string               `json:"id"`
	App         *appTelemetry        `json:"app,omitempty"`
	Collections collectionsTelemetry `json:"collections"`
	Cluster     *clusterTelemetry    `json:"cluster,omitempty"`
	Requests    *requestsTelemetry   `json:"requests,omitempty"`
	Memory      *memoryTelemetry     `json:"memory,omitempty"`
	Quota       *quotaTelemetry      `json:"quota,omitempty"`
}

type appTelemetry struct {
	Name     string           `json:"name"`
	Version  string           `json:"version"`
	Features *appFeatures     `json:"features,omitempty"`
	System   *systemTelemetry `json:"system,omitempty"`
	JWTRBAC  *bool            `json:"jwt_rbac,omitempty"`
	Startup  time.Time        `json:"startup"`
}

// appFeatures is Qdrant's AppFeaturesTelemetry: the build features, none
// of which a Shoal build has.
type appFeatures struct {
	Debug               bool `json:"debug"`
	ServiceDebugFeature bool `json:"service_debug_feature"`
	RecoveryMode        bool `json:"recovery_mode"`
	GPU                 bool `json:"gpu"`
	RocksDB             bool `json:"rocksdb"`
	Staging             bool `json:"staging"`
}

// systemTelemetry is Qdrant's RunningEnvironmentTelemetry; sizes in KiB.
type systemTelemetry struct {
	Distribution        *string `json:"distribution"`
	DistributionVersion *string `json:"distribution_version"`
	IsDocker            bool    `json:"is_docker"`
	Cores               int     `json:"cores"`
	RAMSize             *uint64 `json:"ram_size"`
	DiskSize            *uint64 `json:"disk_size"`
	CPUFlags            string  `json:"cpu_flags"`
	CPUEndian           string  `json:"cpu_endian"`
}

type collectionsTelemetry struct {
	NumberOfCollections int   `json:"number_of_collections"`
	Collections         []any `json:"collections,omitempty"`
}

// collectionAggregated is Qdrant's CollectionsAggregatedTelemetry.
type collectionAggregated struct {
	Vectors          int               `json:"vectors"`
	OptimizersStatus any               `json:"optimizers_status"`
	Params           collection.Params `json:"params"`
}

// collectionFull is Qdrant's CollectionTelemetry.
type collectionFull struct {
	ID        string                        `json:"id"`
	Config    *collection.Config            `json:"config,omitempty"`
	Shards    []collection.ReplicaTelemetry `json:"shards,omitempty"`
	Transfers []any                         `json:"transfers,omitempty"`
}

type clusterTelemetry struct {
	Enabled      bool                       `json:"enabled"`
	Status       *clusterStatusTelemetry    `json:"status,omitempty"`
	Config       *ClusterConfig             `json:"config,omitempty"`
	Peers        map[string]peerInfo        `json:"peers,omitempty"`
	PeerMetadata map[string]peerMetadata    `json:"peer_metadata,omitempty"`
	Metadata     map[string]json.RawMessage `json:"metadata,omitempty"`
}

type clusterStatusTelemetry struct {
	NumberOfPeers         int            `json:"number_of_peers"`
	Term                  uint64         `json:"term"`
	Commit                uint64         `json:"commit"`
	PendingOperations     int            `json:"pending_operations"`
	Role                  *string        `json:"role"`
	IsVoter               bool           `json:"is_voter"`
	PeerID                *uint64        `json:"peer_id"`
	ConsensusThreadStatus map[string]any `json:"consensus_thread_status"`
}

type peerInfo struct {
	URI string `json:"uri"`
}

type peerMetadata struct {
	Version string `json:"version"`
}

// ClusterConfig is Qdrant's ClusterConfigTelemetry: the cluster.* settings
// a peer runs with, given by the command that starts it.
type ClusterConfig struct {
	GRPCTimeoutMS uint64 `json:"grpc_timeout_ms"`
	P2P           struct {
		ConnectionPoolSize int `json:"connection_pool_size"`
	} `json:"p2p"`
	Consensus struct {
		MaxMessageQueueSize int    `json:"max_message_queue_size"`
		TickPeriodMS        uint64 `json:"tick_period_ms"`
		BootstrapTimeoutSec uint64 `json:"bootstrap_timeout_sec"`
	} `json:"consensus"`
}

type requestsTelemetry struct {
	REST webAPITelemetry `json:"rest"`
	GRPC webAPITelemetry `json:"grpc"`
}

type webAPITelemetry struct {
	Responses             routeStats            `json:"responses"`
	PerCollectionResponse map[string]routeStats `json:"per_collection_responses,omitempty"`
}

// memoryTelemetry is Qdrant's MemoryTelemetry (jemalloc's counters there),
// read from the Go runtime and the process's resident set: allocated is
// the live heap, active the heap spans in use, metadata the runtime's own
// structures, resident the process's RSS, retained what the heap returned
// to the OS but keeps mapped.
type memoryTelemetry struct {
	ActiveBytes    uint64 `json:"active_bytes"`
	AllocatedBytes uint64 `json:"allocated_bytes"`
	MetadataBytes  uint64 `json:"metadata_bytes"`
	ResidentBytes  uint64 `json:"resident_bytes"`
	RetainedBytes  uint64 `json:"retained_bytes"`
}

type quotaTelemetry struct {
	Config   quota.Config   `json:"config"`
	Exceeded quota.Exceeded `json:"exceeded"`
}

func readMemory() *memoryTelemetry {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, ok := sysinfo.ResidentBytes()
	if !ok {
		rss = ms.Sys - ms.HeapReleased
	}
	return &memoryTelemetry{
		ActiveBytes:    ms.HeapInuse,
		AllocatedBytes: ms.HeapAlloc,
		MetadataBytes:  ms.MSpanSys + ms.MCacheSys + ms.BuckHashSys + ms.GCSys + ms.OtherSys,
		ResidentBytes:  rss,
		RetainedBytes:  ms.HeapReleased,
	}
}

// telemetryQuery is the query of GET /telemetry.
type telemetryQuery struct {
	level         int
	anonymize     bool
	perCollection bool
}

func parseTelemetryQuery(r *http.Request) (telemetryQuery, error) {
	var q telemetryQuery
	if v := r.URL.Query().Get("details_level"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return q, badRequest("Query deserialize error: details_level: invalid value %q, expected an unsigned integer", v)
		}
		q.level = int(min(n, level4))
	}
	var err error
	if q.anonymize, err = queryBool(r, "anonymize", false); err != nil {
		return q, err
	}
	if q.perCollection, err = queryBool(r, "per_collection", false); err != nil {
		return q, err
	}
	if _, err := queryTimeout(r); err != nil {
		return q, err
	}
	return q, nil
}

func (s *Server) telemetry(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q, err := parseTelemetryQuery(r)
	if err != nil {
		s.fail(w, r, start, err)
		return
	}
	s.ok(w, start, s.collectTelemetry(q))
}

func (s *Server) collectTelemetry(q telemetryQuery) telemetryData {
	t := telemetryData{ID: s.opts.InstanceID}
	app := &appTelemetry{Name: "shoal", Version: APIVersion, Startup: s.started.UTC().Round(10 * time.Millisecond)}
	if q.level >= level1 {
		app.Features = &appFeatures{}
		app.System = systemInfo(s.node.StoragePath())
		jwt := false
		app.JWTRBAC = &jwt
		t.Memory = readMemory()
	}
	t.App = app

	names := s.node.Collections()
	t.Collections.NumberOfCollections = len(names)
	if q.level >= level1 {
		t.Collections.Collections = []any{}
		for _, name := range names {
			c, err := s.node.Collection(name)
			if err != nil {
				continue // deleted meanwhile
			}
			if entry, ok := collectionTelemetry(c, q.level, q.anonymize); ok {
				t.Collections.Collections = append(t.Collections.Collections, entry)
			}
		}
	}

	t.Cluster = s.clusterTelemetry(q.level, q.anonymize)

	rest, per := s.metrics.stats.snapshot()
	req := &requestsTelemetry{REST: webAPITelemetry{Responses: rest}, GRPC: webAPITelemetry{Responses: routeStats{}}}
	if q.perCollection {
		req.REST.PerCollectionResponse = per
	}
	t.Requests = req

	st := s.node.Quota()
	t.Quota = &quotaTelemetry{Config: st.Config, Exceeded: st.Exceeded}
	if q.anonymize {
		anonymizeTelemetry(&t)
	}
	return t
}

func systemInfo(storage string) *systemTelemetry {
	id, version := sysinfo.OSRelease()
	sys := &systemTelemetry{IsDocker: sysinfo.IsDocker(), Cores: runtime.NumCPU(), CPUFlags: sysinfo.CPUFlags(), CPUEndian: "little"}
	if id != "" {
		sys.Distribution = &id
	}
	if version != "" {
		sys.DistributionVersion = &version
	}
	if mem, ok := sysinfo.MemoryBytes(); ok {
		kib := mem / 1024
		sys.RAMSize = &kib
	}
	if _, total, ok := sysinfo.Disk(storage); ok {
		kib := total / 1024
		sys.DiskSize = &kib
	}
	return sys
}

// collectionTelemetry is one entry of collections.collections at level:
// aggregated at 1, whole from 2 (shards from 3, their segments and
// optimizer log from 4).
func collectionTelemetry(c *collection.Collection, level int, anonymize bool) (any, bool) {
	cfg, err := c.Config()
	if err != nil {
		return nil, false
	}
	tel := c.Telemetry()
	if level == level1 {
		agg := collectionAggregated{OptimizersStatus: "ok", Params: cfg.Params}
		for _, sh := range tel.Shards {
			if sh.Local == nil {
				continue
			}
			agg.Vectors += sh.Local.NumVectors
			if st := sh.Local.Optimizations.Status; st != "ok" {
				agg.OptimizersStatus = st
			}
		}
		if anonymize {
			agg.Vectors = anonCount(agg.Vectors)
		}
		return agg, true
	}
	full := collectionFull{ID: tel.ID, Config: cfg}
	if level >= level3 {
		full.Shards = tel.Shards
		full.Transfers = []any{}
		for i := range full.Shards {
			if l := full.Shards[i].Local; l != nil && level < level4 {
				cp := *l
				cp.Segments = nil
				cp.Optimizations.Log = nil
				full.Shards[i].Local = &cp
			}
		}
	}
	if anonymize {
		anonymizeCollection(&full)
	}
	return full, true
}

func (s *Server) clusterTelemetry(level int, anonymize bool) *clusterTelemetry {
	ct := &clusterTelemetry{Enabled: s.node.Clustered()}
	if !ct.Enabled {
		return ct
	}
	st := s.node.ClusterStatus()
	if level >= level1 {
		cs := &clusterStatusTelemetry{
			NumberOfPeers: len(st.Peers), Term: st.Raft.Term, Commit: st.Raft.Commit,
			PendingOperations: st.Raft.PendingOperations, IsVoter: st.Raft.IsVoter,
			ConsensusThreadStatus: map[string]any{"consensus_thread_status": "working", "last_update": time.Now().UTC().Format(time.RFC3339Nano)},
		}
		if st.Raft.Role != "" {
			role := st.Raft.Role
			cs.Role = &role
		}
		if !anonymize {
			id := st.PeerID
			cs.PeerID = &id
		}
		ct.Status = cs
	}
	if level >= level2 {
		ct.Config = s.opts.Cluster
		if !anonymize {
			ct.Peers = map[string]peerInfo{}
			for id, uri := range st.Peers {
				ct.Peers[strconv.FormatUint(id, 10)] = peerInfo{URI: uri}
			}
			ct.PeerMetadata = map[string]peerMetadata{}
			for id, m := range s.node.PeerMetadata() {
				ct.PeerMetadata[strconv.FormatUint(id, 10)] = peerMetadata{Version: m.Version}
			}
			ct.Metadata = map[string]json.RawMessage{}
			for _, k := range s.node.MetadataKeys() {
				if v, ok := s.node.MetadataKey(k); ok {
					ct.Metadata[k] = v
				}
			}
		}
	}
	return ct
}

// anonymizeTelemetry applies Qdrant's Anonymize to what the collections
// and the rest do not anonymize themselves.
func anonymizeTelemetry(t *telemetryData) {
	if t.App != nil {
		t.App.Startup = anonTime(t.App.Startup)
		if sys := t.App.System; sys != nil {
			for _, p := range []**uint64{&sys.RAMSize, &sys.DiskSize} {
				if *p != nil {
					v := uint64(anonCount(int(**p)))
					*p = &v
				}
			}
		}
	}
	if t.Requests != nil {
		anonRoutes := func(m routeStats) {
			for _, byStatus := range m {
				for st, o := range byStatus {
					o.Count = anonCount(o.Count)
					o.Last = anonTime(o.Last)
					byStatus[st] = o
				}
			}
		}
		anonRoutes(t.Requests.REST.Responses)
		per := map[string]routeStats{}
		for c, m := range t.Requests.REST.PerCollectionResponse {
			anonRoutes(m)
			per[anonName(c)] = m
		}
		if t.Requests.REST.PerCollectionResponse != nil {
			t.Requests.REST.PerCollectionResponse = per
		}
	}
}

// anonymizeCollection hides the collection's name, its vector and payload
// key names, and rounds its counts.
func anonymizeCollection(c *collectionFull) {
	c.ID = anonName(c.ID)
	for i := range c.Shards {
		l := c.Shards[i].Local
		if l == nil {
			continue
		}
		cp := *l
		cp.NumPoints = anonCount(cp.NumPoints)
		cp.NumVectors = anonCount(cp.NumVectors)
		cp.VectorsSizeBytes = anonCount64(cp.VectorsSizeBytes)
		cp.TotalOptimizedPoints = uint64(anonCount(int(cp.TotalOptimizedPoints)))
		byName := map[string]int{}
		for k, v := range cp.NumVectorsByName {
			byName[anonName(k)] = anonCount(v)
		}
		cp.NumVectorsByName = byName
		segs := make([]collection.SegmentTelemetry, len(cp.Segments))
		for j, sg := range cp.Segments {
			in := sg.Info
			in.NumVectors, in.NumPoints = anonCount(in.NumVectors), anonCount(in.NumPoints)
			in.NumIndexedVectors, in.NumDeletedVectors = anonCount(in.NumIndexedVectors), anonCount(in.NumDeletedVectors)
			in.VectorsSizeBytes, in.PayloadsSizeBytes = anonCount64(in.VectorsSizeBytes), anonCount64(in.PayloadsSizeBytes)
			in.RAMUsageBytes, in.DiskUsageBytes = anonCount64(in.RAMUsageBytes), anonCount64(in.DiskUsageBytes)
			sg.Info = in
			segs[j] = sg
		}
		if cp.Segments != nil {
			cp.Segments = segs
		}
		c.Shards[i].Local = &cp
	}
}
