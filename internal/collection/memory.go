package collection

import "fmt"

// Memory is Qdrant 1.19's memory placement of a component (the `memory`
// of vectors, HNSW graphs, quantized vectors, the payload storage, payload
// indexes and sparse indexes). It is validated, stored and echoed as
// given; Shoal maps it onto what it has, RAM or a mapped file:
//
//   - vectors (VectorParams.memory): cold keeps a sealed segment's vectors
//     in a mapped file (as on_disk: true), cached on the heap; pinned is
//     refused, as in Qdrant. It overrides on_disk when both are set, and
//     a change of either makes the optimizer rebuild the sealed segments
//     that keep the vector otherwise (appendable segments are on the heap).
//   - sparse indexes: cold and cached map the index file, pinned keeps it
//     on the heap (sparse.go).
//   - HNSW graphs, quantized vectors, the payload storage and payload
//     indexes are always on the heap in Shoal: their memory is kept and
//     echoed, with no other effect (pinned is refused for the payload
//     storage, as in Qdrant).
type Memory string

// The placements.
const (
	MemoryCold   Memory = "cold"
	MemoryCached Memory = "cached"
	MemoryPinned Memory = "pinned"
)

// UnmarshalJSON accepts Qdrant's names only.
func (m *Memory) UnmarshalJSON(b []byte) error {
	s, err := enumString(b)
	if err != nil {
		return err
	}
	switch Memory(s) {
	case MemoryCold, MemoryCached, MemoryPinned:
		*m = Memory(s)
		return nil
	}
	return fmt.Errorf("unknown variant `%s`, expected one of `cold`, `cached`, `pinned`", s)
}

// PayloadStorageParams is Qdrant 1.19's params.payload: the placement of
// the payload storage (cold or cached; pinned is refused). It overrides
// the deprecated on_disk_payload.
type PayloadStorageParams struct {
	Memory *Memory `json:"memory,omitempty"`
}

// Qdrant's texts for the placements a component cannot take.
const (
	msgPinnedDense   = "`pinned` memory placement is not supported for dense vector storage"
	msgPinnedPayload = "`pinned` memory placement is not supported for payload storage"
)

// notPinned adds msg at field when m is pinned.
func (v *validation) notPinned(field string, m *Memory, msg string) {
	if m != nil && *m == MemoryPinned {
		*v = append(*v, field+": "+msg)
	}
}

// vectorOnDisk is whether sealed segments keep a vector's data in a mapped
// file: memory decides when set (cold), else on_disk (Qdrant's
// Memory::resolve, default cached: on the heap).
func vectorOnDisk(p VectorParams) bool {
	if p.Memory != nil {
		return *p.Memory == MemoryCold
	}
	return p.OnDisk != nil && *p.OnDisk
}
