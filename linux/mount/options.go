// Package mount owns the Linux mount mechanisms a container needs: parsing
// an OCI mount "options" list into mount(2) flags, propagation changes,
// mount_setattr(2) attributes and filesystem data, and performing plain,
// bind, idmapped and tmpcopyup mounts with them.
//
// It does not decide what to mount where (the default mounts, masked and
// read-only paths, the rootfs switch) and it does not resolve destinations
// inside the rootfs safely; both belong to the init sequence and the rootfs
// package, which call in here with a target they have already resolved.
package mount

import (
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Options is the parsed form of an OCI mount "options" list
// (config.json mounts[].options).
type Options struct {
	// Flags are the MS_* flags the options set, ready for mount(2); MS_BIND
	// and MS_REC are included for "bind" and "rbind".
	Flags uintptr
	// ClearFlags are the MS_* flags the options explicitly clear ("rw",
	// "suid", "atime" ...). A fresh mount starts with them clear anyway; a
	// bind remount needs them to tell "leave as the source has it" from
	// "the user asked for the opposite".
	ClearFlags uintptr
	// Propagation holds the propagation changes (MS_SHARED, MS_PRIVATE|MS_REC
	// ...) in the order given; each needs its own mount(2) call.
	Propagation []uintptr
	// RecursiveSet and RecursiveClear are MOUNT_ATTR_* values for
	// mount_setattr(2) with AT_RECURSIVE ("rro", "rnosuid", "ratime" ...).
	// An atime option puts MOUNT_ATTR__ATIME in RecursiveClear and its mode
	// in RecursiveSet, as the kernel requires for that enum-like field.
	RecursiveSet, RecursiveClear uint64
	// Bind is set by "bind" and "rbind"; Recursive by "rbind" only.
	Bind, Recursive bool
	// IDMap is the "idmap"/"ridmap" option; nil when absent.
	IDMap *IDMapOpt
	// TmpCopyUp asks for the target directory's existing contents to be
	// copied into the new tmpfs ("tmpcopyup").
	TmpCopyUp bool
	// Data holds every other option, in order, for the filesystem's data
	// string ("mode=755", "size=65536k", "newinstance" ...).
	Data []string
}

// flagOption is a mount(8) option that sets or clears one MS_* flag.
type flagOption struct {
	name  string
	flag  uintptr
	clear bool
}

// flagOptions are the filesystem-independent options of mount(8) that the
// runtime-spec asks runtimes to honour. A static array so that nothing is
// built at start-up.
var flagOptions = [...]flagOption{
	{"async", unix.MS_SYNCHRONOUS, true},
	{"atime", unix.MS_NOATIME, true},
	{"bind", unix.MS_BIND, false},
	{"defaults", 0, false}, // rw,suid,dev,exec,async are what a mount starts with
	{"dev", unix.MS_NODEV, true},
	{"diratime", unix.MS_NODIRATIME, true},
	{"dirsync", unix.MS_DIRSYNC, false},
	{"exec", unix.MS_NOEXEC, true},
	{"iversion", unix.MS_I_VERSION, false},
	{"lazytime", unix.MS_LAZYTIME, false},
	{"loud", unix.MS_SILENT, true},
	{"mand", unix.MS_MANDLOCK, false},
	{"noatime", unix.MS_NOATIME, false},
	{"nodev", unix.MS_NODEV, false},
	{"nodiratime", unix.MS_NODIRATIME, false},
	{"noexec", unix.MS_NOEXEC, false},
	{"noiversion", unix.MS_I_VERSION, true},
	{"nolazytime", unix.MS_LAZYTIME, true},
	{"nomand", unix.MS_MANDLOCK, true},
	{"norelatime", unix.MS_RELATIME, true},
	{"nostrictatime", unix.MS_STRICTATIME, true},
	{"nosuid", unix.MS_NOSUID, false},
	{"nosymfollow", unix.MS_NOSYMFOLLOW, false},
	{"rbind", unix.MS_BIND | unix.MS_REC, false},
	{"relatime", unix.MS_RELATIME, false},
	{"remount", unix.MS_REMOUNT, false},
	{"ro", unix.MS_RDONLY, false},
	{"rw", unix.MS_RDONLY, true},
	{"silent", unix.MS_SILENT, false},
	{"strictatime", unix.MS_STRICTATIME, false},
	{"suid", unix.MS_NOSUID, true},
	{"symfollow", unix.MS_NOSYMFOLLOW, true},
	{"sync", unix.MS_SYNCHRONOUS, false},
}

type propagationOption struct {
	name string
	flag uintptr
}

var propagationOptions = [...]propagationOption{
	{"private", unix.MS_PRIVATE},
	{"rprivate", unix.MS_PRIVATE | unix.MS_REC},
	{"rshared", unix.MS_SHARED | unix.MS_REC},
	{"rslave", unix.MS_SLAVE | unix.MS_REC},
	{"runbindable", unix.MS_UNBINDABLE | unix.MS_REC},
	{"shared", unix.MS_SHARED},
	{"slave", unix.MS_SLAVE},
	{"unbindable", unix.MS_UNBINDABLE},
}

// recursiveOption is an AT_RECURSIVE mount_setattr(2) option. For the atime
// family, attr is the mode that replaces the current one (the kernel treats
// the atime bits as an enum, so "ratime" means "back to the default,
// relatime" rather than "clear noatime").
type recursiveOption struct {
	name  string
	attr  uint64
	clear bool
	atime bool
}

var recursiveOptions = [...]recursiveOption{
	{"ratime", unix.MOUNT_ATTR_RELATIME, false, true},
	{"rdev", unix.MOUNT_ATTR_NODEV, true, false},
	{"rdiratime", unix.MOUNT_ATTR_NODIRATIME, true, false},
	{"rexec", unix.MOUNT_ATTR_NOEXEC, true, false},
	{"rnoatime", unix.MOUNT_ATTR_NOATIME, false, true},
	{"rnodev", unix.MOUNT_ATTR_NODEV, false, false},
	{"rnodiratime", unix.MOUNT_ATTR_NODIRATIME, false, false},
	{"rnoexec", unix.MOUNT_ATTR_NOEXEC, false, false},
	{"rnorelatime", unix.MOUNT_ATTR_STRICTATIME, false, true}, // neither relatime nor noatime
	{"rnostrictatime", unix.MOUNT_ATTR_RELATIME, false, true}, // the kernel default
	{"rnosuid", unix.MOUNT_ATTR_NOSUID, false, false},
	{"rnosymfollow", unix.MOUNT_ATTR_NOSYMFOLLOW, false, false},
	{"rrelatime", unix.MOUNT_ATTR_RELATIME, false, true},
	{"rro", unix.MOUNT_ATTR_RDONLY, false, false},
	{"rrw", unix.MOUNT_ATTR_RDONLY, true, false},
	{"rstrictatime", unix.MOUNT_ATTR_STRICTATIME, false, true},
	{"rsuid", unix.MOUNT_ATTR_NOSUID, true, false},
	{"rsymfollow", unix.MOUNT_ATTR_NOSYMFOLLOW, true, false},
}

const tmpCopyUpOption = "tmpcopyup"

// ParseOptions parses an OCI mount options list. Later options override
// earlier ones ("ro,rw" is read-write), as with mount(8). Options it does not
// know are kept in Data for the filesystem to judge. It fails only for a
// malformed "idmap=" or "ridmap=" value.
func ParseOptions(opts []string) (Options, error) {
	var o Options
	for _, opt := range opts {
		if opt == "" {
			continue
		}
		if f, ok := lookupFlagOption(opt); ok {
			o.applyFlag(f)
			continue
		}
		if p, ok := lookupPropagation(opt); ok {
			o.Propagation = append(o.Propagation, p)
			continue
		}
		if r, ok := lookupRecursive(opt); ok {
			o.applyRecursive(r)
			continue
		}
		if opt == tmpCopyUpOption {
			o.TmpCopyUp = true
			continue
		}
		if isIDMapOption(opt) {
			idmap, err := parseIDMapOption(opt)
			if err != nil {
				return Options{}, err
			}
			o.IDMap = idmap
			continue
		}
		o.Data = append(o.Data, opt)
	}
	return o, nil
}

func (o *Options) applyFlag(f flagOption) {
	if f.clear {
		o.Flags &^= f.flag
		o.ClearFlags |= f.flag
	} else {
		o.Flags |= f.flag
		o.ClearFlags &^= f.flag
	}
	if f.flag&unix.MS_BIND != 0 {
		o.Bind = true
		// "bind" after "rbind" does not undo the recursion: both ask for
		// the tree at source, and dropping submounts silently would expose
		// what they cover.
		o.Recursive = o.Recursive || f.flag&unix.MS_REC != 0
		if o.Recursive {
			o.Flags |= unix.MS_REC
		}
	}
}

func (o *Options) applyRecursive(r recursiveOption) {
	switch {
	case r.atime:
		o.RecursiveClear |= unix.MOUNT_ATTR__ATIME
		o.RecursiveSet = o.RecursiveSet&^unix.MOUNT_ATTR__ATIME | r.attr
	case r.clear:
		o.RecursiveSet &^= r.attr
		o.RecursiveClear |= r.attr
	default:
		o.RecursiveSet |= r.attr
		o.RecursiveClear &^= r.attr
	}
}

// DataString returns Data joined with commas, the form mount(2) takes.
func (o Options) DataString() string {
	return strings.Join(o.Data, ",")
}

// KnownOptions returns, sorted, every option name ParseOptions gives a
// meaning to, for the mountOptions list of the runtime-spec features
// document. Filesystem-specific data options are not included.
func KnownOptions() []string {
	names := make([]string, 0, len(flagOptions)+len(propagationOptions)+len(recursiveOptions)+3)
	for _, f := range flagOptions {
		names = append(names, f.name)
	}
	for _, p := range propagationOptions {
		names = append(names, p.name)
	}
	for _, r := range recursiveOptions {
		names = append(names, r.name)
	}
	names = append(names, idmapOption, ridmapOption, tmpCopyUpOption)
	slices.Sort(names)
	return names
}

func lookupFlagOption(name string) (flagOption, bool) {
	for _, f := range flagOptions {
		if f.name == name {
			return f, true
		}
	}
	return flagOption{}, false
}

func lookupPropagation(name string) (uintptr, bool) {
	for _, p := range propagationOptions {
		if p.name == name {
			return p.flag, true
		}
	}
	return 0, false
}

func lookupRecursive(name string) (recursiveOption, bool) {
	for _, r := range recursiveOptions {
		if r.name == name {
			return r, true
		}
	}
	return recursiveOption{}, false
}
