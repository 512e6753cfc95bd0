package history

import (
	"sync"
	"testing"
)

// TestRecorderConcurrent: ids are unique and dense, every completion is
// recorded once, in-flight operations read as unknown with no end.
func TestRecorderConcurrent(t *testing.T) {
	rec := NewRecorder()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				id := rec.Invoke(Upsert, uint64(g), "p")
				if i%10 == 9 {
					continue // left in flight
				}
				if _, err := rec.Complete(id, OK, ""); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	h := rec.History()
	if len(h) != 800 {
		t.Fatalf("%d ops", len(h))
	}
	inFlight := 0
	for i, op := range h {
		if op.ID != WriteID(i+1) {
			t.Fatalf("op %d has id %d", i, op.ID)
		}
		if op.Complete == Forever {
			inFlight++
			if op.Outcome != Unknown {
				t.Fatalf("in flight but %v", op.Outcome)
			}
		} else if op.Complete < op.Invoke || op.Outcome != OK {
			t.Fatalf("bad op %v", op)
		}
	}
	if inFlight != 80 {
		t.Fatalf("%d in flight, want 80", inFlight)
	}
	if _, err := rec.Complete(1, OK, ""); err == nil {
		t.Fatal("second completion accepted")
	}
	if _, err := rec.Complete(0, OK, ""); err == nil {
		t.Fatal("completion of id 0 accepted")
	}
	if _, err := rec.Complete(801, OK, ""); err == nil {
		t.Fatal("completion of an unknown id accepted")
	}
}
