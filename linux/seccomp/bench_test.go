package seccomp

import (
	"fmt"
	"testing"
)

func BenchmarkCompileDockerDefault(b *testing.B) {
	c := dockerDefault(b)
	b.ReportAllocs()
	var p *Program
	for b.Loop() {
		var err error
		if p, _, err = Compile(c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Filter)), "instructions")
	b.ReportMetric(float64(worstCasePath(p.Filter)), "worst-case-executed")
}

func BenchmarkUnmarshalDockerDefault(b *testing.B) {
	enc := encode(b, mustCompile(b, dockerDefault(b)))
	b.ReportAllocs()
	for b.Loop() {
		var p Program
		if err := p.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(enc)), "bytes")
}

// childLines returns the numbers a benchmark child printed after prefix.
func childNumbers(b *testing.B, o *childOutcome, prefix string, into ...*int64) {
	b.Helper()
	for _, l := range o.lines {
		var format string
		for range into {
			format += " %d"
		}
		var args []any
		for _, p := range into {
			args = append(args, p)
		}
		if n, _ := fmt.Sscanf(l, prefix+format, args...); n == len(into) {
			return
		}
	}
	b.Fatalf("child printed no %q: %q %v\n%s", prefix, o.lines, o.state, o.stderr)
}

// BenchmarkLoad loads the Docker default profile in children: a filter
// cannot be removed, and the filters of one process may hold 32768
// instructions in all, so each child loads a few dozen. ns/op is the load
// alone, as the child timed it; first-load-ns includes the one-time kernel
// probes (flags, actions).
func BenchmarkLoad(b *testing.B) {
	enc := encode(b, mustCompile(b, dockerDefault(b)))
	const perChild = 40
	var firstTotal, restTotal int64
	var children, rest int
	for done := 0; done < b.N; {
		n := min(perChild, b.N-done)
		o := runChild(b, childPlan{NoNewPrivs: true, Program: enc, Loads: n})
		var first, others int64
		childNumbers(b, o, "loads-ns", &first, &others)
		firstTotal += first
		restTotal += others
		children++
		rest += n - 1
		done += n
	}
	b.ReportMetric(float64(firstTotal+restTotal)/float64(b.N), "ns/op")
	b.ReportMetric(float64(firstTotal)/float64(children), "first-load-ns")
}

// BenchmarkSyscallUnderDockerFilter measures what the filter costs every
// syscall: getppid before and after loading the Docker default profile.
func BenchmarkSyscallUnderDockerFilter(b *testing.B) {
	enc := encode(b, mustCompile(b, dockerDefault(b)))
	var before, after int64
	o := runChild(b, childPlan{NoNewPrivs: true, Program: enc, TimeSyscalls: b.N})
	childNumbers(b, o, "syscalls-ns", &before, &after)
	b.ReportMetric(float64(after)/float64(b.N), "ns/op")
	b.ReportMetric(float64(before)/float64(b.N), "unfiltered-ns/op")
}
