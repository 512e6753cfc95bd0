package issues

// TooManyCollections is Qdrant's TOO_MANY_COLLECTIONS issue: there is one
// for the whole node.
const TooManyCollectionsID = "TOO_MANY_COLLECTIONS/"

// Qdrant's thresholds (lib/collection/src/problems/too_many_collections.rs):
// more than manyCollections collections whose average number of points,
// divided by the number of collections, is under fewPoints/manyCollections.
const (
	manyCollections = 30
	fewPoints       = 10000
)

// TooManyCollections reports whether collections of these sizes (points)
// are too many: more than 30, with a low density of points.
func TooManyCollections(sizes []int) bool {
	count := max(len(sizes), 1)
	sum := 0
	for _, n := range sizes {
		sum += n
	}
	avg := sum / count // integer division, as Qdrant's usize
	density := float64(avg) / float64(count)
	return count > manyCollections && density < float64(fewPoints)/float64(manyCollections)
}

// TooManyCollectionsIssue is the issue, with Qdrant's texts.
func TooManyCollectionsIssue() Issue {
	return Issue{
		ID: TooManyCollectionsID,
		Description: "It looks like you have too many collections.\n" +
			"If your architecture creates collections programmatically, it's probably better to restructure your solution into a fixed number of them.\n\n" +
			"Learn more here: https://qdrant.tech/documentation/guides/multiple-partitions/\n" +
			"Or, for some more complex cases: https://qdrant.tech/documentation/guides/distributed_deployment/#user-defined-sharding",
		Solution: Solution{Refactor: "Restructure your usage of Qdrant into a fixed number of collections"},
	}
}

// CheckCollections submits or solves the TOO_MANY_COLLECTIONS issue for
// collections of these sizes, as Qdrant does when a collection is created
// or deleted.
func (d *Dashboard) CheckCollections(sizes []int) {
	if TooManyCollections(sizes) {
		d.Submit(TooManyCollectionsIssue())
	} else {
		d.Solve(TooManyCollectionsID)
	}
}
