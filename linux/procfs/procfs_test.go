package procfs

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestParseStatWithTrickyName(t *testing.T) {
	line := []byte("42 (a) b) (c) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 18446744073709551615")
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != 'S' || st.PPid != 7 || st.StartTime != 98765 {
		t.Fatalf("parsed %+v", st)
	}
	if _, err := parseStat([]byte("42 (x) S 1")); err == nil {
		t.Fatal("short line parsed without error")
	}
}

func TestAliveFollowsProcessLifetime(t *testing.T) {
	self, err := ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !Alive(os.Getpid(), self.StartTime) {
		t.Fatal("this process is not alive")
	}
	if Alive(os.Getpid(), self.StartTime+1) {
		t.Fatal("a different start time matched (pid reuse would be missed)")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st, err := ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	// Not yet reaped: a zombie, which is not alive.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if s, err := ReadStat(cmd.Process.Pid); err == nil && s.State == 'Z' {
			break
		}
	}
	if Alive(cmd.Process.Pid, st.StartTime) {
		t.Fatal("a killed (zombie) process counts as alive")
	}
	cmd.Wait()
	if _, err := ReadStat(cmd.Process.Pid); err == nil {
		t.Skip("pid was reused before the check")
	}
	if Alive(cmd.Process.Pid, st.StartTime) {
		t.Fatal("a reaped process counts as alive")
	}
}

func TestPidsInNamespaceFindsSelf(t *testing.T) {
	ns, err := PidNamespace(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	pids, err := PidsInNamespace(ns)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pids {
		found = found || p == os.Getpid()
	}
	if !found {
		t.Fatalf("own pid %d not among %d pids of %s", os.Getpid(), len(pids), ns)
	}
	if other, err := PidsInNamespace("pid:[0]"); err != nil || len(other) != 0 {
		t.Fatalf("a namespace no process is in matched %v (%v)", other, err)
	}
}
