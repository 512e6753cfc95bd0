package point

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/uuid"
)

// ID is a point id: either an unsigned 64-bit integer or a UUID. The zero
// value is the integer 0. IDs are comparable and usable as map keys.
type ID struct {
	num    uint64
	uuid   uuid.UUID
	isUUID bool
}

// NumID returns the integer id n.
func NumID(n uint64) ID { return ID{num: n} }

// UUIDID returns the UUID id u.
func UUIDID(u uuid.UUID) ID { return ID{uuid: u, isUUID: true} }

// ParseUUID parses any textual UUID form (canonical, braces, urn, no dashes).
func ParseUUID(s string) (ID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return ID{}, fmt.Errorf("invalid point id %q: %w", s, err)
	}
	return UUIDID(u), nil
}

// IsUUID reports whether the id is a UUID.
func (id ID) IsUUID() bool { return id.isUUID }

// Num returns the integer value of a numeric id.
func (id ID) Num() uint64 { return id.num }

// UUID returns the UUID value of a UUID id.
func (id ID) UUID() uuid.UUID { return id.uuid }

// String returns the integer in decimal or the UUID in canonical form.
func (id ID) String() string {
	if id.isUUID {
		return id.uuid.String()
	}
	return strconv.FormatUint(id.num, 10)
}

// Less orders ids the way Qdrant's scroll does: all integer ids first, in
// numeric order, then UUIDs in byte order.
func (id ID) Less(o ID) bool {
	if id.isUUID != o.isUUID {
		return !id.isUUID
	}
	if id.isUUID {
		return bytes.Compare(id.uuid[:], o.uuid[:]) < 0
	}
	return id.num < o.num
}

// Compare returns -1, 0 or +1 in the order of Less.
func (id ID) Compare(o ID) int {
	switch {
	case id == o:
		return 0
	case id.Less(o):
		return -1
	default:
		return 1
	}
}

// MarshalJSON writes a number or a canonical UUID string.
func (id ID) MarshalJSON() ([]byte, error) {
	if id.isUUID {
		return []byte(`"` + id.uuid.String() + `"`), nil
	}
	return strconv.AppendUint(nil, id.num, 10), nil
}

// UnmarshalJSON accepts an unsigned integer or a UUID string.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		p, err := ParseUUID(s)
		if err != nil {
			return err
		}
		*id = p
		return nil
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("invalid point id %s: expected an unsigned integer or a UUID string", truncate(b))
	}
	*id = NumID(n)
	return nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
