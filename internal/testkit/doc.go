// Package testkit holds what many test packages need and nothing in
// production may use (arch_test.go holds that): waiting for a condition
// with a deadline (never a bare sleep), and building the shoal binary once
// per test process for the tests that run it as a separate process.
package testkit
