package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// leaf is one scalar key of Config.
type leaf struct {
	key     string // canonical dotted key, e.g. "service.http_port"
	aliases []string
	typ     reflect.Type
	index   []int // field index path inside Config
}

// schema is the set of keys Config knows, derived from its koanf tags.
type schema struct {
	leaves   []leaf
	byKey    map[string]*leaf // canonical keys and aliases
	sections map[string]bool  // "storage", "storage.wal", ...
}

func newSchema() *schema {
	s := &schema{byKey: map[string]*leaf{}, sections: map[string]bool{}}
	s.walk(reflect.TypeFor[Config](), "", nil)
	for i := range s.leaves {
		l := &s.leaves[i]
		s.byKey[l.key] = l
		for _, a := range l.aliases {
			s.byKey[a] = l
		}
	}
	return s
}

func (s *schema) walk(t reflect.Type, prefix string, index []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("koanf")
		if name == "" || name == "-" {
			continue
		}
		key := joinKey(prefix, name)
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct {
			s.sections[key] = true
			s.walk(f.Type, key, idx)
			continue
		}
		if !isScalar(f.Type) {
			// A programming error in Config, caught by every test.
			panic(fmt.Sprintf("config: field %s has unsupported type %s", key, f.Type))
		}
		l := leaf{key: key, typ: f.Type, index: idx}
		if a := f.Tag.Get("alias"); a != "" {
			for n := range strings.SplitSeq(a, ",") {
				l.aliases = append(l.aliases, joinKey(prefix, n))
			}
		}
		s.leaves = append(s.leaves, l)
	}
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func isScalar(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Uint64, reflect.Float64:
		return true
	}
	return false
}

// flatValues returns the leaves of c as a flat map, nil pointers as nil.
func (s *schema) flatValues(c *Config) map[string]any {
	root := reflect.ValueOf(c).Elem()
	out := make(map[string]any, len(s.leaves))
	for _, l := range s.leaves {
		v := root.FieldByIndex(l.index)
		switch {
		case v.Kind() != reflect.Pointer:
			out[l.key] = v.Interface()
		case v.IsNil():
			out[l.key] = nil
		default:
			out[l.key] = v.Elem().Interface()
		}
	}
	return out
}

// envName is the environment variable that sets key, Qdrant style:
// "service.http_port" -> "QDRANT__SERVICE__HTTP_PORT".
func envName(key string) string {
	return "QDRANT__" + strings.ToUpper(strings.ReplaceAll(key, ".", "__"))
}

// convert turns a raw value from YAML or the environment into the type of
// a leaf. skip is true when the value means "not set" for that leaf: a null
// on a non-nullable number or bool keeps the earlier value.
func convert(v any, t reflect.Type) (out any, skip bool, err error) {
	if t.Kind() == reflect.Pointer {
		if v == nil {
			return nil, false, nil
		}
		if s, ok := v.(string); ok && isNullString(s) {
			return nil, false, nil
		}
		t = t.Elem()
	}
	if v == nil {
		if t.Kind() == reflect.String {
			return "", false, nil
		}
		return nil, true, nil
	}
	switch t.Kind() {
	case reflect.String:
		out, err = toString(v)
	case reflect.Bool:
		out, err = toBool(v)
	case reflect.Int:
		var n int64
		n, err = toInt64(v)
		out = int(n)
	case reflect.Uint64:
		out, err = toUint64(v)
	case reflect.Float64:
		out, err = toFloat(v)
	default:
		err = fmt.Errorf("unsupported field type %s", t)
	}
	return out, false, err
}

// typeName names what a leaf of type t accepts, for error messages.
func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "an integer"
	case reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float64:
		return "a number"
	}
	return t.String()
}

func isNullString(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s == "~" || strings.EqualFold(s, "null")
}

func describe(v any) string {
	switch x := v.(type) {
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, int, int64, uint64, float64:
		// An api_key of 12345 is a YAML integer, but meant as text.
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("want a string, got %s", describe(v))
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off":
			return false, nil
		}
	}
	return false, fmt.Errorf("want true or false, got %s", describe(v))
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x <= math.MaxInt64 {
			return int64(x), nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("want an integer, got %s", describe(v))
}

func toUint64(v any) (uint64, error) {
	switch x := v.(type) {
	case uint64:
		return x, nil
	case string:
		if n, err := strconv.ParseUint(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	default:
		if n, err := toInt64(v); err == nil && n >= 0 {
			return uint64(n), nil
		}
	}
	return 0, fmt.Errorf("want a non-negative integer, got %s", describe(v))
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("want a number, got %s", describe(v))
}
