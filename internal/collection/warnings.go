package collection

import "fmt"

// Warning is Qdrant's CollectionWarning: a setting of the collection that
// has no effect, reported in collection info.
type Warning struct {
	Message string `json:"message"`
}

// Warnings are the warnings of Qdrant's CollectionConfigInternal::
// get_warnings, with its texts, for each dense vector in name order:
// hnsw_config.inline_storage (the collection's, or the vector's own) does
// nothing for a multivector, nor without quantization (the vector's or the
// collection's).
func (c *Config) Warnings() []Warning {
	var out []Warning
	for _, name := range c.Params.Vectors.Names() {
		p := c.Params.Vectors.Named[name]
		h := c.HnswConfig.Apply(p.HnswConfig)
		if h.InlineStorage == nil || !*h.InlineStorage {
			continue
		}
		switch {
		case p.IsMulti():
			out = append(out, Warning{Message: fmt.Sprintf("The `hnsw_config.inline_storage` option for vector '%s' is not compatible with multivectors. This option will be ignored.", name)})
		case !isSet(p.QuantizationConfig) && !isSet(c.QuantizationConfig):
			out = append(out, Warning{Message: fmt.Sprintf("The `hnsw_config.inline_storage` option for vector '%s' requires quantization to be enabled. This option will be ignored.", name)})
		}
	}
	return out
}
