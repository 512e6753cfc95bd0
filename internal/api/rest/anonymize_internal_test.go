package rest

import (
	"testing"
	"time"
)

// TestAnonName: names hash as Qdrant's Anonymize for String does (Rust's
// DefaultHasher over the string); the expected values were computed with
// rustc from `s.hash(&mut DefaultHasher::new()); finish()`.
func TestAnonName(t *testing.T) {
	for s, want := range map[string]string{
		"":                 "3476900567878811119",
		"a":                "8186225505942432243",
		"test_collection":  "3676065581918989249",
		"0123456789abcdef": "4385730782170763467",
		"a much longer collection name, with spaces": "10656906308682148506",
	} {
		if got := anonName(s); got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
}

// TestAnonCount is Qdrant's Anonymize for usize.
func TestAnonCount(t *testing.T) {
	for n, want := range map[int]int{0: 0, 7: 7, 12345: 12345, 31622: 31622, 31623: 31620, 123456: 123450, 9876543: 9876000, 1_000_000_007: 1_000_000_000} {
		if got := anonCount(n); got != want {
			t.Errorf("%d: %d, want %d", n, got, want)
		}
	}
	now := time.Now()
	for range 100 {
		if d := anonTime(now).Sub(now); d < -10*time.Second || d > 10*time.Second {
			t.Fatalf("moved by %v", d)
		}
	}
}
