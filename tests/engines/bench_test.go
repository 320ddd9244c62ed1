package engines

import (
	"strconv"
	"testing"
)

// The benchmarks time what a user of each engine waits for, with the
// runtime under test (TINCAN_ENGINES_RUNTIME=runc for the comparison):
//
//	go test -run '^$' -bench . -benchtime 20x ./tests/engines/

func BenchmarkContainerdRun(b *testing.B) {
	e := startContainerd(b)
	for i := 0; b.Loop(); i++ {
		e.ctr.must(b, e.runArgs("--rm", testImage, "bench-"+strconv.Itoa(i), "true")...)
	}
}

func BenchmarkContainerdExec(b *testing.B) {
	e := startContainerd(b)
	id := e.startSleeper(b)
	for i := 0; b.Loop(); i++ {
		e.ctr.must(b, e.execArgs("--exec-id", "bench-"+strconv.Itoa(i), id, "true")...)
	}
}

func BenchmarkPodmanRun(b *testing.B) {
	e := startPodman(b)
	for b.Loop() {
		e.podman.must(b, e.runArgs("--rm", testImage, "true")...)
	}
}

func BenchmarkPodmanExec(b *testing.B) {
	e := startPodman(b)
	name, _ := e.startSleeper(b)
	for b.Loop() {
		e.podman.must(b, "exec", name, "true")
	}
}

func BenchmarkDockerRun(b *testing.B) {
	e := startDocker(b)
	for b.Loop() {
		e.docker.must(b, e.runArgs("--rm", testImage, "true")...)
	}
}

func BenchmarkDockerExec(b *testing.B) {
	e := startDocker(b)
	name, _ := e.startSleeper(b)
	for b.Loop() {
		e.docker.must(b, "exec", name, "true")
	}
}
