package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

// invalidCase is one mutation of the default configuration that Validate
// must refuse, naming field. class is errdefs.ErrInvalidArgument unless set.
type invalidCase struct {
	name   string
	mutate func(s *specs.Spec, bundle string)
	field  string
	class  error
}

// runInvalidCases applies each mutation to a fresh Default() and checks that
// Validate's error starts with "config.json: <field>: " and has the class.
func runInvalidCases(t *testing.T, cases []invalidCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			s := Default()
			tc.mutate(s, bundle)
			_, err := Validate(s, bundle)
			if err == nil {
				t.Fatalf("Validate accepted the config, want an error naming %s", tc.field)
			}
			wantPrefix := ConfigFile + ": " + tc.field + ": "
			if !strings.HasPrefix(err.Error(), wantPrefix) {
				t.Errorf("error %q does not start with %q", err, wantPrefix)
			}
			class := tc.class
			if class == nil {
				class = errdefs.ErrInvalidArgument
			}
			if !errors.Is(err, class) {
				t.Errorf("error %q is not of class %v", err, class)
			}
		})
	}
}

func TestValidateRejectsTopLevel(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"no version", func(s *specs.Spec, _ string) { s.Version = "" }, "ociVersion", nil},
		{"version 0.x", func(s *specs.Spec, _ string) { s.Version = "0.6.0" }, "ociVersion", nil},
		{"version 2.x", func(s *specs.Spec, _ string) { s.Version = "2.0.0" }, "ociVersion", nil},
		{"version two parts", func(s *specs.Spec, _ string) { s.Version = "1.0" }, "ociVersion", nil},
		{"version words", func(s *specs.Spec, _ string) { s.Version = "one" }, "ociVersion", nil},
		{"no root", func(s *specs.Spec, _ string) { s.Root = nil }, "root.path", nil},
		{"empty root path", func(s *specs.Spec, _ string) { s.Root.Path = "" }, "root.path", nil},
		{"missing rootfs", func(s *specs.Spec, _ string) { s.Root.Path = "nope" }, "root.path", errdefs.ErrNotFound},
		{"rootfs is a file", func(s *specs.Spec, bundle string) {
			if err := os.WriteFile(filepath.Join(bundle, "file"), nil, 0o644); err != nil {
				panic(err)
			}
			s.Root.Path = "file"
		}, "root.path", nil},
		{"NUL in root path", func(s *specs.Spec, _ string) { s.Root.Path = "root\x00fs" }, "root.path", nil},
		{"hostname without uts", func(s *specs.Spec, _ string) { removeNamespace(s, specs.UTSNamespace) }, "linux.namespaces", nil},
		{"hostname without linux", func(s *specs.Spec, _ string) { s.Linux = nil }, "linux.namespaces", nil},
		{"domainname without uts", func(s *specs.Spec, _ string) {
			s.Hostname = ""
			s.Domainname = "example.org"
			removeNamespace(s, specs.UTSNamespace)
		}, "linux.namespaces", nil},
		{"hostname too long", func(s *specs.Spec, _ string) { s.Hostname = strings.Repeat("h", 65) }, "hostname", nil},
		{"hostname with space", func(s *specs.Spec, _ string) { s.Hostname = "a b" }, "hostname", nil},
		{"domainname with newline", func(s *specs.Spec, _ string) { s.Domainname = "a\nb" }, "domainname", nil},
		{"empty annotation key", func(s *specs.Spec, _ string) { s.Annotations = map[string]string{"": "x"} }, "annotations", nil},
	})
}

