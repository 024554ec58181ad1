// Package testkit is what tests across paydesk share instead of copying:
// a clock the test moves, and the Redis server of the test machine. The
// test databases are storage/storagetest's.
package testkit
