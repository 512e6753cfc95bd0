package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/shoaldb/shoal/internal/collection"
)

// CreateVectorName adds a named vector, dense or sparse, to an existing
// collection (Qdrant's PUT /collections/{c}/vectors/{name}): existing
// points have no value for it until they are updated. Adding a vector the
// collection has in the same space changes nothing; in another space, or
// of the other kind, it is bad input. In cluster mode the change goes
// through consensus and every peer applies it.
func (n *Node) CreateVectorName(ctx context.Context, collectionName, vectorName string, vc *collection.VectorNameConfig) error {
	return n.changeConfig(ctx, collectionName, func(cur *collection.Config) (*collection.Config, bool, error) {
		return cur.WithVector(vectorName, vc)
	})
}

// DeleteVectorName drops a named vector, dense or sparse, with its data
// from every point of a collection (Qdrant's DELETE /collections/{c}/
// vectors/{name}); dropping a vector the collection does not have changes
// nothing.
func (n *Node) DeleteVectorName(ctx context.Context, collectionName, vectorName string) error {
	return n.changeConfig(ctx, collectionName, func(cur *collection.Config) (*collection.Config, bool, error) {
		return cur.WithoutVector(vectorName)
	})
}

// maxVectorName is Qdrant's bound on vector names, in bytes.
const maxVectorName = 200

// ValidateVectorName applies Qdrant's rules for vector names (they name
// directories in Qdrant's storage): at most 200 bytes, none of the
// characters refused in collection names.
func ValidateVectorName(name string) error {
	if len(name) > maxVectorName {
		return &collection.ValidationError{Fields: []string{fmt.Sprintf("vector_name: vector name must be at most %d bytes long", maxVectorName)}}
	}
	for _, c := range []string{"<", ">", ":", "\"", "/", "\\", "|", "?", "*", "\x00", "\x1f"} {
		if strings.Contains(name, c) {
			return &collection.ValidationError{Fields: []string{fmt.Sprintf("vector_name: vector name cannot contain %q char", c)}}
		}
	}
	return nil
}