func TestValidateRejectsProcess(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"no args", func(s *specs.Spec, _ string) { s.Process.Args = nil }, "process.args", nil},
		{"empty program", func(s *specs.Spec, _ string) { s.Process.Args = []string{"", "x"} }, "process.args[0]", nil},
		{"NUL in arg", func(s *specs.Spec, _ string) { s.Process.Args = []string{"sh", "a\x00b"} }, "process.args[1]", nil},
		{"no cwd", func(s *specs.Spec, _ string) { s.Process.Cwd = "" }, "process.cwd", nil},
		{"relative cwd", func(s *specs.Spec, _ string) { s.Process.Cwd = "home" }, "process.cwd", nil},
		{"empty env", func(s *specs.Spec, _ string) { s.Process.Env = append(s.Process.Env, "") }, "process.env[2]", nil},
		{"env without name", func(s *specs.Spec, _ string) { s.Process.Env = append(s.Process.Env, "=x") }, "process.env[2]", nil},
		{"env without =", func(s *specs.Spec, _ string) { s.Process.Env = append(s.Process.Env, "FOO") }, "process.env[2]", nil},
		{"NUL in env", func(s *specs.Spec, _ string) { s.Process.Env[0] = "A=\x00" }, "process.env[0]", nil},
		{"oomScoreAdj high", func(s *specs.Spec, _ string) { s.Process.OOMScoreAdj = ptr(1001) }, "process.oomScoreAdj", nil},
		{"oomScoreAdj low", func(s *specs.Spec, _ string) { s.Process.OOMScoreAdj = ptr(-1001) }, "process.oomScoreAdj", nil},
		{"soft above hard", func(s *specs.Spec, _ string) { s.Process.Rlimits[0].Soft = 2048 }, "process.rlimits[0]", nil},
		{"duplicate rlimit", func(s *specs.Spec, _ string) {
			s.Process.Rlimits = append(s.Process.Rlimits, s.Process.Rlimits[0])
		}, "process.rlimits[1].type", nil},
		{"umask too big", func(s *specs.Spec, _ string) { s.Process.User.Umask = ptr[uint32](0o1000) }, "process.user.umask", nil},
		{"ioPriority class", func(s *specs.Spec, _ string) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_NONE"}
		}, "process.ioPriority.class", nil},
		{"ioPriority level", func(s *specs.Spec, _ string) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}
		}, "process.ioPriority.priority", nil},
		{"scheduler no policy", func(s *specs.Spec, _ string) { s.Process.Scheduler = &specs.Scheduler{} }, "process.scheduler.policy", nil},
		{"scheduler unknown policy", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FAST"}
		}, "process.scheduler.policy", nil},
		{"scheduler ISO", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedISO}
		}, "process.scheduler.policy", errdefs.ErrUnsupported},
		{"scheduler nice", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Nice: 20}
		}, "process.scheduler.nice", nil},
		{"FIFO without priority", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO}
		}, "process.scheduler.priority", nil},
		{"OTHER with priority", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Priority: 5}
		}, "process.scheduler.priority", nil},
		{"scheduler flag", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_FAST"}}
		}, "process.scheduler.flags[0]", nil},
		{"deadline without deadline", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10}
		}, "process.scheduler.deadline", nil},
		{"deadline runtime too long", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 20, Deadline: 10}
		}, "process.scheduler.runtime", nil},
		{"deadline after period", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 5, Deadline: 20, Period: 10}
		}, "process.scheduler.deadline", nil},
		{"cpu list word", func(s *specs.Spec, _ string) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "0-x"}
		}, "process.execCPUAffinity.final", nil},
		{"cpu list backwards", func(s *specs.Spec, _ string) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "3-1"}
		}, "process.execCPUAffinity.initial", nil},
		{"cpu list huge", func(s *specs.Spec, _ string) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-99999999999"}
		}, "process.execCPUAffinity.initial", nil},
		{"cpu list empty item", func(s *specs.Spec, _ string) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "1,,2"}
		}, "process.execCPUAffinity.initial", nil},
	})
}

func TestValidateRejectsMountsAndHooks(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"no destination", func(s *specs.Spec, _ string) { s.Mounts[1].Destination = "" }, "mounts[1].destination", nil},
		{"NUL in destination", func(s *specs.Spec, _ string) { s.Mounts[1].Destination = "/a\x00" }, "mounts[1].destination", nil},
		{"bind without source", func(s *specs.Spec, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Options: []string{"rbind"}})
		}, "mounts[7].source", nil},
		{"bind type without source", func(s *specs.Spec, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind"})
		}, "mounts[7].source", nil},
		{"no type", func(s *specs.Spec, _ string) { s.Mounts[2].Type = "" }, "mounts[2].type", nil},
		{"NUL in source", func(s *specs.Spec, _ string) { s.Mounts[0].Source = "p\x00" }, "mounts[0].source", nil},
		{"uid map without gid map", func(s *specs.Spec, _ string) {
			s.Mounts[0].UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "mounts[0].gidMappings", nil},
		{"gid map without uid map", func(s *specs.Spec, _ string) {
			s.Mounts[0].GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "mounts[0].uidMappings", nil},
		{"mount map size 0", func(s *specs.Spec, _ string) {
			s.Mounts[0].UIDMappings = []specs.LinuxIDMapping{{HostID: 1000}}
			s.Mounts[0].GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "mounts[0].uidMappings[0].size", nil},
		{"relative hook", func(s *specs.Spec, _ string) {
			//lint:ignore SA1019 deprecated, but engines still send prestart hooks
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "bin/hook"}}}
		}, "hooks.prestart[0].path", nil},
		{"empty hook path", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/ok"}, {}}}
		}, "hooks.poststop[1].path", nil},
		{"zero timeout", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/hook", Timeout: ptr(0)}}}
		}, "hooks.createRuntime[0].timeout", nil},
		{"negative timeout", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/hook", Timeout: ptr(-1)}}}
		}, "hooks.startContainer[0].timeout", nil},
		{"NUL in hook arg", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/hook", Args: []string{"hook", "\x00"}}}}
		}, "hooks.poststart[0].args[1]", nil},
		{"NUL in hook env", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/hook", Env: []string{"A=\x00"}}}}
		}, "hooks.createContainer[0].env[0]", nil},
	})
}

// removeNamespace drops the namespace of type t from s.
func removeNamespace(s *specs.Spec, t specs.LinuxNamespaceType) {
	var kept []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != t {
			kept = append(kept, ns)
		}
	}
	s.Linux.Namespaces = kept
}

