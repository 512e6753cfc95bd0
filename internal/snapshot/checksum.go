package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// ChecksumExt is the extension of the file beside an archive holding its
// hex SHA-256 digest: Qdrant's name (its get_checksum_path appends
// ".checksum"), which tools that read a Qdrant snapshot directory expect.
const ChecksumExt = ".checksum"

// FileSHA256 returns the hex SHA-256 digest of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteChecksum writes sum to archive+ChecksumExt.
func WriteChecksum(archive, sum string) error {
	return os.WriteFile(archive+ChecksumExt, []byte(sum), 0o644)
}

// ReadChecksum reads the digest beside archive.
func ReadChecksum(archive string) (string, error) {
	b, err := os.ReadFile(archive + ChecksumExt)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
