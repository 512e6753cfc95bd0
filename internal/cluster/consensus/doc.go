// Package consensus runs Raft for the cluster's metadata with etcd's raft
// library (RawNode): durable raft state (storage.go), and the driver that
// ticks the node, persists and sends its Ready, and applies committed
// operations to the cluster state machine. It is the only package that
// imports the raft library.
package consensus
