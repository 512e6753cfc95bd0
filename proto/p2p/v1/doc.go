// Package p2pv1 is the generated Go code of Shoal's internal peer-to-peer
// protocol (package shoal.p2p.v1, the .proto files next to this one): the
// Raft, Cluster, Points and ShardTransfer services served on the P2P port. Regenerate it
// with proto/generate.sh after editing a .proto file; the generated files
// are committed so that a build needs no protoc.
package p2pv1
