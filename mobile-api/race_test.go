//go:build race

package mobileapi

// raceEnabled says the tests run under the race detector, which makes the
// load tests several times slower: they shrink to stay fast.
const raceEnabled = true
