// Package issues is Shoal's version of Qdrant's issues dashboard (its
// lib/common/issues and the problems it reports): a set of performance
// issues and configuration suggestions, each with a solution a client can
// apply, served by GET /issues and cleared by DELETE /issues.
//
// It owns the Issue record and its JSON shape (Qdrant's IssueRecord with
// its Solution), the Dashboard that holds the active ones by id, and the
// problems Qdrant 1.19 reports:
//
//   - UNINDEXED_FIELD/{collection}/{field}: a query slower than the slow
//     query threshold filtered on a payload field without a fitting index
//     (unindexed.go); solved by creating the index, or with the collection;
//   - TOO_MANY_COLLECTIONS/: many collections holding few points each
//     (collections.go).
//
// The package decides what is an issue; the node decides when to look
// (after a slow read, on index creation, on collection create and
// delete). A Dashboard is safe for concurrent use; the rest is pure.
package issues
