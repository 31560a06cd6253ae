//go:build race

package password

// raceEnabled is true under -race, where sync.Pool drops items on purpose
// and allocation counts say nothing about normal builds.
const raceEnabled = true
