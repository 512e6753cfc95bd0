package rest

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// access is what a route demands of the caller's key (see routeTable).
type access uint8

const (
	// accessOpen routes need no key: the root and the health probes, which
	// Qdrant leaves open for load balancers and orchestrators.
	accessOpen access = iota + 1
	// accessRead routes accept the read-only key.
	accessRead
	// accessWrite routes need a full-access key (api_key or alt_api_key).
	accessWrite
)

func (a access) String() string {
	switch a {
	case accessOpen:
		return "open"
	case accessRead:
		return "read"
	case accessWrite:
		return "write"
	}
	return "unknown"
}

// grant is what the key a request carries allows.
type grant uint8

const (
	grantNone    grant = iota // no key at all
	grantInvalid              // a key that matches none of ours
	grantRead                 // the read-only key
	grantFull                 // api_key or alt_api_key
)

// Qdrant's texts. Qdrant sends the two 401 texts as a plain-text body; Shoal
// wraps them in the usual error envelope, which every client reads as well,
// and the 403 text is the one Qdrant's envelope carries.
const (
	msgNoKey      = "Must provide an API key or an Authorization bearer token"
	msgInvalidKey = "Invalid API key or JWT"
	msgReadOnly   = "Forbidden: Global manage access is required"
)

// keys holds SHA-256 digests of the configured keys: comparing digests in
// constant time leaks neither the keys nor their lengths.
type keys struct {
	full     [][sha256.Size]byte
	readOnly [][sha256.Size]byte
}

// newKeys builds the key set; an empty key is disabled, as in Qdrant.
func newKeys(apiKey, altAPIKey, readOnlyAPIKey string) keys {
	var k keys
	for _, key := range []string{apiKey, altAPIKey} {
		if key != "" {
			k.full = append(k.full, sha256.Sum256([]byte(key)))
		}
	}
	if readOnlyAPIKey != "" {
		k.readOnly = append(k.readOnly, sha256.Sum256([]byte(readOnlyAPIKey)))
	}
	return k
}

// enabled reports whether any key is configured; without one every request
// is allowed.
func (k keys) enabled() bool { return len(k.full)+len(k.readOnly) > 0 }

// grantOf classifies the key of a request. Every configured key is compared,
// so the time taken does not depend on which one matched.
func (k keys) grantOf(h http.Header) grant {
	key, ok := presentedKey(h)
	if !ok {
		return grantNone
	}
	sum := sha256.Sum256([]byte(key))
	full, readOnly := 0, 0
	for i := range k.full {
		full |= subtle.ConstantTimeCompare(sum[:], k.full[i][:])
	}
	for i := range k.readOnly {
		readOnly |= subtle.ConstantTimeCompare(sum[:], k.readOnly[i][:])
	}
	switch {
	case full == 1:
		return grantFull
	case readOnly == 1:
		return grantRead
	}
	return grantInvalid
}

// presentedKey finds the key as Qdrant does: the api-key header if present
// (even empty, which then matches no key), else an Authorization bearer
// token. Qdrant only strips "Bearer " spelt so; Shoal takes the scheme in any
// case, as RFC 9110 (section 11.1) asks, which accepts more and refuses
// nothing Qdrant accepts.
func presentedKey(h http.Header) (string, bool) {
	if v, ok := h["Api-Key"]; ok && len(v) > 0 {
		return v[0], true
	}
	auth := h.Get("Authorization")
	const scheme = "bearer "
	if len(auth) >= len(scheme) && strings.EqualFold(auth[:len(scheme)], scheme) {
		return auth[len(scheme):], true
	}
	return "", false
}

// decide returns the status and message refusing a request to a route of
// the given access, or 0 when the request may go on.
func decide(need access, g grant) (int, string) {
	if need == accessOpen || g == grantFull {
		return 0, ""
	}
	switch g {
	case grantNone:
		return http.StatusUnauthorized, msgNoKey
	case grantInvalid:
		return http.StatusUnauthorized, msgInvalidKey
	}
	// The read-only key: Qdrant lets it through authentication and the
	// handler's access check answers 403.
	if need == accessRead {
		return 0, ""
	}
	return http.StatusForbidden, msgReadOnly
}
