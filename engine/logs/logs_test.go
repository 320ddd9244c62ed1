package logs

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func collect(t *testing.T, path string, opts ReadOptions) []Entry {
	t.Helper()
	var out []Entry
	if err := Read(path, opts, func(e Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteSplitsLinesAndTails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Write("stdout", []byte("one\ntwo\nthr"))
	w.Write("stderr", []byte("oops\n"))
	w.Close()
	all := collect(t, path, ReadOptions{Tail: -1})
	got := []string{}
	for _, e := range all {
		got = append(got, e.Stream+":"+e.Log)
	}
	want := "stdout:one\n|stdout:two\n|stdout:thr|stderr:oops\n"
	if strings.Join(got, "|") != want {
		t.Fatalf("entries %q, want %q", strings.Join(got, "|"), want)
	}
	if all[0].Time.IsZero() {
		t.Fatal("entry without a timestamp")
	}
	last := collect(t, path, ReadOptions{Tail: 2})
	if len(last) != 2 || last[0].Log != "thr" || last[1].Log != "oops\n" {
		t.Fatalf("tail 2: %+v", last)
	}
}

func TestFollowSeesNewEntriesUntilStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write("stdout", []byte("before\n"))
	stop := make(chan struct{})
	got := make(chan string, 10)
	done := make(chan error)
	go func() {
		done <- Read(path, ReadOptions{Tail: -1, Follow: true, Stop: stop, Poll: 5 * time.Millisecond},
			func(e Entry) error { got <- e.Log; return nil })
	}()
	if l := <-got; l != "before\n" {
		t.Fatalf("first entry %q", l)
	}
	w.Write("stdout", []byte("after\n"))
	select {
	case l := <-got:
		if l != "after\n" {
			t.Fatalf("followed entry %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not see the new entry")
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