// setNamespacePath makes the container join the namespace of type t at path.
func setNamespacePath(s *specs.Spec, t specs.LinuxNamespaceType, path string) {
	removeNamespace(s, t)
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t, Path: path})
}

func TestValidateAccepts(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *specs.Spec, bundle string)
	}{
		{"default", func(*specs.Spec, string) {}},
		{"runc's version", func(s *specs.Spec, _ string) { s.Version = "1.0.2-dev" }},
		{"pre-release and build", func(s *specs.Spec, _ string) { s.Version = "1.0.0-rc5+dev" }},
		{"future minor", func(s *specs.Spec, _ string) { s.Version = "1.9.0" }},
		{"absolute root", func(s *specs.Spec, bundle string) { s.Root.Path = filepath.Join(bundle, "rootfs") }},
		{"symlinked rootfs", func(s *specs.Spec, bundle string) {
			if err := os.Symlink("rootfs", filepath.Join(bundle, "link")); err != nil {
				panic(err)
			}
			s.Root.Path = "link"
		}},
		{"no process", func(s *specs.Spec, _ string) { s.Process = nil }},
		{"no hostname, no uts", func(s *specs.Spec, _ string) {
			s.Hostname = ""
			removeNamespace(s, specs.UTSNamespace)
		}},
		{"no linux", func(s *specs.Spec, _ string) { s.Hostname = ""; s.Linux = nil }},
		{"realtime scheduler", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedRR, Priority: 10,
				Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
		}},
		{"deadline scheduler", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10, Deadline: 20, Period: 30}
		}},
		{"io priority", func(s *specs.Spec, _ string) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 7}
		}},
		{"cpu lists", func(s *specs.Spec, _ string) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "7", Final: "0-3,7"}
		}},
		{"umask and oom", func(s *specs.Spec, _ string) {
			s.Process.User.Umask = ptr[uint32](0o777)
			s.Process.OOMScoreAdj = ptr(-1000)
		}},
		{"env value with =", func(s *specs.Spec, _ string) { s.Process.Env = append(s.Process.Env, "A=b=c", "EMPTY=") }},
		{"bind mount without type", func(s *specs.Spec, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "data", Options: []string{"rbind", "ro"}})
		}},
		{"id-mapped mount", func(s *specs.Spec, _ string) {
			m := specs.Mount{Destination: "/data", Source: "/srv", Type: "bind"}
			m.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
			m.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
			s.Mounts = append(s.Mounts, m)
		}},
		{"hooks", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Timeout: ptr(5)}}}
		}},
		{"annotations", func(s *specs.Spec, _ string) { s.Annotations = map[string]string{"org.example.key": ""} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			s := Default()
			tc.mutate(s, bundle)
			if _, err := Validate(s, bundle); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateWarns(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(s *specs.Spec)
		warning string
	}{
		{"relative destination", func(s *specs.Spec) { s.Mounts[0].Destination = "proc" }, "config.json: mounts[0].destination: "},
		{"console size without terminal", func(s *specs.Spec) {
			s.Process.Terminal = false
			s.Process.ConsoleSize = &specs.Box{Height: 25, Width: 80}
		}, "config.json: process.consoleSize: "},
		{"hostname in joined uts", func(s *specs.Spec) {
			setNamespacePath(s, specs.UTSNamespace, "/proc/1/ns/uts")
		}, "config.json: hostname: "},
		{"device twice", func(s *specs.Spec) {
			null := specs.LinuxDevice{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}
			s.Linux.Devices = []specs.LinuxDevice{null, null}
		}, "config.json: linux.devices[1].path: "},
		{"windows section", func(s *specs.Spec) { s.Windows = &specs.Windows{} }, "config.json: windows: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			s := Default()
			tc.mutate(s)
			warnings, err := Validate(s, bundle)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if len(warnings) != 1 || !strings.HasPrefix(warnings[0], tc.warning) {
				t.Errorf("warnings = %q, want one starting with %q", warnings, tc.warning)
			}
		})
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	bundle := newBundle(t)
	s := Default()
	s.Mounts[0].Destination = "proc"
	if _, err := Validate(s, bundle); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if s.Mounts[0].Destination != "proc" {
		t.Errorf("Validate changed mounts[0].destination to %q", s.Mounts[0].Destination)
	}
}

func TestValidateNil(t *testing.T) {
	if _, err := Validate(nil, t.TempDir()); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Validate(nil) = %v, want an invalid-argument error", err)
	}
}

func TestValidateProcessUsesPrefix(t *testing.T) {
	p := Default().Process
	if err := ValidateProcess(p, "process"); err != nil {
		t.Fatalf("ValidateProcess(default): %v", err)
	}
	p.Cwd = "relative"
	err := ValidateProcess(p, "process.json")
	if err == nil || !strings.HasPrefix(err.Error(), "process.json.cwd: ") {
		t.Errorf("ValidateProcess = %v, want an error about process.json.cwd", err)
	}
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("ValidateProcess error %v is not an invalid-argument error", err)
	}
	if err := ValidateProcess(nil, "process"); err == nil {
		t.Error("ValidateProcess(nil) accepted a missing process")
	}
}
