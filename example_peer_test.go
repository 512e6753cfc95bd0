package shoal_test

import (
	"fmt"
	"log"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/shoaldb/shoal"
)

// Two peers of one cluster in one process: a collection created through
// the first appears on the second through the cluster's Raft log.
func ExampleOpenPeer() {
	quiet := slog.New(slog.DiscardHandler)
	dir1, _ := os.MkdirTemp("", "shoal-peer-")
	defer os.RemoveAll(dir1)
	dir2, _ := os.MkdirTemp("", "shoal-peer-")
	defer os.RemoveAll(dir2)

	first, err := shoal.OpenPeer(dir1, shoal.PeerOptions{Listen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	defer first.Close()
	second, err := shoal.OpenPeer(dir2, shoal.PeerOptions{Listen: "127.0.0.1:0", Bootstrap: first.PeerURI(), Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	defer second.Close()

	if err := first.CreateCollection("docs", shoal.VectorParams{Size: 4, Distance: shoal.Cosine}); err != nil {
		log.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !slices.Contains(second.Collections(), "docs"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			log.Fatal("the second peer never saw the collection")
		}
	}
	fmt.Println(second.Collections())
	// Output: [docs]
}
